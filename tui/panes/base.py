"""What every pane does: show the gate's state, then follow its events."""

from __future__ import annotations

from textual.containers import Vertical
from textual.message import Message

from backends.events import Event
from backends.gate import Gate


class GatePane(Vertical):
    """A pane renders from `gate.session.state` on load and updates on each event."""

    gate: Gate | None = None

    def load(self, gate: Gate) -> None:
        self.gate = gate

    def on_gate_event(self, event: Event) -> None:
        pass


class Intent(Message):
    """Something the operator asked for; the app carries it to the engine."""


class RerunChecks(Intent):
    def __init__(self, keys: set[str] | None) -> None:
        super().__init__()
        self.keys = keys
