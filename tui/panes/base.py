"""What every pane does: show the gate's state, then follow its events."""

from __future__ import annotations

from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget

from backends.events import Event
from backends.gate import Gate


class GatePane(Vertical):
    """A pane renders from `gate.session.state` on load and updates on each event."""

    gate: Gate | None = None

    def load(self, gate: Gate) -> None:
        self.gate = gate

    def on_gate_event(self, event: Event) -> None:
        pass

    def default_focus(self) -> Widget | None:
        """The widget that takes the keys when the pane is shown (None: the first focusable one)."""
        return None

    def on_show(self) -> None:
        # keys go to the pane at once, without a tab key to reach its content (1-5 still work)
        focused = self.screen.focused
        target = self.default_focus()
        if target is not None and (focused is None or self not in focused.ancestors):
            target.focus()


class Intent(Message):
    """Something the operator asked for; the app carries it to the engine."""


class RerunChecks(Intent):
    def __init__(self, keys: set[str] | None) -> None:
        super().__init__()
        self.keys = keys


class RunScenarios(Intent):
    """Run (or run again, from a fresh test issue) these scenarios."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__()
        self.ids = ids


class CancelScenario(Intent):
    def __init__(self, scenario_id: str) -> None:
        super().__init__()
        self.scenario_id = scenario_id


class SkipScenario(Intent):
    def __init__(self, scenario_id: str, reason: str) -> None:
        super().__init__()
        self.scenario_id = scenario_id
        self.reason = reason


class RecordManual(Intent):
    def __init__(self, scenario_id: str, passed: bool, note: str) -> None:
        super().__init__()
        self.scenario_id = scenario_id
        self.passed = passed
        self.note = note
