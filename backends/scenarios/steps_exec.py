"""What each step kind does. Actions are idempotent against the live world; expectations poll and
read only the platform's real signals (see backends/plan/steps.py for the vocabulary)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from backends.errors import AdapterError
from backends.plan import steps as S
from backends.redact import MARKER_RE
from backends.scenarios import steps_deploy, steps_projects
from backends.scenarios.context import ScenarioContext
from backends.scenarios.step_base import Progress, StepFailed, StepResult
from backends.scenarios.step_base import poll as _poll
from backends.scenarios.world import GateWorld
from backends.signals import kodex
from backends.signals.thread import RunTrace


def _need_issue(ctx: ScenarioContext) -> int:
    if ctx.issue is None:
        raise StepFailed("no test issue yet (a create_issue step must come first)")
    return ctx.issue


def _need_pr(ctx: ScenarioContext) -> int:
    if ctx.pr is None:
        raise StepFailed("no pull request known yet (an expect_pr step must come first)")
    return ctx.pr


def _target(ctx: ScenarioContext, target: str) -> int:
    return _need_pr(ctx) if target == "pr" else _need_issue(ctx)


def _where(ctx: ScenarioContext, target: str = "issue") -> str:
    number = ctx.pr if target == "pr" else ctx.issue
    return f"{ctx.repo}#{number}"


async def _observe(world: GateWorld, ctx: ScenarioContext) -> None:
    """Read the issue's and the PR's comments into the scenario's followed signals."""
    number = _need_issue(ctx)
    ctx.signals.observe(await world.comments(ctx.repo, number), number)
    if ctx.pr is not None:
        ctx.signals.observe(await world.comments(ctx.repo, ctx.pr), ctx.pr)


async def _max_comment_id(world: GateWorld, ctx: ScenarioContext) -> int:
    ids = [c.id for c in await world.comments(ctx.repo, _need_issue(ctx))]
    if ctx.pr is not None:
        ids += [c.id for c in await world.comments(ctx.repo, ctx.pr)]
    return max(ids, default=0)


