"""Sandbox staff records → the JSON bodies of api.yaml (services/external/api-gateway/api/server).

Every schema there forbids additional properties, so each body lists exactly its schema's fields;
empty optional strings go out as null, as the api-gateway's casters send them.
"""

from __future__ import annotations

import json
from typing import Any

from backends.sandbox.staff_directory import BindingRecord, ProjectRecord, ProjectTokens, UserRecord
from backends.sandbox.staff_state import ApprovalRecord, FlowEventRecord, RuntimeErrorRecord, StaffState
from backends.sandbox.staff_tokens import Claims

#: RuntimeDeployTask's fields that are never null
_DEPLOY_REQUIRED = frozenset(
    "run_id runtime_mode namespace target_env slot_no repository_full_name services_yaml_path build_ref "
    "deploy_only status attempts terminal_event_seq".split()
)
DEFAULT_TAIL_LINES = 200
MAX_TAIL_LINES = 2000


def _opt(value: Any) -> Any:
    return None if value in ("", None) else value


def error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def me(claims: Claims) -> dict[str, Any]:
    return {
        "user": {
            "id": claims.subject,
            "email": claims.email,
            "github_login": claims.github_login,
            "is_platform_admin": claims.is_admin,
            "is_platform_owner": claims.is_owner,
        }
    }


def user(state: StaffState, u: UserRecord) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "github_user_id": u.github_user_id,
        "github_login": u.github_login,
        "is_platform_admin": state.is_platform_admin(u.github_login),
        "is_platform_owner": state.is_platform_owner(u.github_login),
    }


def project(p: ProjectRecord, role: str) -> dict[str, Any]:
    return {"id": p.id, "slug": p.slug, "name": p.name, "role": role}


def member(project_id: str, u: UserRecord, role: str) -> dict[str, Any]:
    return {"project_id": project_id, "user_id": u.id, "email": u.email, "role": role}


def binding(b: BindingRecord) -> dict[str, Any]:
    return {
        "id": b.id,
        "project_id": b.project_id,
        "alias": b.alias,
        "role": b.role,
        "default_ref": b.default_ref,
        "provider": b.provider,
        "external_id": b.external_id,
        "owner": b.owner,
        "name": b.name,
        "services_yaml_path": b.services_yaml_path,
        "docs_root_path": None,
        "bot_username": None,
        "bot_email": None,
        "preflight_updated_at": _opt(b.preflight_updated_at),
    }


def run(state: StaffState, run_id: str, r: dict[str, Any]) -> dict[str, Any]:
    p = state.projects.get(r["project_id"])
    return {
        "id": run_id,
        "correlation_id": r["correlation_id"],
        "project_id": _opt(r["project_id"]),
        "project_slug": p.slug if p else "",
        "project_name": p.name if p else "",
        "issue_number": r["issue_number"],
        "issue_url": _opt(r["issue_url"]),
        "pr_number": r["pr_number"],
        "pr_url": _opt(r["pr_url"]),
        "trigger_kind": _opt(r["trigger_kind"]),
        "trigger_label": _opt(r["trigger_label"]),
        "job_name": _opt(r["job_name"]),
        "job_namespace": _opt(r["job_namespace"]),
        "namespace": _opt(r["namespace"]),
        "job_exists": bool(r["job_exists"]),
        "namespace_exists": bool(r["namespace_exists"]),
        "wait_state": _opt(r["wait_state"]),
        "wait_reason": _opt(r["wait_reason"]),
        "agent_key": _opt(r["agent_key"]),
        "wait_since": None,
        "last_heartbeat_at": None,
        "status": r["status"],
        "created_at": r["created_at"],
        "started_at": _opt(r["started_at"]),
        "finished_at": _opt(r["finished_at"]),
        "wait_projection": None,
    }


def flow_event(e: FlowEventRecord, include_payload: bool) -> dict[str, Any]:
    return {
        "correlation_id": e.correlation_id,
        "event_type": e.event_type,
        "created_at": e.created_at,
        "payload_json": json.dumps(e.payload) if include_payload else "",
    }


def run_logs(
    run_id: str, r: dict[str, Any], texts: list[str], tail: int, include_snapshot: bool
) -> dict[str, Any]:
    """Tail lines as the platform cuts them: non-empty, trimmed, the newest `tail`."""
    output = "\n".join(texts)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    snapshot = {"runtime": {"codex_exec_output": output, "git_push_output": ""}}
    return {
        "run_id": run_id,
        "status": r["status"],
        "updated_at": _opt(r["finished_at"] or r["started_at"]),
        "snapshot_json": json.dumps(snapshot) if include_snapshot else "{}",
        "tail_lines": lines[-tail:],
    }


def approval(state: StaffState, a: ApprovalRecord) -> dict[str, Any]:
    r = state.runs[a.run_id]
    p = state.projects.get(r["project_id"])
    return {
        "id": a.id,
        "correlation_id": a.correlation_id,
        "run_id": a.run_id,
        "project_id": _opt(r["project_id"]),
        "project_slug": p.slug if p else None,
        "project_name": p.name if p else None,
        "issue_number": r["issue_number"],
        "pr_number": r["pr_number"],
        "trigger_label": _opt(r["trigger_label"]),
        "tool_name": a.tool_name,
        "action": a.action,
        "approval_mode": a.approval_mode,
        "requested_by": a.requested_by,
        "created_at": a.created_at,
    }


def resolution(a: ApprovalRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "correlation_id": a.correlation_id,
        "run_id": a.run_id,
        "tool_name": a.tool_name,
        "action": a.action,
        "approval_state": a.approval_state,
    }


def deploy_task(task: dict[str, Any]) -> dict[str, Any]:
    out = {key: (value if key in _DEPLOY_REQUIRED else _opt(value)) for key, value in task.items()}
    out["logs"] = [{**log, "created_at": _opt(log.get("created_at"))} for log in task["logs"]]
    return out


def runtime_error(e: RuntimeErrorRecord) -> dict[str, Any]:
    return {
        "id": e.id,
        "source": e.source,
        "level": e.level,
        "message": e.message,
        "details_json": json.dumps(e.details),
        "stack_trace": _opt(e.stack_trace),
        "correlation_id": _opt(e.correlation_id),
        "run_id": _opt(e.run_id),
        "project_id": _opt(e.project_id),
        "namespace": _opt(e.namespace),
        "job_name": _opt(e.job_name),
        "viewed_at": None,
        "viewed_by": None,
        "created_at": e.created_at,
    }


def preflight(repository_id: str, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "repository_id": repository_id,
        "status": report["status"],
        "checks": report["checks"],
        "report_json": json.dumps(report),
        "finished_at": report["finished_at"],
    }


def deploy_task_item(task: dict[str, Any]) -> dict[str, Any]:
    """RuntimeDeployTaskListItem: what the runtime deploy tasks list shows of a task."""
    keys = (
        "run_id",
        "status",
        "repository_full_name",
        "target_env",
        "namespace",
        "runtime_mode",
        "build_ref",
    )
    out = {key: task[key] for key in keys}
    for key in ("result_target_env", "result_namespace", "created_at", "updated_at"):
        out[key] = _opt(task.get(key))
    return out


def deploy_tasks_message(
    items: list[dict[str, Any]], page: int, page_size: int, sent_at: str
) -> dict[str, Any]:
    """One `snapshot` message of the runtime deploy tasks realtime stream (api-gateway
    staff_list_realtime_handler.go listRealtimeMessage)."""
    start = (page - 1) * page_size
    return {
        "type": "snapshot",
        "items": [deploy_task_item(t) for t in items[start : start + page_size]],
        "pagination": {"page": page, "page_size": page_size, "total_count": len(items)},
        "sent_at": sent_at,
    }


def project_tokens(project_id: str, tokens: ProjectTokens) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "has_platform_token": tokens.has_platform_token,
        "has_bot_token": tokens.has_bot_token,
        "bot_username": _opt(tokens.bot_username),
        "bot_email": _opt(tokens.bot_email),
    }
