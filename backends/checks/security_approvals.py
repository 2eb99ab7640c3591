"""Approvals: changes to the default branch need a review, privileged MCP tools wait for the owner
(a denial stops the action), and a trigger label an agent applies itself starts nothing."""

from __future__ import annotations

import asyncio
import re

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB, repos
from backends.checks.probe_runs import (
    HINT_PRIVILEGED,
    HINT_TRIGGER_NEXT,
    ProbeFailed,
    answer,
    refresh,
    start,
    wait_for,
)
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError
from backends.results import Status

#: the privileged tools the probe asks for: one is denied, one approved
DENIED_TOOL, APPROVED_TOOL = "secret.sync.k8s", "database.lifecycle"
#: how long a privileged request must stay unexecuted without an answer to count as waiting
HOLD_S = 1.0
#: how long after a refused trigger the gate watches for a run it should not have started
QUIET_S = 2.0


def _needs_both(ctx: CheckContext) -> Outcome | None:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    return None


@check("sec.branch-protection", area="approvals", title="Default branch needs a review", scope=Scope.GLOBAL)
async def branch_protection(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    command = "GET /repos/{repo}/branches/{default}/protection"
    observed, problems = [], []
    for repo in repos(ctx):
        try:
            protection = await ctx.github.branch_protection(repo)
        except AdapterError as err:
            return from_error(err, command)
        if protection is None:
            problems.append(f"{repo}: default branch is not protected")
            observed.append(f"{repo}: unprotected")
            continue
        reviews = protection.required_approving_review_count
        observed.append(f"{repo}@{protection.branch}: {reviews} review(s)")
        if reviews < 1:
            problems.append(f"{repo}@{protection.branch} merges without a review")
    expected = "protected, at least 1 approving review required"
    if problems:
        return failed("; ".join(problems), "; ".join(observed), expected, command=command)
    return passed("; ".join(observed), expected, command=command)


@check(
    "sec.mcp-approval", area="approvals", title="Privileged MCP tools wait for the owner", scope=Scope.GLOBAL
)
async def mcp_approval(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "approval requested and held; /deny stops the tool, /approve executes it with an audit id"
    command = "probe issue asking for secret.sync.k8s and database.lifecycle; /deny one, /approve the other"
    try:
        probe = await start(ctx, "privileged MCP tools need the owner", HINT_PRIVILEGED)
        steps = [f"run {probe.run_id} in {probe.namespace}"]
        for tool in (DENIED_TOOL, APPROVED_TOOL):
            await wait_for(ctx, probe, rf"approval requested: {re.escape(tool)}\b")
        steps.append("approval requested for both tools")
        await asyncio.sleep(HOLD_S)
        acted = [b for b in await refresh(ctx, probe) if re.search(r"(executed|stopped) \(audit_id", b)]
        if acted:
            first = acted[0].splitlines()[0]
            return failed(
                f"a privileged tool acted before the owner answered: {first}",
                "; ".join(steps),
                expected,
                command=command,
                output="\n".join(probe.comments),
            )
        steps.append(f"nothing executed after {HOLD_S:g}s without an answer")
        await answer(ctx, probe, "deny", DENIED_TOOL)
        await wait_for(ctx, probe, rf"denied: {re.escape(DENIED_TOOL)} stopped")
        steps.append(f"/deny {DENIED_TOOL}: stopped")
        await answer(ctx, probe, "approve", APPROVED_TOOL)
        await wait_for(ctx, probe, rf"approved: {re.escape(APPROVED_TOOL)} executed \(audit_id=\S+\)")
        steps.append(f"/approve {APPROVED_TOOL}: executed with an audit id")
        if any(re.search(rf"{re.escape(DENIED_TOOL)} executed", b) for b in await refresh(ctx, probe)):
            return failed(
                f"{DENIED_TOOL} executed although it was denied",
                "; ".join(steps),
                expected,
                command=command,
                output="\n".join(probe.comments),
            )
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    return passed("; ".join(steps), expected, command=command, output="\n".join(probe.comments))


@check("sec.bot-trigger", area="approvals", title="Agent-applied triggers need the owner", scope=Scope.GLOBAL)
async def bot_trigger(ctx: CheckContext) -> Outcome:
    if (skip := _needs_both(ctx)) is not None:
        return skip
    expected = "a run:* label applied by a bot or agent is refused with a comment and starts no run"
    command = "probe issue whose agent applies the next stage's run label itself"
    try:
        probe = await start(ctx, "agent-applied trigger labels", HINT_TRIGGER_NEXT)
        first = probe.run_id
        events = []
        for _ in range(int(10 / 0.25)):
            events = [
                e
                for e in await ctx.github.label_events(probe.repo, probe.issue)
                if e.action == "labeled" and e.label.startswith("run:") and e.label != probe.label
            ]
            if events:
                break
            await asyncio.sleep(0.25)
        if not events:
            return Outcome(
                Status.WARN,
                observed=f"run {first}: the agent applied no trigger label",
                expected=expected,
                reason="the agent did not apply a trigger: the refusal path was not exercised",
                command=command,
            )
        label, actor = events[0].label, events[0].actor
        await asyncio.sleep(QUIET_S)
        bodies = await refresh(ctx, probe)
        stage = label.removeprefix("run:")
        started = [r for r in probe.runs().values() if r.run_id != first and r.stage == stage]
        refused = [b for b in bodies if "trigger refused" in b and label in b]
        observed = f"{label} applied by {actor}; " + ("refused" if refused else "no refusal comment")
        observed += f"; {len(started)} run(s) started for it"
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    out = {"command": command, "output": "\n".join(bodies)}
    if started:
        return failed(
            f"{label} applied by {actor} started run {started[0].run_id} without the owner",
            observed,
            expected,
            **out,
        )
    if not refused:
        return failed(
            f"{label} applied by {actor} was ignored without the warning comment", observed, expected, **out
        )
    return passed(observed, expected, **out)
