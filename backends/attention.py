"""What needs the operator: a bus subscriber that turns gate events into `AttentionNeeded`.

A gate runs for hours and the operator looks away. Four things call them back: a manual scenario
waiting for its checklist, an approval request the platform holds (seen by an `expect_approval`
step), a failure (a check that FAILs or ERRORs, a P0/P1 scenario that fails) and the end of the gate.
The screen rings and notifies on `AttentionNeeded`; the configured hook (`attention_hook`) is handed
the same event from here, so headless runs call the operator back exactly as the TUI does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from backends.attention_hook import AttentionHook
from backends.config import ATTENTION_NEEDS
from backends.events import (
    AttentionNeeded,
    CheckFinished,
    Event,
    EventBus,
    RunFinished,
    ScenarioFinished,
    ScenarioStepChanged,
)
from backends.plan.model import Plan
from backends.plan.steps import ExpectApproval, Step
from backends.results import Status
from backends.state import GateState

#: scenario priorities whose failure calls the operator (the ones the verdict gates on)
GATED = frozenset({"P0", "P1"})
FAILED = frozenset({"FAIL", "ERROR"})
#: an approval request the staff API still lists: it waits for someone to decide
HELD = frozenset({"requested", "pending"})
MESSAGE_MAX = 300
_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = MESSAGE_MAX) -> str:
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Attention:
    """Bus subscriber. Subscribe it after the session, so each call is recorded after its cause."""

    def __init__(
        self,
        bus: EventBus,
        plan: Plan,
        state: GateState,
        redact: Callable[[str], str],
        *,
        needs: Iterable[str] = ATTENTION_NEEDS,
        hook: AttentionHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.plan = plan
        self.state = state
        self.redact = redact
        self.needs = frozenset(needs)
        self.hook = hook
        self.clock = clock
        # a manual scenario announces each checklist line; the operator is called once for it
        self._manual: set[str] = set()
        self._approvals: set[tuple[str, str]] = set()

    def __call__(self, event: Event) -> None:
        found = self.judge(event)
        if found is None or found.need not in self.needs:
            return
        self.bus.publish(found)
        if self.hook is not None:
            self.hook.submit(found, self.state.session_id)

    # -- deciding ---------------------------------------------------------------------------------
    def judge(self, event: Event) -> AttentionNeeded | None:
        match event:
            case ScenarioStepChanged(status="MANUAL"):
                return self._manual_waits(event)
            case ScenarioStepChanged(status="PASS"):
                return self._approval_held(event)
            case ScenarioFinished():
                self._manual.discard(event.scenario_id)
                if event.status in FAILED and event.priority in GATED:
                    return self._called(
                        "failure",
                        f"Scenario {event.scenario_id} ({event.priority}) {event.status}: {event.reason}",
                        title=event.title,
                        status=event.status,
                        scenario_id=event.scenario_id,
                        severity="error",
                    )
            case CheckFinished() if event.result.status in {Status.FAIL, Status.ERROR}:
                r = event.result
                return self._called(
                    "failure",
                    f"Check {r.key} {r.status}: {r.reason or r.observed or r.title}",
                    title=r.title,
                    status=str(r.status),
                    check_key=r.key,
                    severity="error",
                )
            case RunFinished():
                label = "GO" if event.go else "NO-GO"
                blockers = f", {len(event.reasons)} blocker(s): {event.reasons[0]}" if event.reasons else ""
                return self._called(
                    "verdict",
                    f"Gate finished: {label}{blockers}",
                    title="Gate verdict",
                    status=label,
                    severity="information" if event.go else "error",
                )
        return None

    def _manual_waits(self, event: ScenarioStepChanged) -> AttentionNeeded | None:
        if event.scenario_id in self._manual:
            return None
        self._manual.add(event.scenario_id)
        priority = f" ({event.priority})" if event.priority else ""
        return self._called(
            "manual",
            f"Scenario {event.scenario_id}{priority} waits for your manual check: {event.title}",
            title=event.title,
            status="MANUAL",
            scenario_id=event.scenario_id,
        )

    def _approval_held(self, event: ScenarioStepChanged) -> AttentionNeeded | None:
        step = self._step(event.scenario_id, event.step_index)
        approval = event.detail.get("approval_id")
        if not isinstance(step, ExpectApproval) or step.status not in HELD or approval is None:
            return None
        key = (event.scenario_id, str(approval))
        if key in self._approvals:
            return None
        self._approvals.add(key)
        run = event.detail.get("run_id")
        on_run = f" on run {run}" if run else ""
        return self._called(
            "approval",
            f"Scenario {event.scenario_id}: the platform holds approval request {approval} "
            f"for {step.tool}{on_run}",
            title=event.title,
            status="requested",
            scenario_id=event.scenario_id,
        )

    def _step(self, scenario_id: str, index: int) -> Step | None:
        scenario = next((s for s in self.plan.scenarios if s.id == scenario_id), None)
        if scenario is None or scenario.mode != "auto" or not 0 <= index < len(scenario.steps):
            return None
        return scenario.steps[index]

    def _called(
        self,
        need: str,
        message: str,
        *,
        title: str = "",
        status: str = "",
        scenario_id: str = "",
        check_key: str = "",
        severity: str = "warning",
    ) -> AttentionNeeded:
        # the texts come from hosts, the platform and the plan: redacted again here, since the
        # redactor may have learnt a secret since they were first recorded
        return AttentionNeeded(
            need=need,
            message=one_line(self.redact(message)),
            title=one_line(self.redact(title), 120),
            status=status,
            scenario_id=scenario_id,
            check_key=check_key,
            severity=severity,
            ts=round(self.clock(), 3),
        )
