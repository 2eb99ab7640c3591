"""Probe runs: the security checks' own test issues, triggered through GitHub as an operator would and
watched through the platform's own signals: the run-status comment's JSON marker (one comment per
run, edited in place), the "run not created" warnings, the run namespaces, and — when `[platform]` is
configured — the staff API's flow events and approval requests.

A probe issue's body carries plain-English requests the agent honours (ask for privileged MCP tools,
fail once, trigger the next stage itself, work slowly). Several checks need a run namespace with a
live agent in it; they share one slow run, so a real target pays for one extra agent run, not five.

Every wait is bounded and ends in a `ProbeFailed` whose message is one line saying what was last
seen; a malformed marker on a probe issue ends the wait at once with the reader's own line.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from backends.checks.registry import CheckContext
from backends.signals import kodex, sources
from backends.signals.runstatus import PHASES, RunStatus
from backends.signals.thread import Refusal, RunTrace, ThreadSignals

T = TypeVar("T")

#: code-only: no image build, no namespace (the cheapest run a real target can make)
TRIGGER = "run:intake"
#: full-env: the run gets a namespace of its own (stock services.yaml webhookRuntime)
NAMESPACE_TRIGGER = "run:arch"
POLL_S = 0.25
#: polls slow down to this while a step waits, so a long real run does not eat the API rate limit
POLL_MAX_S = 1.0
#: how long a probe waits for the platform to answer one step, at least (the sandbox's scale)...
STEP_WITHIN_S = 20.0
#: ...and on a real platform, before `[timing] scale`: a full-env run builds its images (Kaniko may
#: take 1800 s) before its agent starts
REAL_STEP_S = 2700.0
HINT_PRIVILEGED = "Please sync the runtime secret and create the database through the MCP tools."
HINT_FAIL_ONCE = "Please fail the first attempt (the gate checks that a retry resumes it)."
HINT_TRIGGER_NEXT = "Please trigger the next stage yourself when you are done."
HINT_SLOW = "Please work slowly: the gate watches your run while it is active."
#: the marker names the run namespace from preparing_runtime on (worker/service_queue_dispatch.go), while
#: the runtime deploy is still creating it, bare (runtimedeploy/service_prerequisites.go); the worker
#: upserts `started` only once EnsureNamespace has labelled it and made its ServiceAccount, Role,
#: RoleBinding and quota (worker/run_job_launch.go launchPreparedRunWorkload,
#: joblauncher/runtime_namespace.go EnsureNamespace)
SETUP_DONE = "started"
#: what a check reading a live run's namespace says about when it read it (in its expectation)
SETUP_READ = (
    f"is read once the run's marker says phase={SETUP_DONE} ({sources.RUN_JOB_LAUNCH}), and counts only if "
    "still there after the read"
)
#: live runs a check takes in turn when the namespace it read was deleted under it
LOOK_ATTEMPTS = 3
NO_PLATFORM = "no [platform] configured: approvals are decided in the staff API"
NO_FLOW_EVENTS = "no [platform] configured: flow events are read from the staff API"
_SHARED = "security.shared-live-run"


class ProbeFailed(Exception):
    """The platform did not do what the probe waited for; the message says what was last seen."""


class NamespaceGone(ProbeFailed):
    """Each live run's namespace was deleted while a check read it: nothing complete was examined."""


@dataclass
class Probe:
    repo: str
    issue: int
    label: str = TRIGGER
    #: the run the last trigger started, and its namespace ("" for a code-only run)
    run_id: str = ""
    namespace: str = ""
    #: the highest comment id before the last trigger: what answers it comes after (ids only grow)
    watermark: int = 0
    #: the highest comment id seen on the issue so far
    newest: int = 0
    signals: ThreadSignals = field(default_factory=ThreadSignals)
    #: the lease the run namespace got at launch, before any keep-alive moved it (when it was read)
    first_lease: dt.datetime | None = None

    @property
    def where(self) -> str:
        return f"{self.repo}#{self.issue}"

    def trace(self, run_id: str = "") -> RunTrace | None:
        return self.signals.runs.get(run_id or self.run_id)

    def state(self, run_id: str = "") -> RunStatus | None:
        trace = self.trace(run_id)
        return trace.latest if trace is not None else None

    def transcript(self) -> str:
        """What the platform said on the probe issue, one line per run and refusal (for the output)."""
        lines = [f"probe {self.where} ({self.label})"]
        for trace in sorted(self.signals.runs.values(), key=lambda t: t.comment_id):
            lines.append(f"  {trace.latest.brief()}; phases seen: {' → '.join(trace.phases)}")
        for refusal in self.signals.refusals.values():
            lines.append(f"  comment {refusal.comment_id}: {refusal.brief()}")
        return "\n".join(lines)


