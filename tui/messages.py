"""Textual messages carrying engine events and the opened gate into the UI."""

from __future__ import annotations

from textual.message import Message

from backends.gate import Gate


class GateEvents(Message):
    """Engine events are waiting in the app's queue: one message however many arrived meanwhile (a
    follower publishes a whole poll's records at once), so the panes redraw once for all of them."""


class GateOpened(Message):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate
