"""The header: app name, session, target and the verdict badge (badge text says GO / NO-GO / …)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.styles import STATUS_STYLE
from tui.text import printable


class GateHeader(Widget):
    DEFAULT_CSS = """
    GateHeader { height: 1; background: $panel; color: $text; }
    """
    session: reactive[str] = reactive("")
    target: reactive[str] = reactive("")
    verdict: reactive[str] = reactive("PENDING")

    def render(self) -> Text:
        badge_label = {"PENDING": " … ", "RUNNING": " RUNNING "}.get(self.verdict, f" {self.verdict} ")
        badge = Text(badge_label, style=STATUS_STYLE.get(self.verdict, "reverse"))
        left = Text.assemble(
            ("Gate Room", "bold"),
            "  session ",
            (printable(self.session or "—", one_line=True), "bold"),
            "  target ",
            (printable(self.target or "—", one_line=True), "bold"),
        )
        width = self.size.width
        pad = max(1, width - left.cell_len - badge.cell_len - 1)
        line = Text.assemble(left, " " * pad, badge)
        line.truncate(width)
        return line