def platform(ctx: CheckContext) -> Any:
    """The staff API adapter, or None when `[platform]` is not configured."""
    return ctx.platform


def step_within(ctx: CheckContext) -> float:
    return max(STEP_WITHIN_S, REAL_STEP_S * ctx.settings.timing.scale)


def _repo(ctx: CheckContext) -> str:
    assert ctx.settings.github is not None
    return ctx.settings.github.platform_repo


def needs_namespace(label: str) -> bool:
    kind = kodex.trigger_kind(label)
    return kind is not None and kind not in kodex.CODE_ONLY_KINDS


async def until(what: str, probe: Probe | None, find: Callable[[], Awaitable[T | None]], within: float) -> T:
    """Poll `find` until it returns something; ProbeFailed naming `what` and the last signal if not."""
    deadline = time.monotonic() + within
    delay = POLL_S
    while True:
        found = await find()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            where = f"{probe.where}: " if probe is not None else ""
            last = f"; last: {probe.signals.summary()}" if probe is not None else ""
            raise ProbeFailed(f"{where}no {what} within {within:g}s{last}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_S)


async def refresh(ctx: CheckContext, probe: Probe) -> ThreadSignals:
    comments = await ctx.github.comments(probe.repo, probe.issue)
    probe.newest = max([probe.newest, *(c.id for c in comments)])
    probe.signals.observe(comments, probe.issue)
    if probe.signals.errors:
        raise ProbeFailed(f"{probe.repo} {next(iter(probe.signals.errors.values()))}")
    return probe.signals


async def current(ctx: CheckContext, probe: Probe, run_id: str = "") -> RunStatus:
    await refresh(ctx, probe)
    state = probe.state(run_id)
    if state is None:
        raise ProbeFailed(f"{probe.where}: the run-status comment of run {run_id or probe.run_id} is gone")
    return state


async def start(
    ctx: CheckContext, purpose: str, *hints: str, label: str = TRIGGER, drop_label: bool = False
) -> Probe:
    """A new probe issue, triggered; returns once the run exists (and, for a full-env trigger, once its
    marker names the run namespace). `drop_label` takes the trigger label off again at once: the run
    comes from the `labeled` event, and a label still there would be a conflict for the next one."""
    repo = _repo(ctx)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    body = "\n".join([f"Gate Room security probe: {purpose}.", *hints, f"<!-- gateroom-probe {stamp} -->"])
    number, _ = await ctx.github.create_issue(repo, f"Gate Room probe: {purpose} [{stamp}]", body)
    probe = Probe(repo, number, label)
    await trigger(ctx, probe)
    if drop_label:
        await ctx.github.remove_label(repo, number, label)
    await wait_run(ctx, probe)
    if needs_namespace(label):
        await wait_namespace(ctx, probe)
    return probe


async def trigger(ctx: CheckContext, probe: Probe) -> None:
    """Apply the probe's trigger label (again: removed first, so GitHub sends a fresh `labeled`)."""
    await refresh(ctx, probe)
    probe.watermark = probe.newest
    if probe.label in await ctx.github.issue_labels(probe.repo, probe.issue):
        await ctx.github.remove_label(probe.repo, probe.issue, probe.label)
    await ctx.github.add_label(probe.repo, probe.issue, probe.label)


async def wait_run(ctx: CheckContext, probe: Probe, within: float | None = None) -> RunStatus:
    """The run answering the last trigger (its comment is newer than the watermark); a refusal instead
    ends the wait with the reason code."""

    async def find() -> RunStatus | None:
        signals = await refresh(ctx, probe)
        fresh = signals.runs_after(probe.watermark)
        if fresh:
            return fresh[0].latest
        refused = signals.refusals_after(probe.watermark)
        if refused:
            raise ProbeFailed(f"{probe.where}: {probe.label} was refused: {refused[0].brief()}")
        return None

    state = await until(f"run-status comment after {probe.label}", probe, find, within or step_within(ctx))
    probe.run_id, probe.namespace = state.run_id, state.namespace
    return state


async def wait_namespace(ctx: CheckContext, probe: Probe, within: float | None = None) -> str:
    """The run namespace the marker names (it appears from phase preparing_runtime on)."""

    async def find() -> str | None:
        state = await current(ctx, probe)
        if state.namespace:
            return state.namespace
        if state.runtime_mode == "code-only" or state.terminal:
            raise ProbeFailed(
                f"{probe.where}: {state.brief()} has no run namespace "
                f"(runtime_mode={state.runtime_mode or '?'}): a full-env trigger was expected"
            )
        return None

    probe.namespace = await until(
        f"namespace in run {probe.run_id}'s marker", probe, find, within or step_within(ctx)
    )
    return probe.namespace


async def wait_for_phase(
    ctx: CheckContext,
    probe: Probe,
    phase: str,
    run_status: str | None = None,
    *,
    run_id: str = "",
    within: float | None = None,
) -> RunStatus:
    """The run's state once it has reached `phase` (or a later one: an edited comment may skip phases
    between two polls), with `run_status` if given; a run that ends otherwise fails at once."""
    target = PHASES.index(phase)
    rid = run_id or probe.run_id

    async def find() -> RunStatus | None:
        state = await current(ctx, probe, rid)
        if run_status and state.terminal and state.run_status and state.run_status != run_status:
            raise ProbeFailed(f"{probe.where}: {state.brief()}, expected run_status={run_status}")
        if PHASES.index(state.phase) >= target and (run_status is None or state.run_status == run_status):
            return state
        return None

    wanted = f"phase={phase}" + (f" run_status={run_status}" if run_status else "")
    return await until(f"{wanted} for run {rid}", probe, find, within or step_within(ctx))


async def wait_refusal(
    ctx: CheckContext, probe: Probe, reason_code: str | None = None, within: float | None = None
) -> Refusal:
    """A "run not created" warning after the watermark (with `reason_code`, when given)."""

    async def find() -> Refusal | None:
        for refusal in (await refresh(ctx, probe)).refusals_after(probe.watermark):
            w = refusal.warning
            if w is not None and (reason_code is None or w.reason_code == reason_code):
                return refusal
        return None

    what = f"warning with reason code {reason_code}" if reason_code else "run-not-created warning"
    return await until(what, probe, find, within or step_within(ctx))


# -- run namespaces and their leases -----------------------------------------------------------------
def parse_time(stamp: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Seen:
    """One look at a namespace: whether it is there (and not terminating), and its lease."""

    exists: bool
    lease: dt.datetime | None = None
    #: the annotation's text, even when it does not parse
    stamp: str = ""


async def look(ctx: CheckContext, namespace: str) -> Seen:
    for ns in await ctx.cluster.namespaces(f"kubernetes.io/metadata.name={namespace}"):
        if ns.name == namespace:
            stamp = ns.annotations.get(kodex.LEASE_EXPIRES_AT, "")
            return Seen(ns.phase != "Terminating", parse_time(stamp) if stamp else None, stamp)
    return Seen(False)


# -- the staff API: flow events and approvals --------------------------------------------------------
async def flow_events(ctx: CheckContext, run_id: str) -> list[Any]:
    """The run's flow events, oldest first (the API lists them newest first)."""
    return list(reversed(await platform(ctx).run_events(run_id)))


def event_tool(event: Any) -> str:
    # approval events say tool_name, the mcp.tool.* events say tool (mcp/audit.go)
    payload = event.payload
    return str(payload.get("tool_name") or payload.get("tool") or "")


def event_request(event: Any) -> int | None:
    value = event.payload.get("request_id", event.payload.get("approval_request_id"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def about(event: Any, request_id: int, tool: str) -> bool:
    """Whether a flow event concerns one approval request (by id when it carries one, else by tool)."""
    found = event_request(event)
    return found == request_id if found is not None else event_tool(event) == tool


def concerning(request_id: int, tool: str) -> Callable[[Any], bool]:
    return lambda event: about(event, request_id, tool)


def event_line(event: Any) -> str:
    tool = event_tool(event)
    request = event_request(event)
    return " ".join(x for x in (event.event_type, tool, f"#{request}" if request is not None else "") if x)


async def wait_event(
    ctx: CheckContext,
    probe: Probe,
    run_id: str,
    types: Iterable[str],
    match: Callable[[Any], bool] = lambda _e: True,
    within: float | None = None,
) -> Any:
    wanted = tuple(types)

    async def find() -> Any:
        for event in await flow_events(ctx, run_id):
            if event.event_type in wanted and match(event):
                return event
        return None

    return await until(
        f"flow event {' or '.join(wanted)} for run {run_id}", probe, find, within or step_within(ctx)
    )


# -- the shared live run -----------------------------------------------------------------------------
@dataclass
class _Shared:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    probe: Probe | None = None
    #: a failed start is not retried within one pass: every waiting check reports the same reason
    failure: ProbeFailed | None = None


@contextlib.asynccontextmanager
async def live_run(ctx: CheckContext) -> AsyncIterator[Probe]:
    """A full-env run that is still active (the agent was asked to work slowly), shared by the checks
    of one pass; a new one starts when the last one has ended."""
    shared: _Shared = ctx.extras.setdefault(_SHARED, _Shared())
    async with shared.lock:
        if shared.failure is not None:
            raise shared.failure
        probe = shared.probe
        if probe is None or not await _usable(ctx, probe):
            try:
                probe = shared.probe = await _start_live(ctx)
            except ProbeFailed as err:
                shared.failure = err
                raise
    yield probe


def set_up(state: RunStatus) -> bool:
    """Whether the run's namespace was complete: the worker's `started` upsert, the first to name the
    run's job, comes after the namespace was set up (SETUP_DONE); the agent's phases come later still."""
    return bool(state.job_name) or (
        not state.terminal and PHASES.index(state.phase) >= PHASES.index(SETUP_DONE)
    )


async def examine_live(ctx: CheckContext, read: Callable[[Probe], Awaitable[T]]) -> tuple[Probe, T]:
    """`read` run against the shared live run's namespace, counted only for a namespace that was
    complete before the read (`set_up`) and still there, not terminating, after it. A namespace deleted
    under the read voids what was read (its objects went with it) and the next live run is taken, up
    to LOOK_ATTEMPTS in all; then NamespaceGone."""
    gone: list[str] = []
    for _ in range(LOOK_ATTEMPTS):
        async with live_run(ctx) as probe:

            async def complete() -> RunStatus | None:
                state = await current(ctx, probe)
                if not set_up(state) and state.terminal:
                    raise ProbeFailed(f"{probe.where}: {state.brief()} ended before its namespace was set up")
                return state if set_up(state) else None

            await until(f"phase={SETUP_DONE} for run {probe.run_id}", probe, complete, step_within(ctx))
            found = await read(probe)
            if (await look(ctx, probe.namespace)).exists:
                return probe, found
            gone.append(probe.namespace)
    raise NamespaceGone(
        f"the run namespace was deleted while it was read, {len(gone)} time(s): {', '.join(gone)}"
    )


async def _usable(ctx: CheckContext, probe: Probe) -> bool:
    """Still active, and its namespace still there (a check that looks into it needs it)."""
    if (await current(ctx, probe)).terminal:
        return False
    return ctx.cluster is None or (await look(ctx, probe.namespace)).exists


async def _start_live(ctx: CheckContext) -> Probe:
    probe = await start(
        ctx, "agent access, network policies and logs of a live run", HINT_SLOW, label=NAMESPACE_TRIGGER
    )
    # ready comes after started: the namespace is set up (SETUP_DONE) and the agent is at work
    await wait_for_phase(ctx, probe, "ready")
    probe.first_lease = await first_lease(ctx, probe)
    return probe


async def first_lease(ctx: CheckContext, probe: Probe) -> dt.datetime | None:
    """The lease the namespace got when the run was launched: the worker's flow event says it exactly
    (the annotation may already have been pushed by the keep-alive); without the staff API, the
    annotation as it is now."""
    if platform(ctx) is not None:
        for event in await flow_events(ctx, probe.run_id):
            if event.event_type in ("run.namespace.ttl_scheduled", "run.namespace.ttl_extended"):
                payload = event.payload
                stamp = str(payload.get("namespace_lease_expires_at") or payload.get("expires_at") or "")
                if stamp and (moment := parse_time(stamp)) is not None:
                    return moment
    if ctx.cluster is None:
        return None
    return (await look(ctx, probe.namespace)).lease
