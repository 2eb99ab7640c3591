"""Approvals: changes to the default branch need a review, privileged MCP tools wait for a decision made
in the staff API (a denial stops the action), and a trigger label an agent applies itself starts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.github_checks import NO_GITHUB, repos
from backends.checks.probe_runs import (
    HINT_PRIVILEGED,
    HINT_SLOW,
    HINT_TRIGGER_NEXT,
    NAMESPACE_TRIGGER,
    NO_PLATFORM,
    Probe,
    ProbeFailed,
    about,
    concerning,
    current,
    event_line,
    event_tool,
    flow_events,
    platform,
    refresh,
    start,
    step_within,
    until,
    wait_event,
)
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.errors import AdapterError
from backends.signals import kodex, sources
from backends.signals.thread import Refusal, RunTrace

#: the privileged tools the probe asks for: one is denied, one approved
DENIED_TOOL, APPROVED_TOOL = "secret.sync.k8s", "database.lifecycle"
PRIVILEGED = (DENIED_TOOL, APPROVED_TOOL)
#: how long a privileged request must stay unexecuted without an answer to count as held
HOLD_S = 1.0
#: how long after the platform answered an agent-applied trigger the gate watches for a run anyway
QUIET_S = 2.0
#: flow events that mean a privileged tool went ahead (mcp/control_tools.go)
ACTED = ("approval.approved", "approval.applied", "mcp.tool.succeeded")
BOT_REFUSAL = "sender_type_bot_not_permitted"
BOT_EXPECTED = (
    f"a run:* label applied by the agent (a bot) is refused with a warning, reason code {BOT_REFUSAL} "
    f"(or another sender_* code), and starts no run ({sources.TRIGGER_RIGHTS}, {sources.TRIGGER_WARNING})"
)
BOT_COMMAND = "probe issue whose agent applies the next stage's run label itself; read the issue's comments"
#: probe issues the check opens at most: another one when the first ended in a conflict with the
#: probe's own label (a loaded gate removed it after the agent had added its own)
BOT_ATTEMPTS = 2
#: what the gate sends with its decisions, so the platform's audit says who and why
DECISION_REASON = "Gate Room security probe"


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


async def _deny_left_over(ctx: CheckContext, run_id: str, decided: set[int]) -> None:
    """A probe run must never be left waiting on the owner: whatever is still requested is denied."""
    with contextlib.suppress(AdapterError):
        for approval in await platform(ctx).approvals(run_id=run_id):
            if approval.id not in decided:
                await platform(ctx).decide_approval(approval.id, "denied", DECISION_REASON)


@check(
    "sec.mcp-approval", area="approvals", title="Privileged MCP tools wait for the owner", scope=Scope.GLOBAL
)
async def mcp_approval(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    api = platform(ctx)
    if api is None:
        return skipped(NO_PLATFORM)
    expected = (
        f"{DENIED_TOOL} and {APPROVED_TOOL} wait in state requested until decided in the staff API; denied: "
        f"approval.denied and never applied; approved: approval.applied "
        f"({sources.MCP_APPROVALS}, {sources.STAFF_API})"
    )
    command = (
        f"probe issue ({NAMESPACE_TRIGGER}) asking for both tools; GET /api/v1/staff/approvals; "
        "POST /api/v1/staff/approvals/{id}/decision (denied, approved); GET /api/v1/staff/runs/{id}/events"
    )
    probe: Probe | None = None
    decided: set[int] = set()
    steps: list[str] = []
    try:
        probe = await start(
            ctx, "privileged MCP tools need the owner", HINT_PRIVILEGED, label=NAMESPACE_TRIGGER
        )
        run_id = probe.run_id
        steps.append(f"run {run_id}")
        held = probe

        async def requested() -> dict[str, Any] | None:
            found = {a.tool_name: a for a in await api.approvals(run_id=run_id) if a.tool_name in PRIVILEGED}
            if len(found) == len(PRIVILEGED) or (await current(ctx, held)).terminal:
                return found
            return None

        found = await until(
            f"approval requests for {' and '.join(PRIVILEGED)}", probe, requested, step_within(ctx)
        )
        missing = [t for t in PRIVILEGED if t not in found]
        if missing:
            acted = [
                e
                for e in await flow_events(ctx, run_id)
                if e.event_type in ACTED and event_tool(e) in missing
            ]
            if acted:
                return failed(
                    f"{event_line(acted[0])} with no approval request held in the staff API",
                    "; ".join(steps),
                    expected,
                    command=command,
                    output=probe.transcript(),
                )
            return warned(
                f"run {run_id} ended without asking for {', '.join(missing)}: "
                "the approval path was not exercised",
                "; ".join(steps),
                expected,
                command=command,
                output=probe.transcript(),
            )
        denied, approved = found[DENIED_TOOL], found[APPROVED_TOOL]
        steps.append(f"requested: {DENIED_TOOL} #{denied.id}, {APPROVED_TOOL} #{approved.id}")
        await asyncio.sleep(HOLD_S)
        early = [
            e for e in await flow_events(ctx, run_id) if e.event_type in ACTED and event_tool(e) in PRIVILEGED
        ]
        if early:
            return failed(
                f"{event_line(early[0])} before the owner decided anything",
                "; ".join(steps),
                expected,
                command=command,
                output=probe.transcript(),
            )
        run = await api.run(run_id)
        waits = f", run wait_state={run.wait_state}/{run.wait_reason}" if run.wait_state else ""
        steps.append(f"nothing applied after {HOLD_S:g}s without a decision{waits}")

        for approval, decision, proof in (
            (denied, "denied", "approval.denied"),
            (approved, "approved", "approval.applied"),
        ):
            answer = await api.decide_approval(approval.id, decision, DECISION_REASON)
            decided.add(approval.id)
            ok_states = ("denied",) if decision == "denied" else ("approved", "applied")
            if answer.approval_state not in ok_states:
                return failed(
                    f"{decision} {approval.tool_name} #{approval.id}: the API answered "
                    f"approval_state={answer.approval_state}",
                    "; ".join(steps),
                    expected,
                    command=command,
                    output=probe.transcript(),
                )
            await wait_event(ctx, probe, run_id, (proof,), concerning(approval.id, approval.tool_name))
            steps.append(f"{decision} {approval.tool_name}: {proof}")

        await refresh(ctx, probe)
        events = await flow_events(ctx, run_id)
        leaked = [
            e
            for e in events
            if e.event_type in ("approval.applied", "mcp.tool.succeeded") and about(e, denied.id, DENIED_TOOL)
        ]
        output = probe.transcript() + "\nflow events: " + ", ".join(event_line(e) for e in events)
        if leaked:
            return failed(
                f"{DENIED_TOOL} went ahead although it was denied: {event_line(leaked[0])}",
                "; ".join(steps),
                expected,
                command=command,
                output=output,
            )
    except ProbeFailed as err:
        return failed(str(err), "; ".join(steps), expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    finally:
        if probe is not None and probe.run_id:
            await _deny_left_over(ctx, probe.run_id, decided)
    return passed("; ".join(steps), expected, command=command, output=output)


@dataclass
class _Answer:
    """What the platform said to the label the agent applied on one probe issue."""

    probe: Probe
    first: str
    label: str
    actor: str
    refusals: list[Refusal]
    started: list[RunTrace]

    def own_conflict(self) -> bool:
        """Refused as a conflict with the probe's own trigger label: the gate's removal of it came after
        the agent's label, so the platform judged a label state the gate left, not the sender."""
        return bool(self.refusals) and all(
            r.conflict is not None and self.probe.label in r.conflict.conflicting for r in self.refusals
        )


async def _agent_trigger(ctx: CheckContext) -> _Answer | Outcome:
    # the probe's own label goes at once, so the agent's label is the only trigger on the issue:
    # otherwise the platform answers with a trigger conflict before it ever looks at the sender
    probe = await start(ctx, "agent-applied trigger labels", HINT_SLOW, HINT_TRIGGER_NEXT, drop_label=True)
    first = probe.run_id

    async def applied() -> tuple[str, str] | None:
        for e in await ctx.github.label_events(probe.repo, probe.issue):
            if e.action == "labeled" and kodex.trigger_kind(e.label) and e.label != probe.label:
                return e.label, e.actor
        return ("", "") if (await current(ctx, probe, first)).terminal else None

    label, actor = await until("trigger label applied by the agent", probe, applied, step_within(ctx))
    if not label:
        # one last look: the label may have come with the run's last edit
        label, actor = await applied() or ("", "")
    if not label:
        return warned(
            f"run {first}: the agent applied no trigger label, so the refusal path was not exercised",
            f"run {first} finished",
            BOT_EXPECTED,
            command=BOT_COMMAND,
            output=probe.transcript(),
        )

    def answered() -> tuple[list[Refusal], list[RunTrace]]:
        refusals = probe.signals.refusals_after(probe.watermark)
        runs = [t for t in probe.signals.runs_after(probe.watermark) if t.run_id != first]
        return refusals, runs

    async def answer() -> tuple[list[Refusal], list[RunTrace]] | None:
        await refresh(ctx, probe)
        refusals, runs = answered()
        return (refusals, runs) if refusals or runs else None

    with contextlib.suppress(ProbeFailed):
        await until(f"answer to {label}", probe, answer, step_within(ctx))
    await asyncio.sleep(QUIET_S)
    await refresh(ctx, probe)
    refusals, started = answered()
    return _Answer(probe, first, label, actor, refusals, started)


