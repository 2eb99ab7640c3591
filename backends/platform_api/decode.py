"""Staff API JSON → the records of `models`, checked field by field and redacted on the way.

Every shape problem raises `ShapeError` naming where it is (`run.status: expected a string`), which
the adapter turns into one BAD_RESPONSE line: a gate must not act on a half-read answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backends.platform_api import models as m

Redact = Callable[[str], str]


class ShapeError(ValueError):
    """The answer is JSON, but not the shape api.yaml promises."""


class Obj:
    """One JSON object with typed, located accessors (null and a missing optional field read as empty)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ShapeError(f"{where}: expected an object, got {type(data).__name__}")
        self.data = data
        self.where = where

    def _bad(self, key: str, wanted: str) -> ShapeError:
        return ShapeError(f"{self.where}.{key}: expected {wanted}, got {type(self.data.get(key)).__name__}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def opt_text(self, key: str) -> str:
        return "" if self.data.get(key) is None else self.text(key)

    def number(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(key, "an integer")
        return value

    def opt_number(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.number(key)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, "a boolean")
        return value

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return value


def items(data: Any, where: str, key: str = "items") -> list[Any]:
    """The list of a list envelope (`{"items": [...]}`; docset groups use `groups`)."""
    return Obj(data, where).array(key)


def redact_json(value: Any, redact: Redact) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: redact_json(v, redact) for k, v in value.items()}
    return value


def json_text(text: str, where: str, redact: Redact) -> dict[str, Any]:
    """A `*_json` string field as a dict; parsed before redaction so a mask never breaks the JSON."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ShapeError(f"{where}: not JSON") from None
    parsed = redact_json(value, redact)
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def me(data: Any) -> m.Me:
    user = Obj(Obj(data, "me").data.get("user"), "me.user")
    return m.Me(
        user.text("id"),
        user.text("email"),
        user.text("github_login"),
        user.flag("is_platform_admin"),
        user.flag("is_platform_owner"),
    )


def user(data: Any) -> m.User:
    o = Obj(data, "user")
    return m.User(
        o.text("id"),
        o.text("email"),
        o.opt_text("github_login"),
        o.flag("is_platform_admin"),
        o.flag("is_platform_owner"),
    )


def project(data: Any) -> m.Project:
    o = Obj(data, "project")
    return m.Project(o.text("id"), o.text("slug"), o.text("name"), o.text("role"))


def member(data: Any) -> m.ProjectMember:
    o = Obj(data, "member")
    return m.ProjectMember(o.text("project_id"), o.text("user_id"), o.text("email"), o.text("role"))


def binding(data: Any) -> m.RepositoryBinding:
    o = Obj(data, "repository")
    return m.RepositoryBinding(
        id=o.text("id"),
        project_id=o.text("project_id"),
        alias=o.text("alias"),
        role=o.text("role"),
        default_ref=o.text("default_ref"),
        provider=o.text("provider"),
        external_id=o.number("external_id"),
        owner=o.text("owner"),
        name=o.text("name"),
        services_yaml_path=o.text("services_yaml_path"),
        preflight_updated_at=o.opt_text("preflight_updated_at"),
        docs_root_path=o.opt_text("docs_root_path"),
    )


def project_tokens(data: Any) -> m.ProjectGitHubTokens:
    o = Obj(data, "project_github_tokens")
    return m.ProjectGitHubTokens(
        o.text("project_id"),
        o.flag("has_platform_token"),
        o.flag("has_bot_token"),
        o.opt_text("bot_username"),
        o.opt_text("bot_email"),
    )


def deploy_task_item(data: Any) -> m.RuntimeDeployTaskItem:
    o = Obj(data, "runtime_deploy_task_item")
    return m.RuntimeDeployTaskItem(
        run_id=o.text("run_id"),
        status=o.text("status"),
        repository_full_name=o.text("repository_full_name"),
        target_env=o.text("target_env"),
        namespace=o.text("namespace"),
        runtime_mode=o.text("runtime_mode"),
        build_ref=o.text("build_ref"),
        result_target_env=o.opt_text("result_target_env"),
        result_namespace=o.opt_text("result_namespace"),
        created_at=o.opt_text("created_at"),
        updated_at=o.opt_text("updated_at"),
    )


def realtime_items(data: Any, where: str, redact: Redact) -> list[Any]:
    """The items of a list stream's first message (`snapshot`); an `error` message instead raises
    RealtimeRefused with the platform's text, which the adapter reports as the refusal it is."""
    o = Obj(data, where)
    kind = o.text("type")
    if kind == "error":
        raise RealtimeRefused(redact(o.opt_text("message")) or "realtime stream fetch failed")
    if kind != "snapshot":
        raise ShapeError(f"{where}.type: expected snapshot or error, got {kind!r}")
    return [] if o.data.get("items") is None else o.array("items")


class RealtimeRefused(ShapeError):
    """The stream answered with an `error` message instead of a snapshot."""


def docset_change(data: Any) -> m.DocsetChange:
    o = Obj(data, "docset")
    return m.DocsetChange(
        repository_full_name=o.text("repository_full_name"),
        pr_number=o.number("pr_number"),
        pr_url=o.text("pr_url"),
        branch=o.text("branch"),
        files_total=o.opt_number("files_total"),
        files_updated=o.opt_number("files_updated"),
        files_drift=o.opt_number("files_drift"),
    )


def run(data: Any) -> m.Run:
    o = Obj(data, "run")
    return m.Run(
        id=o.text("id"),
        correlation_id=o.text("correlation_id"),
        project_id=o.opt_text("project_id"),
        project_slug=o.text("project_slug"),
        project_name=o.text("project_name"),
        status=o.text("status"),
        created_at=o.text("created_at"),
        issue_number=o.opt_number("issue_number"),
        issue_url=o.opt_text("issue_url"),
        pr_number=o.opt_number("pr_number"),
        pr_url=o.opt_text("pr_url"),
        trigger_kind=o.opt_text("trigger_kind"),
        trigger_label=o.opt_text("trigger_label"),
        job_name=o.opt_text("job_name"),
        job_namespace=o.opt_text("job_namespace"),
        namespace=o.opt_text("namespace"),
        job_exists=o.flag("job_exists", False),
        namespace_exists=o.flag("namespace_exists", False),
        wait_state=o.opt_text("wait_state"),
        wait_reason=o.opt_text("wait_reason"),
        agent_key=o.opt_text("agent_key"),
        started_at=o.opt_text("started_at"),
        finished_at=o.opt_text("finished_at"),
    )


def flow_event(data: Any, redact: Redact) -> m.FlowEvent:
    o = Obj(data, "flow_event")
    payload = json_text(o.text("payload_json"), "flow_event.payload_json", redact)
    return m.FlowEvent(o.text("correlation_id"), o.text("event_type"), o.text("created_at"), payload)


def run_logs(data: Any, redact: Redact) -> m.RunLogs:
    o = Obj(data, "run_logs")
    lines = o.array("tail_lines")
    if not all(isinstance(line, str) for line in lines):
        raise ShapeError("run_logs.tail_lines: expected strings")
    return m.RunLogs(
        o.text("run_id"), o.text("status"), tuple(redact(line) for line in lines), o.opt_text("updated_at")
    )


def approval(data: Any) -> m.ApprovalRequest:
    o = Obj(data, "approval")
    return m.ApprovalRequest(
        id=o.number("id"),
        correlation_id=o.text("correlation_id"),
        tool_name=o.text("tool_name"),
        action=o.text("action"),
        approval_mode=o.text("approval_mode"),
        requested_by=o.text("requested_by"),
        created_at=o.text("created_at"),
        run_id=o.opt_text("run_id"),
        project_id=o.opt_text("project_id"),
        project_slug=o.opt_text("project_slug"),
        project_name=o.opt_text("project_name"),
        issue_number=o.opt_number("issue_number"),
        pr_number=o.opt_number("pr_number"),
        trigger_label=o.opt_text("trigger_label"),
    )


def resolution(data: Any) -> m.ApprovalResolution:
    o = Obj(data, "approval_decision")
    return m.ApprovalResolution(
        o.number("id"),
        o.text("correlation_id"),
        o.text("tool_name"),
        o.text("action"),
        o.text("approval_state"),
        o.opt_text("run_id"),
    )


def deploy_task(data: Any, redact: Redact) -> m.RuntimeDeployTask:
    o = Obj(data, "runtime_deploy_task")
    logs = []
    for raw in o.array("logs"):
        log = Obj(raw, "runtime_deploy_task.logs[]")
        logs.append(
            m.DeployTaskLog(
                log.text("stage"), log.text("level"), redact(log.text("message")), log.opt_text("created_at")
            )
        )
    return m.RuntimeDeployTask(
        run_id=o.text("run_id"),
        runtime_mode=o.text("runtime_mode"),
        namespace=o.text("namespace"),
        target_env=o.text("target_env"),
        slot_no=o.number("slot_no"),
        repository_full_name=o.text("repository_full_name"),
        services_yaml_path=o.text("services_yaml_path"),
        build_ref=o.text("build_ref"),
        deploy_only=o.flag("deploy_only"),
        status=o.text("status"),
        attempts=o.number("attempts"),
        logs=tuple(logs),
        last_error=redact(o.opt_text("last_error")),
        result_namespace=o.opt_text("result_namespace"),
        result_target_env=o.opt_text("result_target_env"),
        terminal_status_source=o.opt_text("terminal_status_source"),
        created_at=o.opt_text("created_at"),
        updated_at=o.opt_text("updated_at"),
        started_at=o.opt_text("started_at"),
        finished_at=o.opt_text("finished_at"),
    )


def preflight(data: Any, redact: Redact) -> m.RepositoryPreflight:
    o = Obj(data, "preflight")
    checks = []
    for raw in o.array("checks"):
        c = Obj(raw, "preflight.checks[]")
        checks.append(m.PreflightCheck(c.text("name"), c.text("status"), redact(c.opt_text("details"))))
    return m.RepositoryPreflight(
        o.text("repository_id"), o.text("status"), tuple(checks), o.text("finished_at")
    )


def docset_group(data: Any) -> m.DocsetGroup:
    o = Obj(data, "docset_group")
    return m.DocsetGroup(o.text("id"), o.text("title"), o.text("description"), o.flag("default_selected"))


def runtime_error(data: Any, redact: Redact) -> m.RuntimeErrorEntry:
    o = Obj(data, "runtime_error")
    return m.RuntimeErrorEntry(
        id=o.text("id"),
        source=o.text("source"),
        level=o.text("level"),
        message=redact(o.text("message")),
        created_at=o.text("created_at"),
        details=json_text(o.text("details_json"), "runtime_error.details_json", redact),
        stack_trace=redact(o.opt_text("stack_trace")),
        correlation_id=o.opt_text("correlation_id"),
        run_id=o.opt_text("run_id"),
        project_id=o.opt_text("project_id"),
        namespace=o.opt_text("namespace"),
        job_name=o.opt_text("job_name"),
        viewed_at=o.opt_text("viewed_at"),
    )
