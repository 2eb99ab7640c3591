"""Pane 1: VPS preflight — every check, its status, what was observed and what was expected."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backends.engine import PlannedCheck
from backends.events import CheckFinished, CheckStarted, Event
from backends.gate import Gate
from backends.results import CheckResult, Status
from tui.panes.base import GatePane, RerunChecks
from tui.styles import status_text

COLUMNS = ("Status", "Target", "Check", "Observed", "Expected / reason")


class PreflightPane(GatePane):
    BINDINGS = [
        Binding("r", "rerun_all", "Re-run all"),
        Binding("enter", "rerun_selected", "Re-run check", show=False),
    ]
    DEFAULT_CSS = """
    PreflightPane #preflight-summary { height: 1; padding: 0 1; }
    PreflightPane DataTable { height: 1fr; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._planned: dict[str, PlannedCheck] = {}
        self._statuses: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("Preflight: waiting for the gate to open…", id="preflight-summary")
        table: DataTable[Text | str] = DataTable(id="preflight-table", cursor_type="row", zebra_stripes=True)
        yield table

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#preflight-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col)

    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._planned = {p.key: p for p in gate.engine.planned_checks()}
        table = self.table
        table.clear()
        state = gate.session.state
        for key, planned in self._planned.items():
            result = state.checks.get(key)
            table.add_row(*self._cells(planned, result, "RUNNING" if key in state.running else None), key=key)
            self._statuses[key] = str(result.status) if result else "PENDING"
        self._summarise()

    def _cells(
        self, planned: PlannedCheck, result: CheckResult | None, override: str | None = None
    ) -> tuple[Text | str, ...]:
        status = override or (str(result.status) if result else "PENDING")
        observed = result.observed if result else ""
        if result and result.status not in {Status.PASS} and result.reason:
            right = result.reason
        else:
            right = result.expected if result else ""
        return (status_text(status), planned.target, planned.title, observed, right)

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, CheckStarted) and event.key in self._planned:
            self._update(event.key, None, "RUNNING")
        elif isinstance(event, CheckFinished) and event.result.key in self._planned:
            self._update(event.result.key, event.result)

    def _update(self, key: str, result: CheckResult | None, override: str | None = None) -> None:
        cells = self._cells(self._planned[key], result, override)
        for col, value in zip(COLUMNS, cells, strict=True):
            self.table.update_cell(key, col, value, update_width=col in {"Observed", "Expected / reason"})
        self._statuses[key] = override or (str(result.status) if result else "PENDING")
        self._summarise()

    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for status in self._statuses.values():
            counts[status] = counts.get(status, 0) + 1
        order = ["PASS", "WARN", "FAIL", "ERROR", "SKIP", "RUNNING", "PENDING"]
        parts = [Text.assemble(status_text(s, 0), f" {counts[s]}") for s in order if counts.get(s)]
        summary = Text.assemble(f"Preflight: {len(self._statuses)} checks  ", Text("  ").join(parts))
        self.query_one("#preflight-summary", Static).update(summary)

    def action_rerun_all(self) -> None:
        self.post_message(RerunChecks(None))

    def action_rerun_selected(self) -> None:
        table = self.table
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                self.post_message(RerunChecks({key}))
