"""The control plane's runtime deploy, simulated: a task per run (runtime_deploy_tasks) that the
reconciler claims, builds the images the registry lacks with Kaniko Jobs, applies the stack and waits
for it, logging each stage where the staff API shows it
(services/internal/control-plane/internal/domain/runtimedeploy/service_reconcile.go, service_build.go,
service_apply.go); and the self-deploy a push to the platform repository's main starts: a deploy-only
run of the pushed commit into the production namespace (webhook/service.go resolvePushMainDeploy,
worker service_queue_dispatch.go).

Error-level task log lines are journalled as runtime errors too (runtimedeploy/service_logs.go).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backends.sandbox import kodex_images as images
from backends.sandbox import kube_seed as seed
from backends.sandbox.faults import register
from backends.sandbox.image_registry import ImageRegistry
from backends.sandbox.staff_state import now_iso

if TYPE_CHECKING:
    from backends.sandbox.platform import Platform
    from backends.sandbox.platform_runs import Timing

register(
    "platform.selfdeploy-stuck",
    "platform",
    "the self-deploy of main never rolls out: the new control-plane pod never becomes ready and the "
    "runtime deploy task stays running",
    ["S1"],
)
register(
    "platform.image-build-fails",
    "platform",
    "Kaniko builds of the project repository's image fail: its full-env runs fail with runtime_deploy_failed",
    ["R1"],
)

RECONCILER = "kodex-control-plane-7c9d8b6f5-x2k4q"
#: a push to main names the commit it brought; the sandbox GitHub's head of main is the SHA-1 of the
#: branch name (github_json.branch)
MAIN = "main"


def main_head_sha() -> str:
    return hashlib.sha1(MAIN.encode()).hexdigest()


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _token(value: str, size: int) -> str:
    """runtimedeploy sanitizeNameToken: lower-case letters, digits and dashes, cut."""
    return "".join(c for c in value.lower() if c.isalnum() or c == "-")[:size].strip("-")


@dataclass(frozen=True)
class DeployRequest:
    run_id: str
    repo: str
    namespace: str
    target_env: str
    build_ref: str
    deploy_only: bool = False
    #: the platform's own repository: its services.yaml is project `kodex` (prerequisites, its images)
    platform_repo: bool = False


class BuildFailed(Exception):
    pass


class RuntimeDeploy:
    def __init__(
        self, platform: Platform, timing: Timing, registry: ImageRegistry, platform_repo: str
    ) -> None:
        self.p = platform
        self.timing = timing
        self.registry = registry
        self.platform_repo = platform_repo

    # -- the task and its log ------------------------------------------------------------------------
    def _task(self, run_id: str, **fields: Any) -> None:
        if self.p.staff is not None:
            self.p.staff.set_deploy_task(run_id, **fields)

    def _log(self, run_id: str, stage: str, level: str, message: str) -> None:
        if self.p.staff is None:
            return
        self.p.staff.add_deploy_log(run_id, stage, level, message)
        if level == "error":
            self.p.staff.add_runtime_error(
                f"control-plane.runtime-deploy.{stage}",
                "error",
                message,
                details={"channel": "runtime_deploy_task_log", "stage": stage},
                run_id=run_id,
            )

    async def _pause(self, share: float = 0.25) -> None:
        await asyncio.sleep(self.timing.run_s * share)

    # -- one task ------------------------------------------------------------------------------------
    async def run(self, req: DeployRequest) -> str:
        """Prepare the runtime for a run: "" when it succeeded, else the task's last_error."""
        rid = req.run_id
        self._task(
            rid,
            status="pending",
            runtime_mode="full-env",
            namespace=req.namespace,
            target_env=req.target_env,
            slot_no=0,
            repository_full_name=req.repo,
            build_ref=req.build_ref,
            deploy_only=req.deploy_only,
        )
        await asyncio.sleep(0)
        self._task(rid, status="running", lease_owner=RECONCILER, attempts=1, started_at=now_iso())
        self._log(rid, "reconcile", "info", f"Task claimed by reconciler {RECONCILER}")
        self._log(rid, "prepare", "info", "Start runtime deploy applyDesiredState")
        try:
            if req.platform_repo:
                self._log(rid, "prerequisites", "info", "Ensuring kodex prerequisites")
            refs = await self._build(req)
            await self._apply(req, refs)
        except BuildFailed as failure:
            error = f"build images: {failure}"
            self._log(rid, "build", "error", f"Build images failed: {failure}")
            self._log(rid, "reconcile", "error", f"Task failed: {error}")
            self._task(rid, status="failed", last_error=error, finished_at=now_iso())
            return error
        self._log(rid, "prepare", "info", "Runtime deploy finished successfully")
        self._log(
            rid, "reconcile", "info", f"Task succeeded for namespace {req.namespace} env {req.target_env}"
        )
        self._task(
            rid,
            status="succeeded",
            result_namespace=req.namespace,
            result_target_env=req.target_env,
            finished_at=now_iso(),
        )
        return ""

    # -- build: what the registry lacks, with a Kaniko Job each ---------------------------------------
    def _wanted(self, req: DeployRequest) -> list[tuple[str, str, str]]:
        """(image name, repository, tag) of the stack's build images, sorted by name."""
        if req.platform_repo:
            return [
                (name, f"{images.REGISTRY_HOST}/{path}", images.MAIN_HEAD[name])
                for name, path in images.build_images(req.target_env).items()
            ]
        name, path = images.PROJECT_IMAGE
        return [(name, f"{images.REGISTRY_HOST}/{path}", req.build_ref[:12])]

    def _in_registry(self, rid: str, name: str, repository: str, tag: str) -> bool:
        path = repository.removeprefix(images.REGISTRY_HOST + "/")
        self._log(rid, "build", "info", f"Registry check for {name}: {path}:{tag}")
        if not self.registry.has(path, tag):
            self._log(rid, "build", "info", f"Registry check result for {name}: missing {path}:{tag}")
            return False
        digest = _digest(f"{path}:{tag}")
        self._log(
            rid, "build", "info", f"Registry check result for {name}: found {path}:{tag} digest={digest}"
        )
        return True

    async def _build(self, req: DeployRequest) -> dict[str, str]:
        rid = req.run_id
        wanted = self._wanted(req)
        present = {name for name, repository, tag in wanted if self._in_registry(rid, name, repository, tag)}
        refs = {name: f"{repository}:{tag}" for name, repository, tag in wanted}
        if len(present) == len(wanted):
            for name in present:
                self._log(rid, "build", "info", f"Build image {name} skipped: tag exists {refs[name]}")
            self._log(
                rid,
                "build",
                "info",
                "All build images already exist in registry, skipping mirror/codegen/kaniko stages",
            )
            return refs
        for name, repository, tag in wanted:
            self._log(rid, "build", "info", f"Build image {name} started")
            if name in present:
                self._log(rid, "build", "info", f"Build image {name} skipped: tag exists {refs[name]}")
                continue
            self._log(rid, "build", "info", f"Build image {name} required: missing tag {refs[name]}")
            await self._kaniko(req, name, repository, tag)
            self._log(rid, "build", "info", f"Build image {name} finished: {refs[name]}")
        return refs

    async def _kaniko(self, req: DeployRequest, name: str, repository: str, tag: str) -> None:
        """deploy/base/kaniko/kaniko-build-job.yaml.tpl: clone the ref, build, push to the registry."""
        job = f"kodex-kaniko-{_token(name, 24)}-{_token(req.run_id, 12)}"[:63].rstrip("-")
        labels = {"app.kubernetes.io/name": "kodex-kaniko", "app.kubernetes.io/component": _token(name, 30)}
        executor = images.mirror_ref("kodex/mirror/kaniko-executor")
        container = {
            "name": "kaniko",
            "image": executor,
            "args": [f"--destination={repository}:latest", f"--destination={repository}:{tag}"],
            "env": [],
            "imagePullPolicy": "IfNotPresent",
        }
        obj = {
            "metadata": seed.meta(job, req.namespace, labels),
            "spec": {
                "backoffLimit": 0,
                "ttlSecondsAfterFinished": 600,
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
        kube = self.p.kube
        if not kube.namespace_exists(req.namespace):
            raise BuildFailed(f'apply kaniko job {job}: namespaces "{req.namespace}" not found')
        pod = kube.run_job(
            obj, [f"INFO[0000] Retrieving image manifest {images.mirror_ref('kodex/mirror/alpine-git')}"]
        )
        await self._pause()
        fails = not req.platform_repo and self.p.faults.active("platform.image-build-fails")
        if fails:
            said = [
                "INFO[0012] RUN go build -o /out/app ./cmd/app",
                "error building image: error building stage: failed to execute command: waiting for process "
                "to exit: exit status 2",
            ]
            kube.end_job(req.namespace, job, pod, False, said)
            logs = "\n".join(said)
            self._log(req.run_id, "build", "error", f"Build image {name} failed logs:\n{logs}")
            raise BuildFailed(f"wait kaniko job {job}: job {req.namespace}/{job} failed; logs: {logs}")
        digest = _digest(f"{repository}:{tag}:{secrets.token_hex(4)}")
        said = [
            "INFO[0031] Taking snapshot of full filesystem...",
            f"INFO[0058] Pushing image to {repository}:{tag}",
            f"INFO[0059] Pushed {repository}@{digest}",
        ]
        kube.end_job(req.namespace, job, pod, True, said)
        path = repository.removeprefix(images.REGISTRY_HOST + "/")
        self.registry.push(path, "latest")
        self.registry.push(path, tag)
        self._log(req.run_id, "build", "info", f"Build image {name} logs:\n" + "\n".join(said))

    # -- apply: migrations, then the app, waiting for each rollout ------------------------------------
    async def _apply(self, req: DeployRequest, refs: dict[str, str]) -> None:
        rid = req.run_id
        for unit in ("namespace", "repo-cache", "postgres"):
            self._log(rid, "apply", "info", f"Apply unit {unit} started")
            self._log(rid, "apply", "info", f"Apply unit {unit} finished")
        if not (req.platform_repo and req.target_env == "production"):
            self._log(rid, "apply", "info", "Apply unit app started")
            await asyncio.sleep(0)
            self._log(rid, "apply", "info", "Apply unit app finished")
            return
        kube, ns = self.p.kube, req.namespace
        self._log(rid, "apply", "info", f"Apply unit {images.MIGRATE_JOB} started")
        migrate = seed.migrate_job(ns, refs[images.MIGRATE_IMAGE], done=False)
        pod = kube.run_job(migrate, ['level=info msg="applying migrations"'])
        await self._pause()
        kube.end_job(ns, images.MIGRATE_JOB, pod, True, ['level=info msg="migrations up to date" version=43'])
        self._log(rid, "apply", "info", f"Apply unit {images.MIGRATE_JOB} finished")
        self._log(rid, "apply", "info", "Apply unit kodex-app started")
        rolling = []
        for deployment, image in images.DEPLOYMENT_IMAGES.items():
            obj = kube.get("deployments", ns, deployment)
            if obj is None or image not in refs:
                continue
            if obj["spec"]["template"]["spec"]["containers"][0]["image"] != refs[image]:
                rolling.append((deployment, kube.start_rollout(ns, deployment, refs[image])))
        await self._pause()
        for deployment, new_pod in rolling:
            if deployment == "kodex-control-plane" and self.p.faults.active("platform.selfdeploy-stuck"):
                message = 'level=fatal msg="connect to postgres: dial tcp 10.43.0.15:5432: connect: refused"'
                kube.stall_rollout(ns, deployment, new_pod, message)
                await asyncio.Event().wait()  # the reconciler keeps waiting for the Deployment
            kube.finish_rollout(ns, deployment, new_pod)
        self._log(rid, "apply", "info", "Apply unit kodex-app finished")

    # -- the self-deploy: a push to main of the platform's repository ---------------------------------
    async def self_deploy(self) -> None:
        """What a push to main of the platform repository leads to: the webhook's deploy-only run of
        the pushed commit into the platform namespace, which the worker hands to the runtime deploy and
        finishes without an agent (no issue, so no status comment)."""
        await self._pause(1.0)
        staff, ns = self.p.staff, self.p.kube.production_namespace
        run_id, build_ref = str(uuid.uuid4()), main_head_sha()
        project_id = self.p.project_id(self.platform_repo)
        if staff is not None:
            staff.upsert_run(
                run_id,
                status="pending",
                project_id=project_id,
                repository_full_name=self.platform_repo,
                runtime_mode="full-env",
                namespace=ns,
                created_at=now_iso(),
            )
        push = {"ref": f"refs/heads/{MAIN}", "after": build_ref, "repository": self.platform_repo}
        self.p.flow(run_id, "webhook.received", {"event_type": "push", **push})
        if staff is not None:
            staff.upsert_run(run_id, status="running", namespace_exists=True)
        error = await self.run(
            DeployRequest(run_id, self.platform_repo, ns, "production", build_ref, True, True)
        )
        finish = {"run_id": run_id, "project_id": project_id, "runtime_mode": "full-env", "namespace": ns}
        if error:
            reason = {"error": launch_error(run_id, error), "reason": "runtime_deploy_failed"}
            self.p.flow(run_id, "run.failed.launch_error", {**finish, "status": "failed", **reason})
            if staff is not None:
                staff.upsert_run(run_id, status="failed")
            return
        self.p.flow(run_id, "run.succeeded", {**finish, "status": "succeeded"})
        if staff is not None:
            staff.upsert_run(run_id, status="succeeded")


def launch_error(run_id: str, error: str) -> str:
    """The worker's error for a failed runtime deploy: the control plane's gRPC status, as the worker
    gets it from PrepareRunEnvironment (runtimedeploy/service_prepare.go waitForTaskResult)."""
    return f"rpc error: code = Internal desc = runtime deploy task failed for run_id={run_id}: {error}"
