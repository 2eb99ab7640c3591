"""Label coverage: which labels of the catalogue each scenario exercised, and which nobody covered."""

from __future__ import annotations

from dataclasses import dataclass

from backends.plan.model import Plan
from backends.state import GateState


@dataclass(frozen=True)
class LabelCoverage:
    label: str
    declared_by: tuple[str, ...]  # scenarios whose plan says they cover it
    exercised_by: tuple[str, ...]  # scenarios where a step touching it actually passed

    @property
    def status(self) -> str:
        if self.exercised_by:
            return "EXERCISED"
        return "PLANNED" if self.declared_by else "UNCOVERED"


def exercised_labels(plan: Plan, state: GateState) -> dict[str, set[str]]:
    """scenario id → labels whose add/remove/expect step passed in this session."""
    out: dict[str, set[str]] = {}
    for scenario in plan.scenarios:
        sc = state.scenarios.get(scenario.id)
        if sc is None:
            continue
        for index, step in enumerate(scenario.steps):
            label = getattr(step, "label", None)
            event = sc.steps.get(index)
            cited = bool(step.source)
            if cited and isinstance(label, str) and event is not None and event.status == "PASS":
                out.setdefault(scenario.id, set()).add(label)
    return out


def coverage(plan: Plan, state: GateState) -> list[LabelCoverage]:
    exercised = exercised_labels(plan, state)
    rows = []
    for label in plan.labels:
        declared = tuple(s.id for s in plan.scenarios if label in s.covers)
        done = tuple(sid for sid, labels in exercised.items() if label in labels)
        rows.append(LabelCoverage(label, declared, done))
    return rows
