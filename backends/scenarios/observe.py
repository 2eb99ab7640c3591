"""What the evidence keeps of each platform run a scenario matched, read when the scenario ends.

The master plan's evidence bundle holds, per run: its id, issue and PR, the label transitions, where
its logs are (control plane, worker, the run's Job), its flow events and its MCP action requests
(docs/delivery/e2e_mvp_master_plan.md, "Формат evidence bundle"). The run itself comes from the staff
API (`GET /api/v1/staff/runs/{id}` and `…/events`, services/external/api-gateway/api/server/api.yaml);
an action request's states are its `approval.*` flow events (payload of
services/internal/control-plane/internal/domain/mcp/audit.go) plus the API's pending list. Log links
are addresses and commands that resolve against the installation: the staff API's run logs, the
Deployments `kodex-control-plane` and `kodex-worker` (deploy/base/kodex/app.yaml.tpl) and the run's
Job `kodex-run-<id>` (libs/go/k8s/joblauncher/launcher.go).

Observing never fails a scenario: what cannot be read becomes a note on the record.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Any

from backends.errors import GateError
from backends.events import RunObserved
from backends.scenarios.context import ScenarioContext
from backends.scenarios.world import GateWorld
from backends.signals import kodex

CONTROL_PLANE = "kodex-control-plane"
WORKER = "kodex-worker"
DEFAULT_PRODUCTION_NAMESPACE = "kodex-prod"
OBSERVE_TIMEOUT_S = 30.0
APPROVAL_PREFIX = "approval."


def _production_namespace(world: GateWorld) -> str:
    settings = getattr(world.cluster, "settings", None)
    return str(getattr(settings, "production_namespace", "") or DEFAULT_PRODUCTION_NAMESPACE)


def log_links(
    run_id: str,
    *,
    production_namespace: str,
    job_name: str = "",
    job_namespace: str = "",
    since: str = "",
    api_url: str = "",
) -> dict[str, str]:
    """Where each of the run's logs can be read: staff API addresses and kubectl commands."""
    q = shlex.quote
    since_flag = f" --since-time={q(since)}" if since else ""
    grep = f" | grep -F {q(run_id)}"
    prod = f"kubectl -n {q(production_namespace)} logs deployment"
    links = {
        "control_plane": f"{prod}/{CONTROL_PLANE}{since_flag}{grep}",
        "worker": f"{prod}/{WORKER}{since_flag}{grep}",
    }
    job = job_name or f"{kodex.JOB_PREFIX}{run_id}"
    if job_namespace:
        links["job"] = f"kubectl -n {q(job_namespace)} logs job/{q(job)} --all-containers"
    if api_url:
        base = f"{api_url.rstrip('/')}/api/v1/staff/runs/{run_id}"
        links["staff_logs"] = f"{base}/logs?tail_lines=2000"
        links["staff_events"] = f"{base}/events?include_payload=true"
    return links


