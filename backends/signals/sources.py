"""The platform files whose behaviour the gate expects, read at one commit of the platform.

Every automatic plan step and every check names one of these in its `source`. When the platform
moves on, re-read these files at the new commit (the README's table lists what each one tells).
"""

from __future__ import annotations

#: the platform's repository and the commit the expectations were read at
PLATFORM_REPOSITORY = "codex-k8s/codex-k8s"
READ_AT = "c9db8ac5"

_RS = "services/internal/control-plane/internal/domain/runstatus"
_WH = "services/internal/control-plane/internal/domain/webhook"
_WORKER = "services/jobs/worker/internal/domain/worker"
_JL = "libs/go/k8s/joblauncher"
_GW = "services/external/api-gateway"

RUN_STATUS_MODEL = f"{_RS}/model.go"
RUN_STATUS_MARKER = f"{_RS}/helpers.go"
RUN_STATUS_RENDER = f"{_RS}/render.go"
RUN_STATUS_TEMPLATE = f"{_RS}/templates/comment_en.md.tmpl"
TRIGGER_WARNING = f"{_RS}/i18n/trigger_warning.yaml"
TRIGGER_CONFLICT = f"{_RS}/templates/trigger_conflict_en.md.tmpl"
NEED_INPUT = f"{_RS}/model.go"
TRIGGER_LABELS = f"{_WH}/trigger_labels.go"
TRIGGER_RIGHTS = f"{_WH}/service_helpers.go"
BUILD_REF_RESOLVER = f"{_WH}/runtime_build_ref_resolver.go"
RUN_NAMESPACE = f"{_WORKER}/run_runtime.go"
AGENT_JOB_CONTEXT = f"{_WORKER}/agent_job_context.go"
LABEL_CATALOG = f"{_WORKER}/agent_label_catalog.go"
NAMESPACE_METADATA = f"{_JL}/metadata.go"
JOB_LAUNCHER = f"{_JL}/launcher.go"
RUNNER_RBAC = f"{_JL}/runtime_namespace.go"
CLEANUP_CRONJOB = "deploy/base/kodex/app.yaml.tpl"
NETWORK_POLICIES = "deploy/base/network-policies/project-agent-baseline.yaml.tpl"
STAFF_API = f"{_GW}/api/server/api.yaml"
STAFF_AUTH = f"{_GW}/internal/transport/http/staff_auth.go"
MCP_TOOLS = "services/internal/control-plane/internal/domain/mcp/model.go"
PROMPT_ENVELOPE = "services/jobs/agent-runner/internal/runner/templates/prompt_envelope.tmpl"
BOOTSTRAP_ENV = "bootstrap/host/config.env.example"
SERVICES_YAML = "services.yaml"
RUNTIME_POLICY = "services/internal/control-plane/internal/app/webhook_runtime_policy.go"
REVIEW_RESOLVER = f"{_WH}/pull_request_review_resolver.go"
WORKER_FINALIZE = f"{_WORKER}/service_queue_finalize.go"
WORKER_CLEANUP = f"{_WORKER}/service_queue_cleanup.go"
LEASE_KEEPALIVE = f"{_WORKER}/namespace_lease_keepalive.go"
RUNTIME_REUSE = f"{_WORKER}/runtime_deploy_reuse.go"
RUN_JOB_LAUNCH = f"{_WORKER}/run_job_launch.go"
MCP_APPROVALS = "services/internal/control-plane/internal/domain/mcp/control_tools.go"
FLOW_EVENTS = "libs/go/domain/flowevent/repository.go"
RUN_STATUSES = "libs/go/domain/run/status.go"
TRIGGER_KIND_NAMES = "libs/go/domain/webhook/constants.go"
_RD = "services/internal/control-plane/internal/domain/runtimedeploy"
_STAFF = "services/internal/control-plane/internal/domain/staff"
#: a push to main of a bound repository is a deploy-only run of the pushed commit (resolvePushMainDeploy)
PUSH_MAIN_DEPLOY = f"{_WH}/service.go"
#: the worker finishes a deploy-only run without an agent; a failed deploy fails the run
WORKER_DISPATCH = f"{_WORKER}/service_queue_dispatch.go"
RUNTIME_DEPLOY = f"{_RD}/service_reconcile.go"
IMAGE_BUILD = f"{_RD}/service_build.go"
RUNTIME_APPLY = f"{_RD}/service_apply.go"
MIGRATE_JOB = "deploy/base/kodex/migrate-job.yaml.tpl"
DEPLOY_TASKS_STREAM = f"{_GW}/internal/transport/http/staff_list_realtime_handler.go"
REPOSITORY_MANAGEMENT = f"{_STAFF}/service_repository_management.go"
PROJECT_TOKENS = f"{_STAFF}/service_methods.go"
PROJECT_DOCS = "services/jobs/agent-runner/internal/runner/helpers_prompt_docs.go"
IMAGE_GC = "bootstrap/remote/25_configure_image_gc.sh"
INTERNAL_REGISTRY = "deploy/base/registry/registry.yaml.tpl"

#: every file a plan step may cite; the plan loader refuses any other `source`
KNOWN: frozenset[str] = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
) - {PLATFORM_REPOSITORY, READ_AT}
