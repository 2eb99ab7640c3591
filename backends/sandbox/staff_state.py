"""The sandbox platform's staff-side memory: the user table and projects (staff_directory), and what
happens on them: runs, flow events, run logs, approvals, build/deploy tasks, runtime errors and the
repository preflight.

The simulated platform writes here; the sandbox staff API (staff_api) reads it back over HTTP in the
shapes of api.yaml. Names and enums are the platform's: agent_runs statuses, flow event types
(libs/go/domain/flowevent), mcp_action_requests approval states.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from backends.sandbox.faults import FaultSet, register
from backends.sandbox.staff_directory import StaffDirectory
from backends.sandbox.staff_docset import GROUPS as DOCSET_GROUPS
from backends.sandbox.staff_docset import SandboxDocset
from backends.sandbox.staff_enums import (
    APPROVAL_DECISIONS,
    DEPLOY_STATUSES,
    DEPLOY_TASK_FIELDS,
    FLOW_EVENT_TYPES,
    RUN_FIELDS,
    RUN_STATUSES,
    can_transition,
)

register(
    "platform.repo-preflight-fails",
    "platform",
    "the platform's onboarding preflight of the project repository fails its webhook check",
    ["platform.repo-preflight"],
)

#: the check the preflight fault fails, as the platform's GitHub preflight names it
FAILING_PREFLIGHT_CHECK = ("github:platform:webhook_create", "create webhook: 403 Resource not accessible")
PREFLIGHT_CHECKS = (
    "github:tokens:platform_scope",
    "github:tokens:bot_scope",
    "services_yaml:default_branch",
    "services_yaml:get",
    "services_yaml:parse",
    "github:platform:repo_get",
    "github:platform:webhook_create",
    "github:platform:label_create",
    "github:bot:issue_create",
    "github:bot:pr_create",
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FlowEventRecord:
    correlation_id: str
    event_type: str
    payload: dict[str, Any]
    created_at: str = field(default_factory=now_iso)


@dataclass
class ApprovalRecord:
    id: int
    correlation_id: str
    run_id: str
    tool_name: str
    action: str
    params: dict[str, Any]
    requested_by: str
    approval_mode: str = "owner"
    approval_state: str = "requested"
    applied_by: str = ""
    reason: str = ""
    created_at: str = field(default_factory=now_iso)
    decided: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RuntimeErrorRecord:
    id: str
    source: str
    level: str
    message: str
    details: dict[str, Any]
    created_at: str = field(default_factory=now_iso)
    stack_trace: str = ""
    correlation_id: str = ""
    run_id: str = ""
    project_id: str = ""
    namespace: str = ""
    job_name: str = ""


class StaffState(StaffDirectory):
    def __init__(self, faults: FaultSet | None = None, *, gate_login: str = "", fault_repo: str = "") -> None:
        super().__init__(faults, gate_login=gate_login, fault_repo=fault_repo)
        self.runs: dict[str, dict[str, Any]] = {}
        self.events: list[FlowEventRecord] = []
        self.approvals: dict[int, ApprovalRecord] = {}
        self.deploy_tasks: dict[str, dict[str, Any]] = {}
        self.run_logs: dict[str, list[str]] = {}
        self.runtime_errors: list[RuntimeErrorRecord] = []
        self.docset_groups = [
            {
                "id": g.id,
                "title": g.title,
                "description": g.description,
                "default_selected": g.default_selected,
            }
            for g in DOCSET_GROUPS
        ]
        #: docset import and sync; they need the platform's GitHub client (wired by the platform)
        self.docset: SandboxDocset | None = None
        #: preflight checks that fail, by repository id: (check name, details)
        self.preflight_failures: dict[str, list[tuple[str, str]]] = {}
        self._approval_ids = itertools.count(1)

    # -- runs, flow events, logs ---------------------------------------------------------------------
    def upsert_run(self, run_id: str, **fields: Any) -> dict[str, Any]:
        unknown = set(fields) - set(RUN_FIELDS)
        if unknown:
            raise TypeError(f"unknown run field(s): {', '.join(sorted(unknown))}")
        if "status" in fields and fields["status"] not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {', '.join(RUN_STATUSES)}, not {fields['status']!r}")
        run = self.runs.get(run_id)
        if run is None:
            run = self.runs[run_id] = {**RUN_FIELDS, "correlation_id": f"corr-{uuid.uuid4()}"}
            run["created_at"] = now_iso()
        run.update(fields)
        if run["repository_full_name"] and not run["project_id"]:
            project = self.project_of_repo(run["repository_full_name"])
            run["project_id"] = project.id if project is not None else ""
        if run["status"] == "running" and not run["started_at"]:
            run["started_at"] = now_iso()
        if run["status"] in ("succeeded", "failed", "canceled") and not run["finished_at"]:
            run["finished_at"] = now_iso()
        return run

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self.runs.get(run_id)

    def _run(self, run_id: str) -> dict[str, Any]:
        if run_id not in self.runs:
            raise KeyError(f"no run {run_id!r}")
        return self.runs[run_id]

    def add_flow_event(self, run_id: str, event_type: str, payload: dict[str, Any]) -> None:
        if event_type not in FLOW_EVENT_TYPES:
            raise ValueError(f"{event_type!r} is not one of the platform's flow event types")
        self.events.append(FlowEventRecord(self._run(run_id)["correlation_id"], event_type, dict(payload)))

    def run_events(self, run_id: str) -> list[FlowEventRecord]:
        """Newest first, as the platform lists them."""
        correlation = self._run(run_id)["correlation_id"]
        return [e for e in reversed(self.events) if e.correlation_id == correlation]

    def add_run_log(self, run_id: str, text: str) -> None:
        self._run(run_id)
        self.run_logs.setdefault(run_id, []).append(text)

    def set_namespace(self, run_id: str, namespace: str, exists: bool) -> None:
        run = self._run(run_id)
        run.update(namespace=namespace, namespace_exists=exists)
        if not run["job_namespace"]:
            run["job_namespace"] = namespace

    # -- approvals -----------------------------------------------------------------------------------
    def request_approval(self, run_id: str, tool_name: str, action: str, params: dict[str, Any]) -> int:
        run = self._run(run_id)
        approval = ApprovalRecord(
            next(self._ids),
            run["correlation_id"],
            run_id,
            tool_name,
            action,
            dict(params),
            requested_by=f"agent:{run['agent_key'] or 'unknown'}",
        )
        self.approvals[approval.id] = approval
        run.update(wait_state="mcp", wait_reason="approval_pending")
        self.add_flow_event(run_id, "approval.requested", self._approval_payload(approval))
        return approval.id

    def pending_approvals(self) -> list[ApprovalRecord]:
        return [a for a in self.approvals.values() if a.approval_state == "requested"]

    def decide(self, approval_request_id: int, decision: str, actor: str, reason: str = "") -> ApprovalRecord:
        """Resolve a request as the platform does: an impossible transition leaves it as it is."""
        if decision not in (*APPROVAL_DECISIONS, "applied"):
            raise ValueError(f"decision is invalid: {decision!r}")
        approval = self.approvals[approval_request_id]
        if not can_transition(approval.approval_state, decision):
            return approval
        approval.approval_state, approval.applied_by, approval.reason = decision, actor, reason
        self.runs[approval.run_id].update(wait_state="", wait_reason="")
        payload = {**self._approval_payload(approval), "actor_id": actor, "reason": reason}
        self.add_flow_event(approval.run_id, f"approval.{decision}", payload)
        approval.decided.set()
        return approval

    async def wait_decision(self, approval_request_id: int) -> str:
        """Block until the request is decided (through the staff API); its new approval state."""
        approval = self.approvals[approval_request_id]
        await approval.decided.wait()
        return approval.approval_state

    def _approval_payload(self, a: ApprovalRecord) -> dict[str, Any]:
        run = self.runs[a.run_id]
        return {
            "request_id": a.id,
            "run_id": a.run_id,
            "project_id": run["project_id"],
            "tool_name": a.tool_name,
            "action": a.action,
            "approval_mode": a.approval_mode,
            "approval_state": a.approval_state,
            "requested_by": a.requested_by,
            "target_ref": a.params,
        }

    # -- build/deploy tasks, runtime errors, preflight -----------------------------------------------
    def set_deploy_task(self, run_id: str, **fields: Any) -> dict[str, Any]:
        unknown = set(fields) - set(DEPLOY_TASK_FIELDS)
        if unknown:
            raise TypeError(f"unknown runtime deploy task field(s): {', '.join(sorted(unknown))}")
        if "status" in fields and fields["status"] not in DEPLOY_STATUSES:
            raise ValueError(
                f"task status must be one of {', '.join(DEPLOY_STATUSES)}, not {fields['status']!r}"
            )
        task = self.deploy_tasks.get(run_id)
        if task is None:
            run = self.runs.get(run_id, {})
            task = self.deploy_tasks[run_id] = {
                **DEPLOY_TASK_FIELDS,
                "run_id": run_id,
                "namespace": run.get("namespace", ""),
                "repository_full_name": run.get("repository_full_name", ""),
                "runtime_mode": run.get("runtime_mode") or "full-env",
                "created_at": now_iso(),
                "logs": [],
            }
        task.update(fields, updated_at=now_iso())
        return task

    def add_deploy_log(self, run_id: str, stage: str, level: str, message: str) -> None:
        task = self.deploy_tasks.get(run_id) or self.set_deploy_task(run_id)
        task["logs"].append({"stage": stage, "level": level, "message": message, "created_at": now_iso()})
        task["updated_at"] = now_iso()

    def list_deploy_tasks(self, status: str = "", target_env: str = "") -> list[dict[str, Any]]:
        """runtimedeploytask/sql/list_recent.sql: filtered by status and target env, newest update
        first."""
        found = [
            t
            for t in self.deploy_tasks.values()
            if (not status or t["status"] == status) and (not target_env or t["target_env"] == target_env)
        ]
        return sorted(found, key=lambda t: str(t["updated_at"]), reverse=True)

    def add_runtime_error(self, source: str, level: str, message: str, **fields: Any) -> str:
        """Journal one platform error; `fields` as RuntimeError's (details is a dict)."""
        record = RuntimeErrorRecord(
            str(uuid.uuid4()), source, level, message, fields.pop("details", {}), **fields
        )
        self.runtime_errors.append(record)
        return record.id

    def fail_preflight(self, full_name: str, check: str, details: str) -> None:
        binding = next(b for b in self.bindings.values() if b.full_name.lower() == full_name.lower())
        self.preflight_failures.setdefault(binding.id, []).append((check, details))

    def repository_preflight(self, repository_id: str) -> dict[str, Any]:
        """The platform's onboarding preflight report of one bound repository (every check ok unless
        a failure was planted or the preflight fault is on)."""
        binding = self.bindings[repository_id]
        failing = dict(self.preflight_failures.get(repository_id, []))
        if (
            self.faults.active("platform.repo-preflight-fails")
            and binding.full_name.lower() == self.fault_repo.lower()
        ):
            failing.setdefault(*FAILING_PREFLIGHT_CHECK)
        platform_scope, bot_scope = self.token_scopes(repository_id)
        scopes = {"github:tokens:platform_scope": platform_scope, "github:tokens:bot_scope": bot_scope}
        checks = [
            {"name": name, "status": "failed", "details": failing[name]}
            if name in failing
            else {"name": name, "status": "ok", **({"details": scopes[name]} if name in scopes else {})}
            for name in (*PREFLIGHT_CHECKS, *(n for n in failing if n not in PREFLIGHT_CHECKS))
        ]
        finished = now_iso()
        binding.preflight_updated_at = finished
        return {"status": "failed" if failing else "ok", "checks": checks, "finished_at": finished}