def action_requests(events: list[dict[str, Any]], pending: list[Any]) -> list[dict[str, Any]]:
    """Each MCP action request of the run with its latest state: the `approval.*` flow events in the
    order they happened, then the API's list of requests still waiting."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = str(event.get("event_type", ""))
        if not kind.startswith(APPROVAL_PREFIX):
            continue
        p = event.get("payload") or {}
        key = str(p.get("request_id", "")) or f"{p.get('tool_name', '?')}:{p.get('action', '?')}"
        entry = found.setdefault(key, {"id": p.get("request_id"), "history": []})
        entry.update(
            {
                "tool_name": p.get("tool_name", entry.get("tool_name", "")),
                "action": p.get("action", entry.get("action", "")),
                "approval_mode": p.get("approval_mode", entry.get("approval_mode", "")),
                "requested_by": p.get("requested_by", entry.get("requested_by", "")),
                "state": kind.removeprefix(APPROVAL_PREFIX),
            }
        )
        for field_name in ("actor_id", "applied_by", "reason"):
            if p.get(field_name):
                entry[field_name] = p[field_name]
        state = kind.removeprefix(APPROVAL_PREFIX)
        entry["history"].append({"state": state, "at": event.get("created_at", "")})
    for a in pending:
        entry = found.setdefault(str(a.id), {"id": a.id, "history": []})
        entry.update(
            {
                "tool_name": a.tool_name,
                "action": a.action,
                "approval_mode": a.approval_mode,
                "requested_by": a.requested_by,
                "state": a.status,
            }
        )
    return list(found.values())


async def _one(world: GateWorld, ctx: ScenarioContext, run_id: str) -> RunObserved:
    kind, namespace = ctx.runs.get(run_id, ("", ""))
    notes: list[str] = []
    fields: dict[str, Any] = {
        "trigger_kind": kind,
        "namespace": namespace,
        "job_namespace": ctx.workloads.get(run_id, namespace),
        "repo": ctx.repo,
        "issue": ctx.issue,
        "issue_url": ctx.issue_url,
        "pr": ctx.pr,
        "pr_url": ctx.pr_url,
    }
    events: list[dict[str, Any]] = []
    pending: list[Any] = []
    platform = world.platform
    api_url = ""
    if platform is None:
        notes.append("no [platform] configured: the run, its flow events and action requests were not read")
    else:
        api_url = str(platform.settings.api_url)
        try:
            run = await platform.run(run_id)
            fields.update(
                status=run.status,
                created_at=run.created_at,
                job_name=run.job_name,
                job_namespace=run.job_namespace or fields["job_namespace"],
                namespace=run.namespace or namespace,
                trigger_kind=run.trigger_kind or kind,
                issue=run.issue_number if run.issue_number is not None else ctx.issue,
                issue_url=run.issue_url or ctx.issue_url,
                pr=run.pr_number if run.pr_number is not None else ctx.pr,
                pr_url=run.pr_url or ctx.pr_url,
            )
        except GateError as err:
            notes.append(f"run: {err}")
        try:
            flow = await platform.run_events(run_id)
            events = [
                {"event_type": e.event_type, "created_at": e.created_at, "payload": e.payload}
                for e in reversed(flow)  # the API lists newest first
            ]
        except GateError as err:
            notes.append(f"flow events: {err}")
        try:
            pending = await platform.approvals(run_id=run_id)
        except GateError as err:
            notes.append(f"pending approvals: {err}")
    transitions: list[dict[str, Any]] = []
    threads = [("issue", fields["issue"]), ("pr", fields["pr"])]
    for thread, number in threads:
        if not ctx.repo or not number:
            continue
        try:
            for e in await world.label_events(ctx.repo, int(number)):
                where = f"{thread} #{number}"
                transitions.append(
                    {"thread": where, "label": e.label, "action": e.action, "actor": e.actor, "at": e.at}
                )
        except GateError as err:
            notes.append(f"label transitions of #{number}: {err}")
    if not fields.get("job_namespace"):
        notes.append("no job log: the platform launched no Job for this run (it names no job namespace)")
    links = log_links(
        run_id,
        production_namespace=_production_namespace(world),
        job_name=str(fields.get("job_name") or ""),
        job_namespace=str(fields.get("job_namespace") or ""),
        since=str(fields.get("created_at") or ""),
        api_url=api_url,
    )
    return RunObserved(
        ctx.scenario_id,
        ctx.attempt,
        run_id,
        label_transitions=tuple(transitions),
        logs=links,
        flow_events=tuple(events),
        action_requests=tuple(action_requests(events, pending)),
        notes=tuple(world.redact(n) for n in notes),
        **fields,
    )


async def observe_runs(ctx: ScenarioContext, world: GateWorld) -> list[RunObserved]:
    """One record per run the scenario matched, in the order it matched them."""
    out = []
    for run_id in list(ctx.runs):
        try:
            async with asyncio.timeout(OBSERVE_TIMEOUT_S):
                out.append(await _one(world, ctx, run_id))
        except TimeoutError:
            out.append(
                RunObserved(
                    ctx.scenario_id,
                    ctx.attempt,
                    run_id,
                    trigger_kind=ctx.runs[run_id][0],
                    notes=(f"not read within {OBSERVE_TIMEOUT_S:g}s",),
                )
            )
    return out
