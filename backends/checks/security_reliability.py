"""Reliability, scripted through probe runs: a redelivered webhook starts nothing new, a failed run can
be retried and resumes, expired run namespaces are swept while active ones stay, and a run paused in
`waiting_mcp` outlives its lease and resumes when answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB
from backends.checks.probe_runs import (
    FEEDBACK_TOOL,
    HINT_FAIL_ONCE,
    HINT_PAUSE,
    Probe,
    ProbeFailed,
    answer,
    created,
    paused_run,
    refresh,
    start,
    wait_for,
)
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError

LEASE_ANNOTATION = "kodex.works/lease-expires-at"
#: the longest a check waits for a lease to run out; longer leases (24h on a real target) are judged
#: from the namespaces as they are instead
LEASE_WINDOW_S = 30.0
#: after a lease runs out, the sweeper has this long to act (the sandbox sweeps every 0.5s)
SWEEP_GRACE_S = 3.0
#: an expired namespace older than this past its lease is a finding on any installation
STALE_AFTER = dt.timedelta(hours=1)
#: after a redelivery, how long the gate watches for a second run
QUIET_S = 2.0


def _needs_both(ctx: CheckContext) -> Outcome | None:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    return None


def _parse(stamp: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


async def _lease(ctx: CheckContext, namespace: str) -> dt.datetime | None:
    for ns in await ctx.cluster.namespaces(f"kubernetes.io/metadata.name={namespace}"):
        return _parse(ns.annotations.get(LEASE_ANNOTATION, ""))
    return None


async def _exists(ctx: CheckContext, namespace: str) -> bool:
    found = await ctx.cluster.namespaces(f"kubernetes.io/metadata.name={namespace}")
    return any(ns.phase != "Terminating" for ns in found)


def _until(moment: dt.datetime) -> float:
    return (moment - dt.datetime.now(dt.UTC)).total_seconds()


@check(
    "sec.idempotency", area="reliability", title="Webhook redelivery starts no second run", scope=Scope.GLOBAL
)
async def idempotency(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "a redelivered webhook (same delivery id) starts no second run"
    command = "probe run; GET hook deliveries; POST .../deliveries/{id}/attempts; count runs"
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
        await wait_for(ctx, probe, rf"run {probe.run_id} .*phase=finished")
        await ctx.github.redeliver(probe.repo, hook, delivery.id)
        await asyncio.sleep(QUIET_S)
        await refresh(ctx, probe)
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    runs = sorted(probe.runs())
    observed = f"delivery {delivery.guid} redelivered; {len(runs)} run(s) on {probe.where}: {', '.join(runs)}"
    out = {"command": command, "output": "\n".join(probe.comments)}
    if len(runs) > 1:
        return failed(
            f"the redelivery of {delivery.guid} started a second run ({runs[-1]})", observed, expected, **out
        )
    return passed(observed, expected, **out)


@check("sec.retry", area="reliability", title="A failed run can be retried and resumes", scope=Scope.GLOBAL)
async def retry(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "after phase=failed, the trigger again starts a run that resumes the failed one and finishes"
    command = "probe run that fails once; re-apply the trigger label"
    try:
        probe = await start(ctx, "a failed run can be retried", HINT_FAIL_ONCE)
        first = probe.run_id
        await wait_for(ctx, probe, rf"run {first} .*phase=failed")
        if probe.label in await ctx.github.issue_labels(probe.repo, probe.issue):
            await ctx.github.remove_label(probe.repo, probe.issue, probe.label)
        await ctx.github.add_label(probe.repo, probe.issue, probe.label)
        second = (await created(ctx, probe, after=first)).run_id
        started = await wait_for(ctx, probe, rf"run {second} .*phase=started")
        await wait_for(ctx, probe, rf"run {second} .*phase=finished")
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    observed = f"{first} failed; retry {second} finished"
    out = {"command": command, "output": "\n".join(probe.comments)}
    if f"resumed from run {first}" not in started:
        return failed(
            f"retry {second} started from scratch: it does not resume {first}", observed, expected, **out
        )
    return passed(observed + f", resumed from {first}", expected, **out)


@check("sec.sweep", area="reliability", title="Expired namespaces swept, active kept", scope=Scope.GLOBAL)
async def sweep(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "a finished run's namespace is deleted once its lease expires; a live run's namespace stays"
    command = "probe run that finishes + the shared paused run; watch both namespaces past their leases"
    try:
        async with paused_run(ctx) as live:
            done = await start(ctx, "expired run namespaces are swept")
            await wait_for(ctx, done, rf"run {done.run_id} .*phase=finished")
            leases = {p.namespace: await _lease(ctx, p.namespace) for p in (done, live)}
            latest = max((t for t in leases.values() if t is not None), default=None)
            if latest is None or _until(latest) > LEASE_WINDOW_S:
                return await _judge_standing(ctx, expected, command)
            deadline = time.monotonic() + max(_until(latest), 0) + SWEEP_GRACE_S
            swept = False
            while not swept:  # polls the API: there is nothing local to wait on
                swept = not await _exists(ctx, done.namespace)
                if swept or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.25)
            kept = await _exists(ctx, live.namespace)
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    observed = (
        f"finished {done.namespace}: {'swept' if swept else 'still there'}; "
        f"live {live.namespace}: {'kept' if kept else 'deleted'}"
    )
    if not swept:
        return failed(
            f"{done.namespace} outlived its lease by {SWEEP_GRACE_S:g}s without being swept",
            observed,
            expected,
            command=command,
        )
    if not kept:
        return failed(
            f"{live.namespace} was deleted while its run was still active",
            observed,
            expected,
            command=command,
        )
    return passed(observed, expected, command=command)


async def _judge_standing(ctx: CheckContext, expected: str, command: str) -> Outcome:
    """Leases longer than the check can wait: no managed namespace may linger long past its lease."""
    now = dt.datetime.now(dt.UTC)
    stale = []
    spaces = await ctx.cluster.namespaces("kodex.works/namespace-purpose=run")
    for ns in spaces:
        lease = _parse(ns.annotations.get(LEASE_ANNOTATION, ""))
        if lease is not None and now - lease > STALE_AFTER:
            stale.append(f"{ns.name} (lease ran out {lease:%Y-%m-%d %H:%M} UTC)")
    observed = f"{len(spaces)} run namespace(s), {len(stale)} long past their lease"
    if stale:
        return failed(f"not swept: {'; '.join(stale[:3])}", observed, expected, command=command)
    return passed(
        observed + " (leases longer than the check window: judged from the standing namespaces)",
        expected,
        command=command,
    )


@check("sec.waiting-mcp", area="reliability", title="A waiting_mcp run is not killed", scope=Scope.GLOBAL)
async def waiting_mcp(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "a run waiting for the owner outlives its lease and timeouts, then resumes when answered"
    command = "probe run paused for owner feedback; wait past its lease; answer; expect resume and finish"
    probe: Probe | None = None
    answered = False
    try:
        probe = await start(ctx, "a waiting_mcp run is not killed", HINT_PAUSE)
        await wait_for(ctx, probe, rf"run {probe.run_id} .*phase=waiting_mcp")
        lease = await _lease(ctx, probe.namespace)
        waited = min(max(_until(lease), 0) + SWEEP_GRACE_S, LEASE_WINDOW_S) if lease else SWEEP_GRACE_S
        await asyncio.sleep(waited)
        killed = [
            b.splitlines()[0]
            for b in await refresh(ctx, probe)
            if f"run {probe.run_id} " in b
            and any(p in b for p in ("phase=finished", "phase=failed", "phase=namespace_deleted"))
        ]
        alive = await _exists(ctx, probe.namespace)
        if killed or not alive:
            why = killed[0] if killed else f"{probe.namespace} was deleted"
            return failed(
                f"the waiting run was ended while it waited: {why}",
                f"waited {waited:.1f}s",
                expected,
                command=command,
                output="\n".join(probe.comments),
            )
        await answer(ctx, probe, "approve", FEEDBACK_TOOL)
        answered = True
        await wait_for(ctx, probe, rf"run {probe.run_id} .*phase=resumed")
        await wait_for(ctx, probe, rf"run {probe.run_id} .*phase=finished")
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    finally:
        if probe is not None and not answered:
            try:
                await answer(ctx, probe, "approve", FEEDBACK_TOOL)  # never leave a probe run waiting
            except AdapterError:
                pass
    past = "past its lease" if lease else "(no lease annotation)"
    observed = f"run {probe.run_id} waited {waited:.1f}s {past}, then resumed and finished"
    return passed(observed, expected, command=command, output="\n".join(probe.comments))
