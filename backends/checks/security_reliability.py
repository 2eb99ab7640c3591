"""Reliability, scripted through probe runs and judged from the platform's own signals: a redelivered
webhook starts no second run, a failed run can be retried and restores the agent session, run
namespaces are swept once their lease (`kodex.works/namespace-lease-expires-at`) has run out while an
active run's namespace stays, and a run that waits on an approval keeps its namespace alive.

A check that could not look at what it is about (no run namespace, no lease annotation) says so with
SKIP or WARN; it never passes having examined nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB
from backends.checks.probe_runs import (
    HINT_FAIL_ONCE,
    HINT_PRIVILEGED,
    NAMESPACE_TRIGGER,
    NO_FLOW_EVENTS,
    NO_PLATFORM,
    POLL_S,
    Probe,
    ProbeFailed,
    current,
    event_line,
    flow_events,
    live_run,
    look,
    parse_time,
    platform,
    refresh,
    start,
    step_within,
    trigger,
    until,
    wait_for_phase,
    wait_run,
)
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.errors import AdapterError
from backends.results import Status
from backends.signals import kodex, sources

LEASE_ANNOTATION = kodex.LEASE_EXPIRES_AT
#: the longest a check waits for a lease to run out; longer leases (24h on a real target) are judged
#: from the namespaces as they stand instead
LEASE_WINDOW_S = 30.0
#: after a lease runs out, the cleanup has this long to act (the sandbox sweeps every 0.5s)
SWEEP_GRACE_S = 3.0
#: how long an active run must outlive its first lease for "an active namespace is kept" to count as
#: shown (two of the sandbox cleanup's ticks; a real target's 24h lease is judged as it stands)
LIVE_GRACE_S = 1.0
#: an expired run namespace this long past its lease is a finding on any installation (the cleanup
#: CronJob runs every 15 minutes)
STALE_AFTER = dt.timedelta(hours=1)
#: the worker pushes a live run's lease on every tick (KODEX_WORKER_POLL_INTERVAL, 5s by default)
KEEPALIVE_WITHIN_S = 20.0
#: after a redelivery, how long the gate watches for a second run
QUIET_S = 2.0
RESUME_EVENTS = ("run.agent.session.restored", "run.agent.resume.used")
NOTHING_TO_EXAMINE = "no run namespace to examine"
DECISION_REASON = "Gate Room security probe: the wait was observed"
CLEANUP = (
    f"{sources.WORKER_CLEANUP}, CronJob {kodex.CLEANUP_CRONJOB} ({sources.CLEANUP_CRONJOB}), "
    f"annotation {LEASE_ANNOTATION} ({sources.NAMESPACE_METADATA})"
)


def _needs_both(ctx: CheckContext) -> Outcome | None:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    return None


def _until(moment: dt.datetime) -> float:
    return (moment - dt.datetime.now(dt.UTC)).total_seconds()


def _stamp(moment: dt.datetime | None) -> str:
    return f"{moment:%H:%M:%S}" if moment is not None else "none"


@check(
    "sec.idempotency", area="reliability", title="Webhook redelivery starts no second run", scope=Scope.GLOBAL
)
async def idempotency(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = (
        "a redelivered webhook (same delivery id) starts no second run: one run-status comment "
        f"({sources.TRIGGER_RIGHTS}: the run and its comment come only with a newly inserted run; "
        f"runs counted by the marker, {sources.RUN_STATUS_MARKER})"
    )
    command = "probe run; GET hook deliveries; POST .../deliveries/{id}/attempts; count run-status markers"
    try:
        probe = await start(ctx, "webhook redelivery is idempotent")
        hooks = [h for h in await ctx.github.hooks(probe.repo) if h.active]
        if not hooks:
            return failed(
                f"{probe.repo} has no active webhook to redeliver", expected=expected, command=command
            )
        hook = hooks[0].id
        delivery = None
        for d in await ctx.github.deliveries(probe.repo, hook):
            if d.event != "issues" or d.action != "labeled" or d.redelivery:
                continue
            _action, number, label = await ctx.github.delivery_target(probe.repo, hook, d.id)
            if number == probe.issue and label == probe.label:
                delivery = d
                break
        if delivery is None:
            return failed(
                f"no delivery of {probe.label} on {probe.where} found on hook {hook}",
                expected=expected,
                command=command,
            )
        await wait_for_phase(ctx, probe, "finished")
        await ctx.github.redeliver(probe.repo, hook, delivery.id)
        await asyncio.sleep(QUIET_S)
        await refresh(ctx, probe)
        duplicate = ""
        if platform(ctx) is not None:
            seen = [e for e in await flow_events(ctx, probe.run_id) if e.event_type == "webhook.duplicate"]
            duplicate = "; webhook.duplicate recorded" if seen else ""
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    runs = [t.run_id for t in sorted(probe.signals.runs.values(), key=lambda t: t.comment_id)]
    observed = (
        f"delivery {delivery.guid} redelivered; {len(runs)} run(s) on {probe.where}: {', '.join(runs)}"
        + duplicate
    )
    out = {"command": command, "output": probe.transcript()}
    if len(runs) > 1:
        return failed(
            f"the redelivery of {delivery.guid} started a second run ({runs[-1]})", observed, expected, **out
        )
    return passed(observed, expected, **out)


@check("sec.retry", area="reliability", title="A failed run can be retried and resumes", scope=Scope.GLOBAL)
async def retry(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = (
        "after phase=finished run_status=failed, the trigger again starts a new run that finishes "
        "run_status=succeeded and restores the agent session (flow event "
        f"{' or '.join(RESUME_EVENTS)}; {sources.RUN_STATUS_MODEL}, {sources.FLOW_EVENTS})"
    )
    command = "probe run that fails once; re-apply the trigger label; GET /api/v1/staff/runs/{id}/events"
    try:
        probe = await start(ctx, "a failed run can be retried", HINT_FAIL_ONCE)
        first = probe.run_id
        ended = await wait_for_phase(ctx, probe, "finished")
        if ended.run_status != "failed":
            return warned(
                f"run {first} did not fail ({ended.run_status or 'no run_status'}): "
                "the retry was not exercised",
                ended.brief(),
                expected,
                command=command,
                output=probe.transcript(),
            )
        await trigger(ctx, probe)
        second = (await wait_run(ctx, probe)).run_id
        outcome = (await wait_for_phase(ctx, probe, "finished")).run_status
        events = await flow_events(ctx, second) if platform(ctx) is not None else None
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    observed = f"{first} finished failed; retry {second} finished {outcome}"
    out = {"command": command, "output": probe.transcript()}
    resumed = [e for e in events or [] if e.event_type in RESUME_EVENTS]
    if events is not None:
        out["output"] += "\nflow events of the retry: " + ", ".join(event_line(e) for e in events)
        if not resumed:
            return failed(
                f"retry {second} started from scratch (no {' or '.join(RESUME_EVENTS)}) "
                f"and finished {outcome}",
                observed,
                expected,
                **out,
            )
        observed += f"; {', '.join(sorted({e.event_type for e in resumed}))}"
    if outcome != "succeeded":
        return failed(f"retry {second} finished run_status={outcome}", observed, expected, **out)
    if events is None:
        return warned(
            f"whether {second} resumed {first} was not checked: {NO_FLOW_EVENTS}", observed, expected, **out
        )
    return passed(observed, expected, **out)


@check("sec.sweep", area="reliability", title="Expired namespaces swept, active kept", scope=Scope.GLOBAL)
async def sweep(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = (
        "a finished run's namespace is deleted once its lease has run out; an active run's namespace stays "
        f"({CLEANUP})"
    )
    command = (
        f"a {NAMESPACE_TRIGGER} probe run that finishes + the shared live run; "
        "watch both namespaces past their leases"
    )
    try:
        async with live_run(ctx) as live:
            done = await start(ctx, "expired run namespaces are swept", label=NAMESPACE_TRIGGER)
            await wait_for_phase(ctx, done, "finished")
            first = await look(ctx, done.namespace)
            if not first.exists:
                return await _swept_early(ctx, done, expected, command)
            if first.lease is None or _until(first.lease) > LEASE_WINDOW_S:
                why = (
                    f"{done.namespace}'s lease runs until {first.lease:%Y-%m-%d %H:%M} UTC"
                    if first.lease is not None
                    else f"{done.namespace} carries no {LEASE_ANNOTATION}"
                )
                return await judge_standing(ctx, expected, command, why)
            watch = await _watch(ctx, done, first.lease, live)
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    out = {"command": command, "output": f"{done.transcript()}\n{live.transcript()}"}
    observed = watch.observed(done.namespace, live.namespace)
    if watch.swept_after is None:
        return failed(
            f"{done.namespace} outlived its lease by {SWEEP_GRACE_S:g}s without being swept",
            observed,
            expected,
            **out,
        )
    if watch.live_deleted:
        return failed(
            f"{live.namespace} was deleted while its run was still active", observed, expected, **out
        )
    if not watch.live_outlived_lease:
        return warned(
            "the live run ended before its first lease ran out: "
            "that an active namespace is kept was not exercised",
            observed,
            expected,
            **out,
        )
    return passed(observed, expected, **out)


@dataclass
class _Watch:
    swept_after: float | None = None
    marker_deleted: bool = False
    live_deleted: bool = False
    live_outlived_lease: bool = False
    live_lease: dt.datetime | None = None

    def observed(self, done: str, live: str) -> str:
        if self.swept_after is None:
            gone = "still there"
        else:
            gone = f"swept {self.swept_after:.1f}s after its lease"
            gone += ", marker namespace_deleted deleted=true" if self.marker_deleted else ""
        if self.live_deleted:
            kept = "deleted while its run was active"
        elif self.live_outlived_lease:
            kept = f"kept while active, past its first lease ({_stamp(self.live_lease)})"
        else:
            kept = f"kept (its run ended before its first lease, {_stamp(self.live_lease)}, ran out)"
        return f"finished {done}: {gone}; live {live}: {kept}"


async def _watch(ctx: CheckContext, done: Probe, done_lease: dt.datetime, live: Probe) -> _Watch:
    """Poll both namespaces until the finished one is swept (or its lease + grace is over) and the live
    one has outlived its first lease while active (or its run ended, or it was deleted)."""
    lease = live.first_lease or (await look(ctx, live.namespace)).lease
    watch = _Watch(live_lease=lease)
    began = time.monotonic()
    done_deadline = began + max(_until(done_lease), 0) + SWEEP_GRACE_S
    live_ended = False
    while True:
        now = time.monotonic()
        if watch.swept_after is None and not (await look(ctx, done.namespace)).exists:
            watch.swept_after = max(-_until(done_lease), 0.0)
        if not live_ended and not watch.live_deleted:
            live_ended = (await current(ctx, live)).terminal
            if not (await look(ctx, live.namespace)).exists:
                # the run may have ended between the two reads: only an active run's loss counts
                watch.live_deleted = not (await current(ctx, live)).terminal
                live_ended = True
            elif not live_ended and lease is not None and _until(lease) < -LIVE_GRACE_S:
                watch.live_outlived_lease = True
        done_judged = watch.swept_after is not None or now >= done_deadline
        live_judged = live_ended or watch.live_outlived_lease or now >= began + LEASE_WINDOW_S
        if done_judged and live_judged:
            break
        await asyncio.sleep(POLL_S)
    if watch.swept_after is not None:
        with contextlib.suppress(ProbeFailed):
            state = await current(ctx, done)
            watch.marker_deleted = state.phase == "namespace_deleted" and state.deleted
    return watch


async def _swept_early(ctx: CheckContext, done: Probe, expected: str, command: str) -> Outcome:
    state = await current(ctx, done)
    out = {"command": command, "output": done.transcript()}
    if state.deleted:
        return passed(f"{done.namespace} already swept: {state.brief()} deleted=true", expected, **out)
    return failed(
        f"{done.namespace} named by the marker does not exist and the marker does not say it was deleted",
        state.brief(),
        expected,
        **out,
    )


async def judge_standing(ctx: CheckContext, expected: str, command: str, why: str = "") -> Outcome:
    """Leases longer than the check can wait: no managed run namespace may linger long past its lease.
    With no run namespace carrying a lease there is nothing to judge: SKIP, never PASS."""
    selector = kodex.RUN_NAMESPACE_SELECTOR
    command = f"{command}; GET namespaces -l {selector}"
    now = dt.datetime.now(dt.UTC)
    spaces = [ns for ns in await ctx.cluster.namespaces(selector) if ns.phase != "Terminating"]
    leased: list[tuple[Any, dt.datetime]] = []
    unreadable = []
    for ns in spaces:
        stamp = ns.annotations.get(LEASE_ANNOTATION, "")
        lease = parse_time(stamp) if stamp else None
        if lease is not None:
            leased.append((ns, lease))
        elif stamp:
            unreadable.append(f"{ns.name} ({LEASE_ANNOTATION}={stamp!r})")
    note = f" ({why})" if why else ""
    if not leased:
        return Outcome(
            Status.SKIP,
            observed=f"{len(spaces)} run namespace(s) ({selector}), none with a readable {LEASE_ANNOTATION}",
            expected=expected,
            reason=f"{NOTHING_TO_EXAMINE}: {len(spaces)} run namespace(s), none carries {LEASE_ANNOTATION}"
            + note,
            command=command,
        )
    stale = [
        f"{ns.name} (lease ran out {lease:%Y-%m-%d %H:%M} UTC)"
        for ns, lease in leased
        if now - lease > STALE_AFTER
    ]
    observed = (
        f"{len(leased)} run namespace(s) with a lease examined, {len(stale)} past it by more than "
        f"{STALE_AFTER}" + (f"; unreadable lease: {', '.join(unreadable)}" if unreadable else "")
    )
    output = "\n".join(f"{ns.name}  {LEASE_ANNOTATION}={lease:%Y-%m-%dT%H:%M:%SZ}" for ns, lease in leased)
    if stale:
        return failed(
            f"not swept: {'; '.join(stale[:3])}", observed, expected, command=command, output=output
        )
    return passed(
        observed + f"; judged from the standing namespaces{note}", expected, command=command, output=output
    )


@check(
    "sec.waiting-mcp",
    area="reliability",
    title="A run waiting on an approval keeps its namespace",
    scope=Scope.GLOBAL,
)
async def waiting_mcp(ctx: CheckContext) -> Outcome:
    """The platform has no waiting phase: a run held by an MCP approval is simply active (wait_state=mcp)
    and the worker keeps pushing its namespace lease forward, including through waits longer than the
    first lease, so the cleanup never takes it; after the decision the run finishes."""
    if (skip := _needs_both(ctx)) is not None:
        return skip
    api = platform(ctx)
    if api is None:
        return skipped(NO_PLATFORM)
    expected = (
        "while a full-env run waits on an approval its namespace stays and its lease is pushed forward "
        f"(past the first lease when that is short enough to watch); once decided the run finishes "
        f"({sources.LEASE_KEEPALIVE}, {sources.WORKER_CLEANUP}, {sources.MCP_APPROVALS})"
    )
    command = (
        f"{NAMESPACE_TRIGGER} probe run asking for privileged tools; leave the approvals undecided while "
        f"watching {LEASE_ANNOTATION}; deny them; expect phase=finished"
    )
    probe: Probe | None = None
    try:
        probe = await start(
            ctx, "a run waiting on an approval keeps its namespace", HINT_PRIVILEGED, label=NAMESPACE_TRIGGER
        )
        held = probe

        async def waiting() -> list[Any] | None:
            found = await api.approvals(run_id=held.run_id)
            return found if found or (await current(ctx, held)).terminal else None

        if not await until(f"approval request of run {probe.run_id}", probe, waiting, step_within(ctx)):
            return await _ended_while_waiting(ctx, probe, "no approval request listed", expected, command)
        run = await api.run(probe.run_id)
        outcome, observed = await _watch_wait(ctx, probe, expected, command)
        if outcome is not None:
            return outcome
        for approval in await api.approvals(run_id=probe.run_id):
            await api.decide_approval(approval.id, "denied", DECISION_REASON)
        end = await wait_for_phase(ctx, probe, "finished")
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    finally:
        if probe is not None and probe.run_id and api is not None:
            with contextlib.suppress(AdapterError):
                for approval in await api.approvals(run_id=probe.run_id):
                    await api.decide_approval(approval.id, "denied", DECISION_REASON)
    waits = f" (wait_state={run.wait_state}/{run.wait_reason})" if run.wait_state else ""
    observed = f"run {probe.run_id}{waits}: {observed}; after the decision: {end.brief()}"
    return passed(observed, expected, command=command, output=probe.transcript())


async def _watch_wait(
    ctx: CheckContext, probe: Probe, expected: str, command: str
) -> tuple[Outcome | None, str]:
    """Watch a waiting run's namespace: a short lease until it has run out (plus the cleanup's grace),
    a long one until the keep-alive is seen to move it."""
    ns = probe.namespace
    out = {"command": command, "output": probe.transcript()}
    first = await look(ctx, ns)
    if not first.exists or first.lease is None:
        what = "does not exist" if not first.exists else f"carries no {LEASE_ANNOTATION}"
        return failed(f"{ns} of the waiting run {what}", expected=expected, **out), ""
    short = _until(first.lease) <= LEASE_WINDOW_S
    began = time.monotonic()
    deadline = began + (max(_until(first.lease), 0) + SWEEP_GRACE_S if short else KEEPALIVE_WITHIN_S)
    latest = first.lease
    while time.monotonic() < deadline:
        state = await current(ctx, probe)
        if state.terminal:
            return await _ended_while_waiting(ctx, probe, state.brief(), expected, command), ""
        seen = await look(ctx, ns)
        if not seen.exists:
            waited = time.monotonic() - began
            return failed(
                f"{ns} was deleted {waited:.1f}s into the run's wait on an approval",
                f"lease {_stamp(first.lease)} at the start of the wait",
                expected,
                **out,
            ), ""
        if seen.lease is not None and seen.lease > latest:
            latest = seen.lease
            if not short:
                break
        await asyncio.sleep(POLL_S)
    waited = time.monotonic() - began
    moved = f"{LEASE_ANNOTATION} {_stamp(first.lease)} → {_stamp(latest)}"
    if latest <= first.lease:
        return failed(
            f"the lease of {ns} was not pushed forward during a {waited:.0f}s wait on an approval",
            moved,
            expected,
            **out,
        ), ""
    past = "past the lease it had when the wait began" if short else "(a lease too long to outlive here)"
    return None, f"waited {waited:.1f}s on an approval {past}; {ns} kept; {moved}"


async def _ended_while_waiting(
    ctx: CheckContext, probe: Probe, brief: str, expected: str, command: str
) -> Outcome:
    """A run that ended before any decision: killed while waiting, unless it never waited at all (it
    asked for nothing, or its privileged tools went ahead without a decision, which sec.mcp-approval
    reports)."""
    events = await flow_events(ctx, probe.run_id)
    early = [e for e in events if e.event_type in ("approval.approved", "approval.applied")]
    asked = [e for e in events if e.event_type == "approval.requested"]
    out = {"command": command, "output": probe.transcript()}
    if early:
        return warned(
            f"the run did not wait: {event_line(early[0])} came without a decision, "
            "so the wait was not exercised",
            brief,
            expected,
            **out,
        )
    if not asked:
        return warned(
            f"run {probe.run_id} ended without asking for an approval: the wait was not exercised",
            brief,
            expected,
            **out,
        )
    return failed(f"the run ended while it waited on an approval: {brief}", brief, expected, **out)
