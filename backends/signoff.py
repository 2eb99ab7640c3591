"""What the owner is asked to sign: recommendation, blockers, counts, waivers, deviations.

A pure fold over the evidence records, so the sign-off pane, the Markdown report and `verify`
(which rebuilds the report to check a decision's binding) all see exactly the same summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backends.events import (
    ActionRecorded,
    AttentionNeeded,
    CheckFinished,
    DecisionRecorded,
    HookFailed,
    HookRan,
    LoginRecorded,
    PublishFinished,
    PublishStep,
    ScenarioFinished,
    WitnessPosted,
    event_from_record,
)
from backends.evidence.chain import GENESIS
from backends.results import Status, Verdict, Waiver
from backends.state import GateState

#: check areas shown in the security pane rather than preflight
SECURITY_AREAS = frozenset({"security", "rbac", "secrets", "approvals", "reliability", "network", "tls"})
PRIORITY_ORDER = ("P0", "P1", "P2", "P3")
_PRIORITY_IN_REASON = re.compile(r"\((P\d)\)")
#: records that say who looked, decided or was called, not what the gate found (the hook may still
#: be calling the operator about the verdict when the owner decides on it)
AUDIT_KINDS = frozenset(
    {
        DecisionRecorded.kind,
        LoginRecorded.kind,
        ActionRecorded.kind,
        AttentionNeeded.kind,
        HookRan.kind,
        HookFailed.kind,
        # the head posted outside the session: it witnesses the evidence, it adds nothing to it
        WitnessPosted.kind,
        # where the decided evidence was published: the publication changes nothing that was found
        PublishStep.kind,
        PublishFinished.kind,
    }
)


@dataclass(frozen=True)
class Blocker:
    priority: str
    text: str


@dataclass(frozen=True)
class Deviation:
    item: str
    what: str  # the first non-passing outcome seen
    resolution: str


@dataclass
class SignoffSummary:
    state: GateState
    records: int
    head: str
    recommendation: Verdict | None
    blockers: list[Blocker] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # pane -> status -> n
    waivers: list[Waiver] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.recommendation.label if self.recommendation else "PENDING"


def fold(records: Iterable[Mapping[str, Any]]) -> GateState:
    state = GateState()
    for record in records:
        event = event_from_record(record["kind"], dict(record["payload"]))
        if event is not None:
            state.apply(event)
    return state


def blocker_priority(reason: str) -> str:
    # A scenario reason names its priority; checks and chain problems always block, so they are P0.
    match = _PRIORITY_IN_REASON.search(reason)
    return match.group(1) if match and reason.startswith("scenario ") else "P0"


def _rank(priority: str) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else len(PRIORITY_ORDER)


def pane_of(area: str) -> str:
    return "security" if area in SECURITY_AREAS else "preflight"


def _counts(state: GateState) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {"preflight": {}, "scenarios": {}, "security": {}}
    for result in state.checks.values():
        pane = counts[pane_of(result.area)]
        pane[str(result.status)] = pane.get(str(result.status), 0) + 1
    for scenario in state.scenarios.values():
        pane = counts["scenarios"]
        pane[scenario.status] = pane.get(scenario.status, 0) + 1
    return counts


def _deviations(records: Sequence[Mapping[str, Any]], state: GateState) -> list[Deviation]:
    first_bad: dict[str, str] = {}
    for record in records:
        event = event_from_record(record["kind"], dict(record["payload"]))
        if isinstance(event, CheckFinished) and event.result.status not in {Status.PASS}:
            r = event.result
            why = f": {r.reason}" if r.reason else ""
            first_bad.setdefault(f"check {r.key}", f"{r.status}{why}")
        elif isinstance(event, ScenarioFinished) and event.status != "PASS":
            why = f": {event.reason}" if event.reason else ""
            first_bad.setdefault(f"scenario {event.scenario_id}", f"{event.status}{why}")
    out = []
    for item, what in first_bad.items():
        kind, key = item.split(" ", 1)
        final = (
            str(state.checks[key].status)
            if kind == "check" and key in state.checks
            else (state.scenarios[key].status if key in state.scenarios else "")
        )
        waiver = state.waivers.get(key)
        if waiver is not None:
            resolution = f"waived by {waiver.by}: {waiver.reason}"
        elif final == "PASS":
            resolution = "passed when run again"
        elif final == "WARN":
            resolution = "accepted: a warning does not block GO"
        elif final == "SKIP":
            resolution = "skipped (not run); see the reason"
        else:
            resolution = "open: blocks GO"
        out.append(Deviation(item, what, resolution))
    return out


def summarise(records: Sequence[Mapping[str, Any]]) -> SignoffSummary:
    state = fold(records)
    verdict = state.verdict
    blockers = [Blocker(blocker_priority(r), r) for r in (verdict.reasons if verdict else ())]
    blockers.sort(key=lambda b: _rank(b.priority))
    return SignoffSummary(
        state=state,
        records=len(records),
        head=records[-1]["hash"] if records else GENESIS,
        recommendation=verdict,
        blockers=blockers,
        counts=_counts(state),
        waivers=sorted(state.waivers.values(), key=lambda w: w.item_key),
        deviations=_deviations(records, state),
    )


@dataclass(frozen=True)
class DecisionStatus:
    decision: DecisionRecorded | None = None
    decided_at: float = 0.0
    stale: bool = False  # evidence was added after the chain head it was made on

    @property
    def final(self) -> bool:
        return self.decision is not None and not self.stale


def decision_status(records: Sequence[Mapping[str, Any]]) -> DecisionStatus:
    """The latest decision and whether the evidence has moved on since its chain head."""
    for i in range(len(records) - 1, -1, -1):
        record = records[i]
        if record["kind"] != DecisionRecorded.kind:
            continue
        event = event_from_record(record["kind"], dict(record["payload"]))
        if not isinstance(event, DecisionRecorded):
            continue
        index = next((j for j in range(i) if records[j]["hash"] == event.chain_head), None)
        start = 0 if event.chain_head == GENESIS else (index + 1 if index is not None else None)
        if start is None:  # bound to a head that is not in this chain: cannot be current
            return DecisionStatus(event, float(record["ts"]), stale=True)
        moved = any(r["kind"] not in AUDIT_KINDS for r in records[start:])
        return DecisionStatus(event, float(record["ts"]), stale=moved)
    return DecisionStatus()
