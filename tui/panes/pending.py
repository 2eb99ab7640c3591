"""Panes whose feature is not built yet say so plainly instead of pretending."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui.panes.base import GatePane


class PendingPane(GatePane):
    DEFAULT_CSS = """
    PendingPane { align: center middle; }
    PendingPane > Static { width: auto; max-width: 70; border: round $warning; padding: 1 2; }
    """

    def __init__(self, title: str, what: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._title = title
        self._what = what

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((self._title, "bold"), "\n\nNot available in this version.\n", self._what))