@check("sec.bot-trigger", area="approvals", title="Agent-applied triggers need the owner", scope=Scope.GLOBAL)
async def bot_trigger(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    expected, command = BOT_EXPECTED, BOT_COMMAND
    try:
        for attempt in range(1, BOT_ATTEMPTS + 1):
            answer = await _agent_trigger(ctx)
            if isinstance(answer, Outcome):
                return answer
            got = answer
            if not got.own_conflict() or attempt == BOT_ATTEMPTS:
                break
    except ProbeFailed as err:
        return failed(str(err), expected=expected, command=command)
    except AdapterError as err:
        return from_error(err, command)
    probe, label, actor, refusals, started = got.probe, got.label, got.actor, got.refusals, got.started
    codes = [r.warning.reason_code for r in refusals if r.warning is not None]
    sender = [c for c in codes if c.startswith("sender_")]
    observed = f"{label} applied by {actor}; " + (
        f"refused with reason code {', '.join(codes)}"
        if codes
        else "; ".join(r.brief() for r in refusals) or "no warning"
    )
    observed += f"; {len(started)} new run(s)"
    if attempt > 1:
        observed += f" (on probe issue {attempt}: the first met the probe's own label, not yet removed)"
    out = {"command": command, "output": probe.transcript()}
    if started:
        return failed(
            f"{label} applied by {actor} started run {started[0].run_id} ({started[0].latest.trigger_kind})",
            observed,
            expected,
            **out,
        )
    if not refusals:
        return failed(f"{label} applied by {actor} got no run-not-created warning", observed, expected, **out)
    if got.own_conflict():
        return warned(
            f"{label} met the probe's own {probe.label}, not yet removed, on {BOT_ATTEMPTS} probe issues: "
            "the sender check was not exercised",
            observed,
            expected,
            **out,
        )
    if not sender:
        return warned(
            f"{label} was refused for another reason ({refusals[0].brief()}): "
            "the sender check was not exercised",
            observed,
            expected,
            **out,
        )
    return passed(observed, expected, **out)
