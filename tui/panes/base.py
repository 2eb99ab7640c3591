"""What every pane does: show the gate's state, then follow its events."""

from __future__ import annotations

from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget

from backends.events import Event
from backends.gate import Gate


class GatePane(Vertical):
    """A pane renders from `gate.session.state` on load and updates on each event.

    Only the pane on screen redraws as events arrive. A hidden one records what changed and sets
    `behind`; it redraws that once, when it is shown again (`catch_up`): a burst of records costs a
    hidden pane a few dictionary writes, in the operator's app and in every served terminal.
    """

    gate: Gate | None = None
    behind = False

    def load(self, gate: Gate) -> None:
        self.gate = gate

    def on_gate_event(self, event: Event) -> None:
        pass

    @property
    def shown(self) -> bool:
        """On the active tab: drawing now is seen (a hidden tab's widgets are not even laid out)."""
        node: object = self
        while isinstance(node, Widget):
            if not node.display:
                return False
            node = node.parent
        return True

    def catch_up(self) -> None:
        """Draw what changed while the pane was hidden."""

    def bring_up_to_date(self) -> None:
        if self.behind:
            self.behind = False
            self.catch_up()

    def default_focus(self) -> Widget | None:
        """The widget that takes the keys when the pane is shown (None: the first focusable one)."""
        return None

    def on_show(self) -> None:
        # the app brings a pane up to date before it switches to it; this covers the other ways in
        # (a click on the tab, a widget in the pane taking the focus)
        self.bring_up_to_date()
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
