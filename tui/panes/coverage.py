"""The label-coverage view: every catalogue label, who covers it, and whether a run exercised it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from backends.scenarios.coverage import LabelCoverage
from tui.text import cell, printable

STYLE = {"EXERCISED": "bold green", "PLANNED": "yellow", "UNCOVERED": "bold red"}


class CoverageView(ModalScreen[None]):
    DEFAULT_CSS = """
    CoverageView { align: center middle; }
    CoverageView > Vertical { width: 96%; height: 92%; border: round $accent; background: $surface; }
    CoverageView #coverage-summary { height: auto; padding: 0 1; }
    CoverageView DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, rows: list[LabelCoverage]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        exercised = sum(1 for r in self.rows if r.status == "EXERCISED")
        uncovered = [r.label for r in self.rows if r.status == "UNCOVERED"]
        summary = Text(f"Label coverage: {exercised}/{len(self.rows)} exercised in this session")
        summary.append(
            f" · uncovered by the plan: {printable(', '.join(uncovered), one_line=True)}"
            if uncovered
            else " · every label is covered by the plan"
        )
        with Vertical():
            yield Static(summary, id="coverage-summary")
            table: DataTable[Text] = DataTable(id="coverage-table", cursor_type="row", zebra_stripes=True)
            yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Label", "Coverage", "Exercised by", "Planned in")
        for row in self.rows:
            table.add_row(
                cell(row.label),  # "[ai-model-gpt-5.4]" is a label, not markup
                Text(row.status, style=STYLE[row.status]),
                cell(", ".join(row.exercised_by) or "—"),
                cell(", ".join(row.declared_by) or "—"),
            )

    def action_close(self) -> None:
        self.dismiss()
