"""The one question before a decision is recorded: it is final for this evidence."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.styles import STATUS_STYLE
from tui.text import printable


class ConfirmDecision(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmDecision { align: center middle; }
    ConfirmDecision > Vertical {
        width: 64; height: auto; border: round $accent; background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Record it"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, decision: str, comment: str, head: str) -> None:
        super().__init__()
        self.decision, self.comment, self.head = decision, comment, head

    def compose(self) -> ComposeResult:
        text = Text.assemble(
            "Record ",
            (f" {self.decision} ", STATUS_STYLE.get(self.decision, "bold")),
            f" on chain head {self.head[:16]}…?\n\n",
            f"Comment: {printable(self.comment) or '(none)'}\n\n",
            "The decision is final for this evidence; if the evidence changes, a new decision is needed.\n\n",
            ("y", "bold"),
            " record it    ",
            ("n", "bold"),
            " / ",
            ("escape", "bold"),
            " cancel",
        )
        with Vertical():
            yield Static(text, id="confirm-text")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