# -- actions ----------------------------------------------------------------------------------
async def _create_issue(
    step: S.CreateIssue, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    repo = world.repo(step.repo)
    marker = ctx.marker(session)
    found = await world.find_issue(repo, marker)
    if found is not None:
        number, url = found
        verb = "found (created before the restart)"
        ctx.resumed = True  # what followed the creation may have happened too
    else:
        body = f"{step.body}\n\n{marker}".strip()
        number, url = await world.create_issue(repo, f"{step.title} [{session}]", body)
        verb = "created"
    ctx.repo, ctx.issue, ctx.issue_url = repo, number, url
    return StepResult(f"issue {repo}#{number} {verb}", {"repo": repo, "issue": number, "issue_url": url})


async def _add_label(
    step: S.AddLabel, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    number = _target(ctx, step.target)
    wanted = ctx.occurrence.get(index, 1)
    if ctx.resumed and await world.times_applied_by_me(ctx.repo, number, step.label) >= wanted:
        # the previous process applied it and stopped before recording that: the platform may
        # already have acted on it (and removed it), so applying it again would start a second run
        return StepResult(
            f"{step.label} was applied on #{number} before the restart (label timeline); not applied again",
            {"label_applied": False, "label": step.label, "at": time.time(), "resumed": True},
        )
    ctx.watermark = await _max_comment_id(world, ctx)
    applied = await world.add_label(ctx.repo, number, step.label)
    what = "applied" if applied else "already present (not applied again)"
    return StepResult(
        f"{step.label} {what} on #{number}",
        {"label_applied": applied, "label": step.label, "at": time.time(), "watermark": ctx.watermark},
    )


async def _remove_label(
    step: S.RemoveLabel, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    number = _target(ctx, step.target)
    removed = await world.remove_label(ctx.repo, number, step.label)
    what = "removed" if removed else "already absent"
    return StepResult(
        f"{step.label} {what} on #{number}",
        {"label_removed": removed, "label": step.label, "at": time.time()},
    )


async def _comment(
    step: S.Comment, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    number = _need_issue(ctx)
    marker = ctx.marker(session, index)
    existing = await world.comments(ctx.repo, number)
    if any(marker in c.body for c in existing):
        return StepResult("comment already posted before the restart")
    await world.comment(ctx.repo, number, f"{step.body}\n\n{marker}")
    return StepResult(f"commented on #{number}: {step.body}")


async def _review(
    step: S.Review, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    pr = _need_pr(ctx)
    marker = ctx.marker(session, index)
    if await world.has_review(ctx.repo, pr, marker):
        return StepResult("review already submitted before the restart")
    ctx.watermark = await _max_comment_id(world, ctx)
    await world.review(ctx.repo, pr, step.event, f"{step.body}\n\n{marker}")
    return StepResult(f"{step.event} review on PR #{pr}", {"watermark": ctx.watermark})


async def _decide_approval(
    step: S.DecideApproval, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    """Decide the run's pending request for `tool` through the staff API (the API lists only
    requests still `requested`; one decided before a restart shows as a flow event and is left)."""
    platform = world.need_platform()
    pending = [a for a in await platform.approvals(run_id=ctx.run_id or None) if a.tool_name == step.tool]
    if not pending:
        decided = (
            [
                e.event_type
                for e in await platform.run_events(ctx.run_id)
                if e.event_type.startswith("approval.")
                and e.event_type != "approval.requested"
                and e.payload.get("tool_name") == step.tool
            ]
            if ctx.run_id
            else []
        )
        if decided:
            return StepResult(f"{step.tool} already decided ({decided[0]}); not decided again")
        raise StepFailed(
            f"no pending approval request for {step.tool} on run {ctx.run_id or '?'} in the staff API"
        )
    approval = pending[-1]
    resolution = await platform.decide_approval(
        approval.id, step.decision, f"gate scenario {ctx.scenario_id}"
    )
    return StepResult(
        f"{step.decision} request {approval.id} for {step.tool}: {resolution.approval_state}",
        {"approval_id": approval.id},
    )


async def _wait(step: S.Wait, index: int, ctx: ScenarioContext, world: GateWorld, session: str) -> StepResult:
    await asyncio.sleep(step.duration)
    return StepResult(f"waited {step.duration:g}s")


# -- expectations over the run-status comment ----------------------------------------------------
def _mismatch(step: S.ExpectRun, run: RunTrace, world: GateWorld) -> str | None:
    """Why this run is not the one the step wants, or None when it is."""
    s = run.latest
    wanted = {
        "model": step.model,
        "reasoning_effort": step.reasoning_effort,
        "runtime_access_profile": step.access_profile,
        "runtime_mode": step.runtime_mode,
        "namespace": step.namespace,
        "repository_full_name": world.repo(step.repository) if step.repository else "",
    }
    for key, value in wanted.items():
        if value and getattr(s, key) != value:
            return f"{key}={getattr(s, key) or '(none)'}, expected {value}"
    return None


async def _expect_run(
    step: S.ExpectRun,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    thread = _target(ctx, step.target)
    status = step.wanted_status()

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        await _observe(world, ctx)
        runs = [
            r for r in ctx.signals.runs_after(ctx.watermark) if r.latest.trigger_kind == step.trigger_kind
        ]
        runs = [r for r in runs if r.thread == thread]
        errors = list(ctx.signals.errors.values())
        if not runs:
            said = ctx.signals.refusals_after(ctx.watermark)
            seen = said[-1].brief() if said else ctx.signals.summary()
            if errors:
                seen += f"; unreadable: {errors[-1]}"
            return False, f"no {step.trigger_kind} run on #{thread} yet; platform: {seen}", {}
        run = runs[-1]
        s = run.latest
        detail = {
            "run_id": s.run_id,
            "trigger_kind": s.trigger_kind,
            "namespace": s.namespace,
            "job_namespace": s.job_namespace,
            "phases": list(run.phases),
            # for the gate's timeline: when each phase was first seen, and how the run ended
            "phase_at": {phase: round(at, 3) for phase, at in run.seen_at.items()},
            "run_status": s.run_status,
        }
        reached = run.saw(step.phase) or s.order >= _order(step.phase)
        # a run that ended failed never got to a later phase, though its order is past it; every run
        # was created, though (its comment is the webhook's)
        failed_early = step.phase not in ("finished", "created")
        if s.phase == "finished" and failed_early and s.run_status in ("failed", "canceled"):
            return False, f"{s.brief()} (ended before {step.phase})", detail
        if not reached:
            return False, s.brief(), detail
        if status and s.run_status != status and not (step.phase != "finished" and not s.terminal):
            return False, f"{s.brief()}, expected run_status={status}", detail
        why = _mismatch(step, run, world)
        if why is not None:
            return False, f"{s.brief()}: {why}", detail
        return (
            True,
            s.brief() + (f" model={s.model} reasoning_effort={s.reasoning_effort}" if s.model else ""),
            detail,
        )

    try:
        result = await _poll(step.within, world.poll_interval, probe, progress)
    except StepFailed as failure:
        ctx.learn(failure.detail)  # a run seen, but not as expected, is evidence of the deviation
        raise
    ctx.learn(result.detail)
    if ctx.namespace():
        stamp = await world.lease(ctx.namespace())
        if stamp:
            ctx.note_lease(ctx.namespace(), stamp)
            result.detail["leases"] = {ctx.namespace(): stamp}
    return result


def _order(phase: str) -> int:
    from backends.signals.runstatus import PHASES

    return PHASES.index(phase) + 1


async def _expect_no_run(
    step: S.ExpectNoRun,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    await asyncio.sleep(step.within)
    await _observe(world, ctx)
    runs = ctx.signals.runs_after(ctx.watermark)
    if runs:
        raise StepFailed(f"a run started: {runs[0].latest.brief()}")
    said = ctx.signals.refusals_after(ctx.watermark)
    if said:
        raise StepFailed(f"the platform answered: {said[0].brief()}")
    return StepResult(f"no run and no warning on #{_need_issue(ctx)} within {step.within:g}s")


async def _expect_refusal(
    step: S.ExpectRefusal,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    thread = _target(ctx, step.target)

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        await _observe(world, ctx)
        said = [r for r in ctx.signals.refusals_after(ctx.watermark) if r.thread == thread and r.warning]
        runs = ctx.signals.runs_after(ctx.watermark)
        if not said:
            seen = runs[-1].latest.brief() if runs else "no warning"
            return False, f"on #{thread}: {seen}", {}
        warning = said[-1].warning
        assert warning is not None
        if warning.reason_code != step.reason_code:
            return False, warning.brief(), {}
        if step.need_input and "need:input" not in await world.labels(ctx.repo, thread):
            return False, f"{warning.brief()}; need:input not set on #{thread}", {}
        extra = " and need:input set" if step.need_input else ""
        return True, f"{warning.brief()}{extra}", {"reason_code": warning.reason_code}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_conflict(
    step: S.ExpectConflict,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        await _observe(world, ctx)
        said = [r.conflict for r in ctx.signals.refusals_after(ctx.watermark) if r.conflict is not None]
        hit = [c for c in said if c.trigger_label == step.label]
        if hit:
            return True, hit[-1].brief(), {}
        runs = ctx.signals.runs_after(ctx.watermark)
        return (
            False,
            said[-1].brief() if said else (runs[-1].latest.brief() if runs else "no conflict comment"),
            {},
        )

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_label(
    step: S.ExpectLabel,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        number = _target(ctx, step.target)
        labels = await world.labels(ctx.repo, number)
        present = step.label in labels
        return present == step.present, f"labels on #{number}: {', '.join(sorted(labels)) or '(none)'}", {}

    return await _poll(step.within, world.poll_interval, probe, progress)


def _need_run(ctx: ScenarioContext) -> str:
    if not ctx.run_id or not ctx.namespace():
        raise StepFailed("no run with a namespace matched yet (an expect_run step must come first)")
    return ctx.namespace()


async def _expect_namespace(
    step: S.ExpectNamespace,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    name = _need_run(ctx)

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        found = await world.namespace(name)
        if found is None:
            return not step.present, f"namespace {name} does not exist", {}
        if not step.present:
            return False, f"namespace {name} still exists", {}
        wrong = [
            f"{k}={found.labels.get(k, '(none)')}" for k, v in step.labels.items() if found.labels.get(k) != v
        ]
        missing = [k for k in step.annotations if not found.annotations.get(k)]
        if wrong or missing:
            why = "; ".join([*(f"label {w}" for w in wrong), *(f"no annotation {m}" for m in missing)])
            return False, f"namespace {name}: {why}", {}
        shown = ", ".join(f"{k}={found.labels[k]}" for k in step.labels)
        return True, f"namespace {name} ({shown or 'present'})", {"namespace": name}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_workload(
    step: S.ExpectWorkload,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    name = _need_run(ctx)
    job = f"{kodex.JOB_PREFIX}{ctx.run_id}"

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        jobs = [j.name for j in await world.jobs(name)]
        pods = await world.run_pods(name, ctx.run_id)
        if job in jobs or pods:
            kind = f"Job {job}" if job in jobs else f"Pod {pods[0]}"
            return True, f"{kind} in {name} (label {kodex.RUN_ID}={ctx.run_id})", {}
        return False, f"no Job {job} and no pod labelled {kodex.RUN_ID}={ctx.run_id} in {name}", {}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_same_namespace(
    step: S.ExpectSameNamespace,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    runs = [(kind, ns) for kind, ns in ctx.runs.values() if not step.kinds or kind in step.kinds]
    spaces = sorted({ns for _, ns in runs})
    actual = (
        f"{len(runs)} run(s) ({', '.join(k for k, _ in runs)}) in namespace(s) {', '.join(spaces) or 'none'}"
    )
    if len(runs) < 2 or len(spaces) != 1:
        raise StepFailed(actual, {"namespaces": spaces})
    return StepResult(actual, {"namespaces": spaces})


async def _expect_lease_extended(
    step: S.ExpectLeaseExtended,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    name = _need_run(ctx)

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        stamp = await world.lease(name)
        if stamp:
            ctx.note_lease(name, stamp)
        seen = ctx.leases.get(name, [])
        if not seen:
            return False, f"{name} has no {kodex.LEASE_EXPIRES_AT} annotation", {}
        ok = len(seen) >= 2 and seen[-1] > seen[0]
        return ok, f"{kodex.LEASE_EXPIRES_AT} {seen[0]} → {seen[-1]}", {"leases": {name: seen[-1]}}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_flow_event(
    step: S.ExpectFlowEvent,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    platform = world.need_platform()
    if not ctx.run_id:
        raise StepFailed("no run matched yet (an expect_run step must come first)")
    rx = re.compile(step.match) if step.match else None

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        events = await platform.run_events(ctx.run_id)
        typed = [e for e in events if e.event_type == step.event_type]
        hits = [
            e
            for e in typed
            if rx is None or rx.search(json.dumps(e.payload, ensure_ascii=False, sort_keys=True))
        ]
        if len(hits) >= step.count:
            shown = json.dumps(hits[-1].payload, ensure_ascii=False, sort_keys=True)
            return True, f"{len(hits)} {step.event_type} event(s) of run {ctx.run_id}; last: {shown}", {}
        kinds = sorted({e.event_type for e in events})
        return (
            False,
            f"{len(hits)} matching {step.event_type} of {len(events)} event(s): {', '.join(kinds)[:200]}",
            {},
        )

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_approval(
    step: S.ExpectApproval,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    """A request of the current run for `tool` in the staff API's approval list (pending ones only:
    their state is `requested`); a decided one is judged from its flow events."""
    platform = world.need_platform()

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        pending = [a for a in await platform.approvals(run_id=ctx.run_id or None) if a.tool_name == step.tool]
        if pending:
            a = pending[-1]
            return (
                a.status == step.status,
                f"request {a.id} for {step.tool}: {a.status}",
                {"approval_id": a.id},
            )
        states = [
            e.event_type.removeprefix("approval.")
            for e in await platform.run_events(ctx.run_id)
            if e.event_type.startswith("approval.") and e.payload.get("tool_name") == step.tool
        ]
        seen = (
            f"{step.tool}: {', '.join(states)}"
            if states
            else f"no request for {step.tool} on run {ctx.run_id or '?'}"
        )
        return step.status in states[:1], seen, {}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_access(
    step: S.ExpectAccess,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    name = _need_run(ctx)
    user = f"system:serviceaccount:{name}:{step.account}"
    allowed = await world.can(user, step.verb, step.resource, name)
    actual = f"{step.account} may {'' if allowed else 'not '}{step.verb} {step.resource} in {name}"
    if allowed != step.allowed:
        raise StepFailed(actual)
    return StepResult(actual)


async def _expect_pr(
    step: S.ExpectPr,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    number = _need_issue(ctx)
    if step.state == "none":
        await asyncio.sleep(step.within)
        pulls = await world.pulls(ctx.repo, number)
        if pulls:
            raise StepFailed(f"PR #{pulls[0][0]} was opened")
        return StepResult("no pull request opened")

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        pulls = await world.pulls(ctx.repo, number)
        match = [p for p in pulls if step.state == "any" or p[2] == step.state]
        if match:
            pr, url, state = match[0]
            ctx.pr, ctx.pr_url = pr, url
            return True, f"PR #{pr} {state}", {"pr": pr, "pr_url": url}
        return False, f"{len(pulls)} linked pull request(s)", {}

    return await _poll(step.within, world.poll_interval, probe, progress)


async def _expect_no_secrets(
    step: S.ExpectNoSecrets,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    """Raw text is scanned here and never kept: only kinds and fingerprints leave this function."""
    await _observe(world, ctx)
    texts = [c.body for c in await world.comments(ctx.repo, _need_issue(ctx))]
    logs = 0
    for run_id, (_kind, namespace) in ctx.runs.items():
        where = ctx.workloads.get(run_id) or namespace
        if where:
            texts.append(await world.pod_log(where, run_id))
            logs += 1
    if not ctx.runs:
        raise StepFailed("no run of this scenario to examine (an expect_run step must come first)")
    findings = [f for text in texts for f in world.redactor.findings(text)]
    if findings:
        shown = ", ".join(f"{f.kind} (sha256:{f.fingerprint})" for f in findings[:5])
        raise StepFailed(
            f"{len(findings)} secret(s) found: {shown}",
            {"findings": [[f.kind, f.fingerprint] for f in findings]},
        )
    # the adapters redact at the source, so a leak usually arrives here as a marker: still a leak
    masked = [kind for text in texts for kind in MARKER_RE.findall(text)]
    if masked:
        kinds = ", ".join(sorted(set(masked)))
        raise StepFailed(
            f"{len(masked)} secret(s) in the platform's output (redacted on arrival): {kinds}",
            {"findings": [[kind, ""] for kind in masked]},
        )
    return StepResult(f"no secret in {logs} run log(s) and {len(texts) - logs} comment(s)")


Action = Callable[[Any, int, ScenarioContext, GateWorld, str], Awaitable[StepResult]]
Expectation = Callable[[Any, int, ScenarioContext, GateWorld, str, Progress | None], Awaitable[StepResult]]

ACTIONS: dict[type[S.Step], Action] = {
    S.CreateIssue: _create_issue,
    S.AddLabel: _add_label,
    S.RemoveLabel: _remove_label,
    S.Comment: _comment,
    S.Review: _review,
    S.DecideApproval: _decide_approval,
    S.Wait: _wait,
    S.Docset: steps_projects.docset,
}
EXPECTATIONS: dict[type[S.Step], Expectation] = {
    S.ExpectRun: _expect_run,
    S.ExpectNoRun: _expect_no_run,
    S.ExpectRefusal: _expect_refusal,
    S.ExpectConflict: _expect_conflict,
    S.ExpectLabel: _expect_label,
    S.ExpectNamespace: _expect_namespace,
    S.ExpectWorkload: _expect_workload,
    S.ExpectSameNamespace: _expect_same_namespace,
    S.ExpectLeaseExtended: _expect_lease_extended,
    S.ExpectFlowEvent: _expect_flow_event,
    S.ExpectApproval: _expect_approval,
    S.ExpectAccess: _expect_access,
    S.ExpectPr: _expect_pr,
    S.ExpectNoSecrets: _expect_no_secrets,
    S.ExpectDeploy: steps_deploy.expect_deploy,
    S.ExpectRollout: steps_deploy.expect_rollout,
    S.ExpectProject: steps_projects.expect_project,
}


async def execute(
    step: S.Step,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None = None,
) -> StepResult:
    # an expectation has its own `within`; an action gets a generous ceiling so nothing hangs
    ceiling = getattr(step, "within", None) or getattr(step, "duration", None) or 0
    try:
        async with asyncio.timeout(ceiling + 60):
            if type(step) in ACTIONS:
                return await ACTIONS[type(step)](step, index, ctx, world, session)
            return await EXPECTATIONS[type(step)](step, index, ctx, world, session, progress)
    except AdapterError as err:
        raise StepFailed(str(err)) from None


__all__ = ["StepFailed", "StepResult", "execute"]
