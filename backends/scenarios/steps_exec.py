"""What each step kind does. Actions are idempotent against the live world; expectations poll."""

from __future__ import annotations

import asyncio
import difflib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from backends.plan import steps as S
from backends.redact import MARKER_RE
from backends.scenarios.context import RunInfo, ScenarioContext, runs_from_comments
from backends.scenarios.world import PLATFORM_PREFIX, GateWorld


@dataclass
class StepResult:
    actual: str
    detail: dict[str, Any] = field(default_factory=dict)


class StepFailed(Exception):
    def __init__(self, actual: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(actual)
        self.actual = actual
        self.detail = detail or {}


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


async def _poll(
    within: float, interval: float, probe: Callable[[], Awaitable[tuple[bool, str, dict[str, Any]]]]
) -> StepResult:
    """Ask `probe` until it says yes or `within` runs out; the last answer is the actual value."""
    deadline = time.monotonic() + within
    while True:
        ok, actual, detail = await probe()
        if ok:
            return StepResult(actual, detail)
        if time.monotonic() >= deadline:
            raise StepFailed(f"not within {within:g}s; last seen: {actual}", detail)
        await asyncio.sleep(interval)


async def _runs(world: GateWorld, ctx: ScenarioContext) -> dict[str, RunInfo]:
    comments = await world.comments(ctx.repo, _need_issue(ctx))
    return runs_from_comments([c.body for c in comments if c.body.startswith(PLATFORM_PREFIX)])


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
    applied = await world.add_label(ctx.repo, number, step.label)
    what = "applied" if applied else "already present (not applied again)"
    return StepResult(
        f"{step.label} {what} on #{number}",
        {"label_applied": applied, "label": step.label, "at": time.time()},
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
    await world.review(ctx.repo, pr, step.event, f"{step.body}\n\n{marker}")
    return StepResult(f"{step.event} review on PR #{pr}")


async def _wait(step: S.Wait, index: int, ctx: ScenarioContext, world: GateWorld, session: str) -> StepResult:
    await asyncio.sleep(step.duration)
    return StepResult(f"waited {step.duration:g}s")


# -- expectations -----------------------------------------------------------------------------
async def _expect_label(
    step: S.ExpectLabel, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        number = _target(ctx, step.target)
        labels = await world.labels(ctx.repo, number)
        present = step.label in labels
        return present == step.present, f"labels on #{number}: {', '.join(sorted(labels)) or '(none)'}", {}

    return await _poll(step.within, world.poll_interval, probe)


def _platform_comments_matching(comments: list[Any], pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [c.body for c in comments if c.body.startswith(PLATFORM_PREFIX) and rx.search(c.body)]


async def _expect_comment(
    step: S.ExpectComment | S.ExpectRejected, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    pattern = step.match if isinstance(step, S.ExpectComment) else f"run rejected: .*{step.match}"

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        comments = await world.comments(ctx.repo, _need_issue(ctx))
        if ctx.pr is not None:
            comments += await world.comments(ctx.repo, ctx.pr)
        hits = _platform_comments_matching(comments, pattern)
        if hits:
            return True, hits[0].splitlines()[0], {"excerpt": hits[0]}
        last = [c.body.splitlines()[0] for c in comments if c.body.startswith(PLATFORM_PREFIX)][-1:] or [
            "no platform comment"
        ]
        return False, last[0], {}

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_pr(
    step: S.ExpectPr, index: int, ctx: ScenarioContext, world: GateWorld, session: str
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

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_namespace(
    step: S.ExpectNamespace, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        runs = await _runs(world, ctx)
        ids = set(runs)
        found = [
            ns for ns in await world.namespaces(step.selector) if ns.labels.get("kodex.works/run-id") in ids
        ]
        names = ", ".join(ns.name for ns in found) or "none"
        return (
            bool(found) == step.present,
            f"namespaces of this issue's runs: {names}",
            {"namespaces": [n.name for n in found]},
        )

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_pod_log(
    step: S.ExpectPodLog, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    rx = re.compile(step.match)
    # logs read earlier: a swept namespace takes its pods' logs with it, and the last actual value
    # must still show what the agent said
    kept: dict[str, list[str]] = {}

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        runs = await _runs(world, ctx)
        for run in runs.values():
            if not run.namespace:
                continue
            lines = (await world.pod_log(run.namespace, run.run_id)).splitlines()
            if lines or run.run_id not in kept:
                kept[run.run_id] = lines
            for line in kept[run.run_id]:
                if rx.search(line):
                    return True, line, {"excerpt": line, "run_id": run.run_id}
        every = [line for lines in kept.values() for line in lines]
        actual = f"{len(every)} agent log line(s), none matching"
        closest = difflib.get_close_matches(step.match, every, n=1, cutoff=0.4)
        if closest:
            actual += f"; closest: {closest[0]}"
        return False, actual, {"excerpt": closest[0]} if closest else {}

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_same_namespace(
    step: S.ExpectSameNamespace, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        runs = [r for r in (await _runs(world, ctx)).values() if r.namespace]
        spaces = sorted({r.namespace for r in runs})
        ok = len(runs) >= 2 and len(spaces) == 1
        return ok, f"{len(runs)} run(s) in namespace(s) {', '.join(spaces) or 'none'}", {"namespaces": spaces}

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_lease_extended(
    step: S.ExpectLeaseExtended, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    async def probe() -> tuple[bool, str, dict[str, Any]]:
        leases = [lease for r in (await _runs(world, ctx)).values() for lease in r.leases]
        ok = len(leases) >= 2 and leases[-1] > leases[0]
        shown = f"{leases[0]} → {leases[-1]}" if leases else "no lease seen"
        return ok, f"lease {shown}", {"leases": leases}

    return await _poll(step.within, world.poll_interval, probe)


async def _expect_no_secrets(
    step: S.ExpectNoSecrets, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    """Raw text is scanned here and never kept: only kinds and fingerprints leave this function."""
    runs = await _runs(world, ctx)
    texts = [c.body for c in await world.comments(ctx.repo, _need_issue(ctx))]
    for run in runs.values():
        if run.namespace:
            texts.append(await world.pod_log(run.namespace, run.run_id))
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
    return StepResult(f"no secret in {len(texts)} log(s) and comment(s)")


Handler = Callable[[Any, int, ScenarioContext, GateWorld, str], Awaitable[StepResult]]

HANDLERS: dict[type[S.Step], Handler] = {
    S.CreateIssue: _create_issue,
    S.AddLabel: _add_label,
    S.RemoveLabel: _remove_label,
    S.Comment: _comment,
    S.Review: _review,
    S.Wait: _wait,
    S.ExpectLabel: _expect_label,
    S.ExpectComment: _expect_comment,
    S.ExpectRejected: _expect_comment,
    S.ExpectPr: _expect_pr,
    S.ExpectNamespace: _expect_namespace,
    S.ExpectPodLog: _expect_pod_log,
    S.ExpectSameNamespace: _expect_same_namespace,
    S.ExpectLeaseExtended: _expect_lease_extended,
    S.ExpectNoSecrets: _expect_no_secrets,
}


async def execute(
    step: S.Step, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    handler = HANDLERS[type(step)]
    # an expectation has its own `within`; an action gets a generous ceiling so nothing hangs
    ceiling = getattr(step, "within", None) or getattr(step, "duration", None) or 0
    async with asyncio.timeout(ceiling + 60):
        return await handler(step, index, ctx, world, session)
