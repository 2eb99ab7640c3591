"""What the platform adapter hands back: frozen records named and shaped after the staff API's schemas
(services/external/api-gateway/api/server/api.yaml), holding only the fields a gate reads.

Optional fields the API sends as null are None (numbers) or "" (strings). Free text that comes from
runs, agents or people (log lines, event payloads, error messages) is already redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ResolveApprovalDecisionRequest.decision
APPROVAL_DECISIONS = ("approved", "denied", "expired", "failed")
#: ResolveApprovalDecisionResponse.approval_state (mcp_action_requests.approval_state)
APPROVAL_STATES = ("requested", "approved", "denied", "expired", "failed", "applied")
#: agent_runs.status (libs/go/domain/run/status.go)
RUN_STATUSES = ("pending", "running", "waiting_backpressure", "succeeded", "failed", "canceled")
TERMINAL_RUN_STATUSES = ("succeeded", "failed", "canceled")
#: ProjectMember.role; "admin" and "read_write" may trigger runs by label
PROJECT_ROLES = ("read", "read_write", "admin")


@dataclass(frozen=True)
class Me:
    """MeUser: who the staff token is (from the token's claims)."""

    id: str
    email: str
    github_login: str
    is_platform_admin: bool
    is_platform_owner: bool


@dataclass(frozen=True)
class User:
    """User: a row of the platform's allow-list."""

    id: str
    email: str
    github_login: str
    is_platform_admin: bool
    is_platform_owner: bool


@dataclass(frozen=True)
class Project:
    id: str
    slug: str
    name: str
    role: str  # the caller's role in it ("admin" for every project when the caller is a platform admin)


@dataclass(frozen=True)
class ProjectMember:
    project_id: str
    user_id: str
    email: str
    role: str  # PROJECT_ROLES


@dataclass(frozen=True)
class RepositoryBinding:
    id: str
    project_id: str
    alias: str
    role: str  # orchestrator / service / docs / mixed
    default_ref: str
    provider: str
    external_id: int
    owner: str
    name: str
    services_yaml_path: str
    preflight_updated_at: str = ""
    docs_root_path: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class ProjectGitHubTokens:
    """ProjectGitHubTokens: whether a project has GitHub tokens of its own (never their values)."""

    project_id: str
    has_platform_token: bool
    has_bot_token: bool
    bot_username: str = ""
    bot_email: str = ""


@dataclass(frozen=True)
class Run:
    id: str
    correlation_id: str
    project_id: str
    project_slug: str
    project_name: str
    status: str  # RUN_STATUSES
    created_at: str
    issue_number: int | None = None
    issue_url: str = ""
    pr_number: int | None = None
    pr_url: str = ""
    trigger_kind: str = ""
    trigger_label: str = ""
    job_name: str = ""
    job_namespace: str = ""
    namespace: str = ""
    job_exists: bool = False
    namespace_exists: bool = False
    wait_state: str = ""
    wait_reason: str = ""
    agent_key: str = ""
    started_at: str = ""
    finished_at: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES


@dataclass(frozen=True)
class RunNamespace:
    """Where a run's job and namespace are, read from the run (the API's namespace path only deletes)."""

    run_id: str
    namespace: str
    exists: bool
    job_name: str
    job_namespace: str
    job_exists: bool


@dataclass(frozen=True)
class FlowEvent:
    correlation_id: str
    event_type: str
    created_at: str
    payload: dict[str, Any] = field(default_factory=dict)  # payload_json, parsed; strings redacted


@dataclass(frozen=True)
class RunLogs:
    run_id: str
    status: str
    tail_lines: tuple[str, ...]  # redacted
    updated_at: str = ""


@dataclass(frozen=True)
class ApprovalRequest:
    id: int
    correlation_id: str
    tool_name: str
    action: str
    approval_mode: str  # none / owner / delegated
    requested_by: str
    created_at: str
    run_id: str = ""
    project_id: str = ""
    project_slug: str = ""
    project_name: str = ""
    issue_number: int | None = None
    pr_number: int | None = None
    trigger_label: str = ""

    @property
    def status(self) -> str:
        """Its approval_state: always `requested`, the only state the API's approval list holds."""
        return "requested"


@dataclass(frozen=True)
class ApprovalResolution:
    id: int
    correlation_id: str
    tool_name: str
    action: str
    approval_state: str  # APPROVAL_STATES
    run_id: str = ""


@dataclass(frozen=True)
class DeployTaskLog:
    stage: str
    level: str  # info / warn / error
    message: str  # redacted
    created_at: str = ""


@dataclass(frozen=True)
class RuntimeDeployTask:
    run_id: str
    runtime_mode: str
    namespace: str
    target_env: str
    slot_no: int
    repository_full_name: str
    services_yaml_path: str
    build_ref: str
    deploy_only: bool
    status: str  # pending / running / succeeded / failed / canceled
    attempts: int
    logs: tuple[DeployTaskLog, ...] = ()
    last_error: str = ""  # redacted
    result_namespace: str = ""
    result_target_env: str = ""
    terminal_status_source: str = ""
    created_at: str = ""
    updated_at: str = ""
    started_at: str = ""
    finished_at: str = ""


@dataclass(frozen=True)
class RuntimeDeployTaskItem:
    """RuntimeDeployTaskListItem: one row of the runtime deploy tasks list (its realtime stream)."""

    run_id: str
    status: str
    repository_full_name: str
    target_env: str
    namespace: str
    runtime_mode: str
    build_ref: str
    result_target_env: str = ""
    result_namespace: str = ""
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class DocsetChange:
    """ImportDocsetResponse / SyncDocsetResponse: the pull request the platform opened."""

    repository_full_name: str
    pr_number: int
    pr_url: str
    branch: str
    files_total: int | None = None  # import
    files_updated: int | None = None  # sync
    files_drift: int | None = None  # sync


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    status: str  # ok / failed / skipped
    details: str = ""  # redacted


@dataclass(frozen=True)
class RepositoryPreflight:
    repository_id: str
    status: str  # ok / failed
    checks: tuple[PreflightCheck, ...]
    finished_at: str

    @property
    def failed_checks(self) -> tuple[PreflightCheck, ...]:
        return tuple(c for c in self.checks if c.status not in ("ok", "skipped"))


@dataclass(frozen=True)
class DocsetGroup:
    id: str
    title: str
    description: str
    default_selected: bool


@dataclass(frozen=True)
class RuntimeErrorEntry:
    """RuntimeError of the API (renamed: Python has a RuntimeError of its own)."""

    id: str
    source: str
    level: str  # error / warning / critical
    message: str  # redacted
    created_at: str
    details: dict[str, Any] = field(default_factory=dict)  # details_json, parsed; strings redacted
    stack_trace: str = ""  # redacted
    correlation_id: str = ""
    run_id: str = ""
    project_id: str = ""
    namespace: str = ""
    job_name: str = ""
    viewed_at: str = ""
