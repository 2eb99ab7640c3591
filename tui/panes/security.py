"""Pane 4: security and reliability — the security checks grouped (RBAC, secrets, approvals,
reliability, network) with status and evidence, a detail view (the RBAC matrix, leak findings), and
waivers: a finding is waived only with a reason, recorded in the evidence and shown at sign-off."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backends.engine import PlannedCheck
from backends.events import CheckFinished, CheckStarted, Event, Waived
from backends.gate import Gate
from backends.results import CheckResult, Status
from backends.signoff import pane_of
from tui.panes.base import GatePane, Intent, RerunChecks
from tui.panes.security_detail import SecurityDetail
from tui.panes.waiver import WaiverPrompt
from tui.styles import status_text
from tui.text import cell, notify, printable

GROUPS = {"rbac": "RBAC", "secrets": "Secrets", "approvals": "Approvals", "reliability": "Reliability"}
GROUPS |= {"network": "Network"}
COLUMNS = ("Status", "Group", "Check", "Evidence")
CLIP = 70
SUMMARY_ORDER = ("PASS", "WARN", "FAIL", "ERROR", "SKIP", "RUNNING", "PENDING")
MATRIX_CHECK = "sec.rbac-agents"


class WaiveCheck(Intent):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__()
        self.key = key
        self.reason = reason


def _rank(p: PlannedCheck) -> int:
    return list(GROUPS).index(p.area) if p.area in GROUPS else len(GROUPS)


class SecurityPane(GatePane):
    BINDINGS = [
        Binding("enter,d", "detail", "Detail"),
        Binding("m", "matrix", "RBAC matrix"),
        Binding("w", "waive", "Waive"),
        Binding("r", "rerun_selected", "Re-run"),
        Binding("R", "rerun_all", "Re-run all"),
    ]
    DEFAULT_CSS = """
    SecurityPane #security-summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SecurityPane DataTable { height: 1fr; }
    SecurityPane #security-selected {
        height: 2; padding: 0 1; background: $boost; text-wrap: wrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._planned: dict[str, PlannedCheck] = {}
        self._statuses: dict[str, str] = {}
        self._results: dict[str, CheckResult] = {}
        self._held: dict[str, tuple[CheckResult | None, str]] = {}  # rows changed while hidden

    def compose(self) -> ComposeResult:
        yield Static("Security: waiting for the gate to open…", id="security-summary")
        table: DataTable[Text] = DataTable(id="security-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="security-selected")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#security-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col)

    # -- rows ---------------------------------------------------------------------------------------------
    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._held.clear()  # every row is drawn from the state below
        state = gate.session.state
        planned = [p for p in gate.engine.planned_checks() if pane_of(p.area) == "security"]
        known = {p.key for p in planned}
        planned += [
            PlannedCheck(r.key, r.check_id, r.area, r.title, r.target)
            for r in state.checks.values()
            if r.key not in known and pane_of(r.area) == "security"
        ]
        order = {p.key: i for i, p in enumerate(planned)}
        ordered = sorted(planned, key=lambda p: (_rank(p), order[p.key]))
        self._planned = {p.key: p for p in ordered}
        self._results = {k: r for k, r in state.checks.items() if k in self._planned}
        self.table.clear()
        for p in ordered:
            result = state.checks.get(p.key)
            status = "RUNNING" if p.key in state.running else (str(result.status) if result else "PENDING")
            self._statuses[p.key] = status
            self.table.add_row(*self._cells(p.key, result, status), key=p.key)
        self._summarise()
        if ordered:
            self._describe(ordered[0].key)

    def _waived(self, key: str) -> bool:
        return self.gate is not None and key in self.gate.session.state.waivers

    def _cells(self, key: str, result: CheckResult | None, status: str) -> tuple[Text, ...]:
        p = self._planned[key]
        keys = list(self._planned)
        index = keys.index(key)
        first = index == 0 or self._planned[keys[index - 1]].area != p.area
        group = cell(GROUPS.get(p.area, p.area), "bold") if first else Text("")
        badge = status_text(status)
        if self._waived(key):
            badge = Text.assemble(badge, (" waived", "italic yellow"))
        if result and result.status is not Status.PASS and result.reason:
            evidence = cell(result.reason, "red" if result.status.blocking else "", limit=CLIP)
        else:
            evidence = cell(result.observed if result else "", limit=CLIP)
        return (badge, group, cell(p.title), evidence)

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, CheckStarted) and event.key in self._planned:
            self._update(event.key, None, "RUNNING")
        elif isinstance(event, CheckFinished) and event.result.key in self._planned:
            self._results[event.result.key] = event.result
            self._update(event.result.key, event.result, str(event.result.status))
        elif isinstance(event, Waived) and event.item_key in self._planned:
            key = event.item_key
            self._update(key, self._results.get(key), self._statuses.get(key, "PENDING"))

    def _update(self, key: str, result: CheckResult | None, status: str) -> None:
        self._statuses[key] = status
        if not self.shown:
            self._held[key] = (result, status)
            self.behind = True
            return
        self._held.pop(key, None)
        self._draw_row(key, result, status)
        self._summarise()
        if self._selected() == key:
            self._describe(key)

    def _draw_row(self, key: str, result: CheckResult | None, status: str) -> None:
        for col, value in zip(COLUMNS, self._cells(key, result, status), strict=True):
            self.table.update_cell(key, col, value, update_width=col in {"Status", "Evidence"})

    def catch_up(self) -> None:
        held, self._held = self._held, {}
        for key, (result, status) in held.items():
            self._draw_row(key, result, status)
        self._summarise()
        selected = self._selected()
        if selected is not None:
            self._describe(selected)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value in self._planned:
            self._describe(event.row_key.value)

    def _describe(self, key: str) -> None:
        result = self._results.get(key)
        line = Text.assemble(status_text(self._statuses.get(key, "PENDING"), 0), " ", cell(key, "bold"))
        if self.gate is not None and (w := self.gate.session.state.waivers.get(key)) is not None:
            line.append(f"  waived by {printable(w.by, one_line=True)}: ", style="yellow")
            line.append(printable(w.reason, one_line=True))
        if result is not None:
            for label, value in (("reason", result.reason), ("observed", result.observed)):
                if value:
                    line.append(f"  {label}: ", style="dim")
                    line.append(printable(value, one_line=True))
        self.query_one("#security-selected", Static).update(line)

    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for status in self._statuses.values():
            counts[status] = counts.get(status, 0) + 1
        parts = [Text.assemble(status_text(s, 0), f" {counts[s]}") for s in SUMMARY_ORDER if counts.get(s)]
        waived = sum(1 for k in self._planned if self._waived(k))
        head = f"Security: {len(self._statuses)} checks  "
        summary = Text.assemble(head, Text("  ").join(parts))
        if waived:
            summary.append(f"  ·  {waived} waived", style="yellow")
        self.query_one("#security-summary", Static).update(summary)

    # -- actions ------------------------------------------------------------------------------------------
    def _selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if key in self._planned else None

    def _open(self, key: str) -> None:
        waiver = self.gate.session.state.waivers.get(key) if self.gate is not None else None
        detail = SecurityDetail(
            key, self._planned[key].title, self._results.get(key), self._statuses.get(key, "PENDING"), waiver
        )

        def closed(rerun: bool | None) -> None:
            if rerun:
                self.post_message(RerunChecks({key}))

        self.app.push_screen(detail, closed)

    def action_detail(self) -> None:
        key = self._selected()
        if key is not None:
            self._open(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_detail()

    def action_matrix(self) -> None:
        key = next((k for k, p in self._planned.items() if p.check_id == MATRIX_CHECK), None)
        if key is not None:
            self._open(key)

    def action_waive(self) -> None:
        key = self._selected()
        if key is None:
            return
        result = self._results.get(key)
        if result is None or not result.status.blocking:
            notify(self, f"{key} does not block the gate: nothing to waive", severity="warning")
            return

        def chosen(reason: str | None) -> None:
            if reason:
                self.post_message(WaiveCheck(key, reason))

        summary = f"{result.status}: {result.reason or result.observed}"
        self.app.push_screen(WaiverPrompt(key, summary), chosen)

    def action_rerun_selected(self) -> None:
        key = self._selected()
        if key is not None:
            self.post_message(RerunChecks({key}))

    def action_rerun_all(self) -> None:
        self.post_message(RerunChecks(set(self._planned)))
