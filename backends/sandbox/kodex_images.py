"""The platform's images as its services.yaml declares them: which are built by the runtime deploy
(`type: build`, a repository in the internal registry and a version tag), which are mirrored, and
which Deployment of the production namespace runs which (deploy/base/kodex/app.yaml.tpl).

The sandbox's production namespace runs the versions of the last deploy; main's head carries the
versions the platform bumped for the change the next self-deploy ships (push_main_versions.go bumps
the services whose `bumpOn` paths the push touched).
"""

from __future__ import annotations

REGISTRY_HOST = "127.0.0.1:5000"

#: services.yaml spec.images of type build: image name -> repository path in the internal registry
BUILD_IMAGES = {
    "agent-runner": "kodex/agent-runner",
    "api-gateway": "kodex/api-gateway",
    "control-plane": "kodex/control-plane",
    "telegram-interaction-adapter": "kodex/telegram-interaction-adapter",
    "worker": "kodex/worker",
}
#: built only for the ai environment (`type: '{{ ternary (eq .Env "ai") "build" "skip" }}'`)
AI_ONLY_BUILD_IMAGES = {"web-console": "kodex/web-console"}

#: spec.versions as the production namespace runs them (the last deploy)
DEPLOYED = {
    "agent-runner": "0.1.90",
    "api-gateway": "0.1.85",
    "control-plane": "0.1.158",
    "telegram-interaction-adapter": "0.1.6",
    "web-console": "0.1.50",
    "worker": "0.1.90",
}
#: spec.versions at main's head: the change on main touched the control plane and the worker
MAIN_HEAD = {**DEPLOYED, "control-plane": "0.1.159", "worker": "0.1.91"}

#: external images the runtime deploy mirrors into the registry (spec.images of type external)
MIRRORED = {
    "kodex/mirror/alpine-git": "2.47.2",
    "kodex/mirror/kaniko-executor": "v1.23.2-debug",
    "kodex/mirror/busybox": "1.36",
    "kodex/mirror/pgvector": "pg16",
    "kodex/mirror/oauth2-proxy": "v7.6.0",
    "kodex/mirror/alpine-k8s": "1.32.2",
}

#: Deployment of the production namespace -> the build image its main container runs
DEPLOYMENT_IMAGES = {
    "kodex": "api-gateway",
    "kodex-control-plane": "control-plane",
    "kodex-worker": "worker",
    "kodex-web-console": "web-console",
    "kodex-telegram-interaction-adapter": "telegram-interaction-adapter",
}
#: the migrations Job runs the control plane's image (deploy/base/kodex/migrate-job.yaml.tpl)
MIGRATE_JOB = "kodex-migrate"
MIGRATE_IMAGE = "control-plane"

#: the project repository's own image, tagged by the commit it was built from (its services.yaml)
PROJECT_IMAGE = ("demo-app", "project-example/demo-app")


def repository(image: str) -> str:
    return {**BUILD_IMAGES, **AI_ONLY_BUILD_IMAGES}[image]


def ref(image: str, version: str) -> str:
    return f"{REGISTRY_HOST}/{repository(image)}:{version}"


def deployed_ref(image: str) -> str:
    return ref(image, DEPLOYED[image])


def mirror_ref(path: str) -> str:
    return f"{REGISTRY_HOST}/{path}:{MIRRORED[path]}"


def build_images(target_env: str) -> dict[str, str]:
    """The images a deploy of the platform builds for this environment, by name (sorted, as the
    runtime deploy walks them)."""
    found = dict(BUILD_IMAGES)
    if target_env == "ai":
        found.update(AI_ONLY_BUILD_IMAGES)
    return dict(sorted(found.items()))
