"""Textual messages carrying engine events and the opened gate into the UI."""

from __future__ import annotations

from textual.message import Message

from backends.events import Event
from backends.gate import Gate


class GateEvent(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class GateOpened(Message):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate
