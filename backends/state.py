"""The gate's state as a fold over events: the engine, a resumed session and the UI share it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backends.events import (
    CheckFinished,
    CheckStarted,
    DecisionRecorded,
    Event,
    ScenarioFinished,
    ScenarioStepChanged,
    SessionOpened,
    VerdictChanged,
    Waived,
)
from backends.results import CheckResult, Status, Verdict, Waiver


@dataclass
class ScenarioState:
    scenario_id: str
    status: str = "PENDING"
    title: str = ""
    priority: str = "P0"
    reason: str = ""
    duration_s: float = 0.0
    steps: dict[int, ScenarioStepChanged] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class GateState:
    session_id: str = ""
    target: str = ""
    plan: str = ""
    checks: dict[str, CheckResult] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    scenarios: dict[str, ScenarioState] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    decisions: list[DecisionRecorded] = field(default_factory=list)
    verdict: Verdict | None = None

    def apply(self, event: Event) -> None:
        match event:
            case SessionOpened():
                self.session_id, self.target, self.plan = event.session_id, event.target, event.plan
            case CheckStarted():
                self.running.add(event.key)
                self.checks.pop(event.key, None)
            case CheckFinished():
                self.running.discard(event.result.key)
                self.checks[event.result.key] = event.result
            case ScenarioStepChanged():
                sc = self.scenarios.setdefault(event.scenario_id, ScenarioState(event.scenario_id))
                sc.steps[event.step_index] = event
                sc.title = event.title or sc.title
                sc.priority = event.priority or sc.priority
                if sc.status == "PENDING":
                    # a manual scenario waits for the operator rather than running
                    sc.status = "MANUAL" if event.status == "MANUAL" else "RUNNING"
            case ScenarioFinished():
                sc = self.scenarios.setdefault(event.scenario_id, ScenarioState(event.scenario_id))
                sc.status, sc.reason, sc.duration_s = event.status, event.reason, event.duration_s
                sc.title, sc.priority, sc.evidence = event.title or sc.title, event.priority, event.evidence
            case Waived():
                self.waivers[event.item_key] = Waiver(event.item_key, event.reason, event.by)
            case VerdictChanged():
                self.verdict = Verdict(event.go, event.reasons)
            case DecisionRecorded():
                self.decisions.append(event)

    def check_counts(self) -> dict[Status, int]:
        counts: dict[Status, int] = {}
        for result in self.checks.values():
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts
