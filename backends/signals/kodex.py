"""The platform's vocabulary that a gate expects: trigger labels and their kinds, the model and
reasoning catalogue, and the `kodex.works/*` keys of run namespaces. Each table names its file."""

from __future__ import annotations

import re

# webhook/trigger_labels.go labelToKind (kinds spelled as libs/go/domain/webhook/constants.go)
_STAGES = (
    "intake",
    "vision",
    "prd",
    "arch",
    "design",
    "plan",
    "dev",
    "doc-audit",
    "qa",
    "release",
    "postdeploy",
    "ops",
    "self-improve",
)
TRIGGER_KINDS: dict[str, str] = {}
for _stage in _STAGES:
    _kind = _stage.replace("-", "_")
    TRIGGER_KINDS[f"run:{_stage}"] = _kind
    TRIGGER_KINDS[f"run:{_stage}:revise"] = f"{_kind}_revise"
TRIGGER_KINDS["run:rethink"] = "rethink"
TRIGGER_KINDS["run:ai-repair"] = "ai_repair"
#: labels that start runs outside the run:* table (need:reviewer on a PR, mode:discussion)
REVIEWER_LABEL = "need:reviewer"
DISCUSSION_LABEL = "mode:discussion"
DISCUSSION_KIND = "discussion"
#: late stages that reuse the candidate of the issue's run:dev lineage (webhook/runtime_build_ref_resolver.go)
CANDIDATE_STAGES = ("qa", "release")
#: kinds the stock services.yaml (webhookRuntime) runs code-only: no run namespace, the Job runs in the
#: worker's namespace and the marker carries no namespace (control-plane webhook_runtime_policy.go)
CODE_ONLY_KINDS = (
    "intake",
    "intake_revise",
    "vision",
    "vision_revise",
    "prd",
    "prd_revise",
    "ai_repair",
    "self_improve",
    "self_improve_revise",
)
PRODUCTION_STAGES = ("postdeploy", "ops")


def trigger_kind(label: str) -> str | None:
    return TRIGGER_KINDS.get(label.strip().lower())


def stage_of(kind: str) -> str:
    """`intake_revise` -> `intake`; a kind that is not a revise is its own stage."""
    return kind.removesuffix("_revise")


# worker/agent_label_catalog.go: brackets are stripped before matching
MODELS = {
    "ai-model-gpt-5.4": "gpt-5.4",
    "ai-model-gpt-5.3-codex": "gpt-5.3-codex",
    "ai-model-gpt-5.3-codex-spark": "gpt-5.3-codex-spark",
    "ai-model-gpt-5.2-codex": "gpt-5.2-codex",
    "ai-model-gpt-5.2": "gpt-5.2",
    "ai-model-gpt-5.1-codex-max": "gpt-5.1-codex-max",
    "ai-model-gpt-5.1-codex-mini": "gpt-5.1-codex-mini",
}
REASONING = {
    "ai-reasoning-low": "low",
    "ai-reasoning-medium": "medium",
    "ai-reasoning-high": "high",
    "ai-reasoning-extra-high": "xhigh",
}
DEFAULT_MODEL, DEFAULT_REASONING = "gpt-5.4", "high"


def catalogue_key(label: str) -> str:
    return label.strip().strip("[]").strip().lower()


# libs/go/domain/webhook/constants.go: labels no webhook code starts a run on (run:debug is only
# passed to the agent as KODEX_RUN_DEBUG_LABEL)
DEBUG_LABEL = "run:debug"
STATE_LABELS = tuple(f"state:{s}" for s in ("blocked", "in-review", "approved", "superseded", "abandoned"))
NEED_LABELS = tuple(f"need:{n}" for n in ("input", "pm", "sa", "qa", "sre", "em", "km", "reviewer"))


def label_catalogue() -> list[str]:
    """Every label a stock installation defines (the bootstrap creates them in each bound repository)."""
    return [
        *TRIGGER_KINDS,
        DEBUG_LABEL,
        *STATE_LABELS,
        *NEED_LABELS,
        DISCUSSION_LABEL,
        *(f"[{key}]" for key in MODELS),
        *(f"[{key}]" for key in REASONING),
    ]


# joblauncher/metadata.go and worker/run_runtime.go
K = "kodex.works/"
MANAGED_BY, MANAGED_BY_WORKER = K + "managed-by", "kodex-worker"
PURPOSE, PURPOSE_RUN = K + "namespace-purpose", "run"
RUNTIME_MODE = K + "runtime-mode"
PROJECT_ID = K + "project-id"
RUN_ID = K + "run-id"
ISSUE_NUMBER = K + "issue-number"
AGENT_KEY = K + "agent-key"
CORRELATION_ID = K + "correlation-id"
LEASE_TTL = K + "namespace-lease-ttl"
LEASE_EXPIRES_AT = K + "namespace-lease-expires-at"
LEASE_UPDATED_AT = K + "namespace-lease-updated-at"
RUN_NAMESPACE_SELECTOR = f"{PURPOSE}={PURPOSE_RUN},{MANAGED_BY}={MANAGED_BY_WORKER}"
DEFAULT_NAMESPACE_PREFIX = "codex-issue"
DEFAULT_PRODUCTION_NAMESPACE = "kodex-prod"
#: buildRunNamespace: <prefix>-<project12>-i<issue>-r<run12>
RUN_NAMESPACE_RE = re.compile(
    r"^(?P<prefix>[a-z0-9-]+)-(?P<project>[a-z0-9]{1,12})-i(?P<issue>\d+)-r(?P<run>[a-z0-9]{1,12})$"
)
# joblauncher/launcher.go and runtime_namespace.go
JOB_PREFIX = "kodex-run-"
JOB_APP_LABEL = ("app.kubernetes.io/name", "kodex-run")
RUNNER_SA = "codex-runner"
RUNNER_SA_READONLY = "codex-runner-readonly"
CLEANUP_CRONJOB = "kodex-worker-namespace-cleanup"
#: the agent env keys the platform sets as literal values (joblauncher buildRunContainerEnv)
LITERAL_SECRET_ENV = (
    "KODEX_MCP_BEARER_TOKEN",
    "KODEX_OPENAI_API_KEY",
    "KODEX_CONTEXT7_API_KEY",
    "KODEX_GIT_BOT_TOKEN",
)
