"""Probe runs: the security checks' own test issues, triggered through GitHub as an operator would,
watched through the platform's service comments and the cluster.

A probe issue's body carries plain-English requests the agent honours (wait for the owner's feedback,
ask for privileged MCP tools, fail once, trigger the next stage itself). Several checks need a run
namespace with a live agent in it; they share one *paused* run (waiting for the owner's feedback), so
a real target pays for one agent run, not five. The last check to let go of it answers the feedback
request, and the run finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from backends.checks.registry import CheckContext
from backends.scenarios.context import RunInfo, runs_from_comments

PREFIX = "codex-k8s:"
TRIGGER = "run:intake"
POLL_S = 0.25
#: how long a probe waits for the platform to answer one step (a real platform may queue runs)
STEP_WITHIN_S = 20.0
FEEDBACK_TOOL = "owner.feedback.request"
HINT_PAUSE = "Please ask the owner for feedback before you finish."
HINT_PRIVILEGED = "Please sync the runtime secret and create the database through the MCP tools."
HINT_FAIL_ONCE = "Please fail the first attempt (the gate checks that a retry resumes it)."
HINT_TRIGGER_NEXT = "Please trigger the next stage yourself when you are done."
_SHARED = "security.shared-paused-run"


class ProbeFailed(Exception):
    """The platform did not do what the probe waited for; the message says what was last seen."""


@dataclass
class Probe:
    repo: str
    issue: int
    label: str = TRIGGER
    run_id: str = ""
    namespace: str = ""
    comments: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.repo}#{self.issue}"

    def runs(self) -> dict[str, RunInfo]:
        return runs_from_comments(self.comments)


def _repo(ctx: CheckContext) -> str:
    assert ctx.settings.github is not None
    return ctx.settings.github.platform_repo


async def start(ctx: CheckContext, purpose: str, *hints: str, label: str = TRIGGER) -> Probe:
    """A new probe issue, triggered; returns once the platform has created the run's namespace."""
    repo = _repo(ctx)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    body = "\n".join([f"Gate Room security probe: {purpose}.", *hints, f"<!-- gateroom-probe {stamp} -->"])
    number, _ = await ctx.github.create_issue(repo, f"Gate Room probe: {purpose} [{stamp}]", body)
    probe = Probe(repo, number, label)
    await ctx.github.add_label(repo, number, label)
    await created(ctx, probe)
    return probe


async def refresh(ctx: CheckContext, probe: Probe) -> list[str]:
    found = await ctx.github.comments(probe.repo, probe.issue)
    probe.comments = [c.body for c in found if c.body.startswith(PREFIX)]
    return probe.comments


async def wait_for(ctx: CheckContext, probe: Probe, pattern: str, within: float = STEP_WITHIN_S) -> str:
    """The first platform comment on the probe matching `pattern`; ProbeFailed when none comes."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + within
    while True:
        for body in await refresh(ctx, probe):
            if rx.search(body):
                return body
        if time.monotonic() >= deadline:
            last = probe.comments[-1].splitlines()[0] if probe.comments else "no platform comment"
            raise ProbeFailed(
                f"{probe.where}: no comment matching {pattern!r} within {within:g}s; last: {last}"
            )
        await asyncio.sleep(POLL_S)


async def created(ctx: CheckContext, probe: Probe, after: str = "") -> RunInfo:
    """Wait for a run (other than `after`) to be created on the probe; remembers its id and namespace."""

    async def find() -> RunInfo | None:
        await refresh(ctx, probe)
        fresh = [r for r in probe.runs().values() if r.run_id != after and r.namespace]
        return fresh[-1] if fresh else None

    deadline = time.monotonic() + STEP_WITHIN_S
    while (run := await find()) is None:
        if time.monotonic() >= deadline:
            raise ProbeFailed(
                f"{probe.where}: the platform started no run within {STEP_WITHIN_S:g}s of {probe.label}"
            )
        await asyncio.sleep(POLL_S)
    probe.run_id, probe.namespace = run.run_id, run.namespace
    return run


async def answer(ctx: CheckContext, probe: Probe, verb: str, tool: str) -> None:
    await ctx.github.comment(probe.repo, probe.issue, f"/{verb} {tool}")


@dataclass
class _Shared:
    users: int = 0
    task: asyncio.Task[Probe] | None = None


@contextlib.asynccontextmanager
async def paused_run(ctx: CheckContext) -> AsyncIterator[Probe]:
    """A run that waits for the owner's feedback (`waiting_mcp`), shared by the checks of one pass."""
    shared: _Shared = ctx.extras.setdefault(_SHARED, _Shared())
    shared.users += 1
    try:
        if shared.task is None:
            shared.task = asyncio.ensure_future(_start_paused(ctx))
        probe = await asyncio.shield(shared.task)
        yield probe
    finally:
        shared.users -= 1
        if shared.users == 0 and shared.task is not None:
            task, shared.task = shared.task, None
            if task.done() and not task.cancelled() and task.exception() is None:
                with contextlib.suppress(Exception):
                    await answer(ctx, task.result(), "approve", FEEDBACK_TOOL)


async def _start_paused(ctx: CheckContext) -> Probe:
    probe = await start(ctx, "agent access, network policies and logs of a live run", HINT_PAUSE)
    await wait_for(ctx, probe, rf"run {probe.run_id} .*phase=waiting_mcp")
    return probe
