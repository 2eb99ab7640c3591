"""Ask for a waiver's reason; an empty reason is refused on the spot."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.text import printable


class WaiverPrompt(ModalScreen[str | None]):
    """Dismissed with the reason, or None when cancelled."""

    DEFAULT_CSS = """
    WaiverPrompt { align: center middle; }
    WaiverPrompt > Vertical {
        width: 80%; height: auto; border: round $warning; background: $surface; padding: 0 1;
    }
    WaiverPrompt #waiver-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, key: str, summary: str) -> None:
        super().__init__()
        self.key = key
        self.summary = summary

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = "Waive a finding"
        with box:
            what = Text.assemble((printable(self.key), "bold"), "\n", printable(self.summary))
            yield Static(what, id="waiver-what")
            yield Static("Why is it acceptable to go ahead? The reason is recorded and shown at sign-off.")
            yield Input(placeholder="reason (required)", id="waiver-reason")
            yield Static("", id="waiver-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#waiver-error", Static).update("A waiver needs a reason.")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
