"""Pane 1: VPS preflight — every check grouped by target (host, local copy, GitHub, cluster), then by
area, with its status, what was observed and what was expected; a detail view per check; re-run one
check, its group or everything; progress while checks run; a summary line."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, Static

from backends.engine import PlannedCheck
from backends.events import CheckFinished, CheckStarted, Event
from backends.gate import Gate
from backends.results import CheckResult, Status
from backends.signoff import pane_of
from tui.panes.base import GatePane, RerunChecks
from tui.panes.check_detail import CheckDetail
from tui.styles import status_text
from tui.text import cell, printable

COLUMNS = ("Status", "Target", "Area", "Check", "Result", "Expected")
#: long observations are clipped in the table; the line under it and the detail view show them whole
CLIP = 60
AREA_ORDER = ("host", "config", "github", "cluster")
SUMMARY_ORDER = ("PASS", "WARN", "FAIL", "ERROR", "SKIP", "RUNNING", "PENDING")


def grouped(planned: list[PlannedCheck]) -> list[PlannedCheck]:
    """Checks by target (in the order targets first appear), then area, then plan order."""
    targets: dict[str, int] = {}
    for p in planned:
        targets.setdefault(p.target, len(targets))

    def area_rank(area: str) -> int:
        return AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)

    order = {p.key: i for i, p in enumerate(planned)}
    return sorted(planned, key=lambda p: (targets[p.target], area_rank(p.area), order[p.key]))


def short_title(p: PlannedCheck) -> str:
    """The Area column already says it is the env file; the title need not repeat it."""
    return p.title.removeprefix("Bootstrap env: ").capitalize() if p.area == "config" else p.title


class PreflightPane(GatePane):
    BINDINGS = [
        Binding("enter,d", "detail", "Detail"),
        Binding("r", "rerun_selected", "Re-run check"),
        Binding("g", "rerun_group", "Re-run group"),
        Binding("R", "rerun_all", "Re-run all"),
    ]
    DEFAULT_CSS = """
    PreflightPane #preflight-top { height: 1; padding: 0 1; }
    PreflightPane #preflight-summary { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    PreflightPane #preflight-progress { width: 30; height: 1; display: none; }
    PreflightPane #preflight-progress.running { display: block; }
    PreflightPane DataTable { height: 1fr; }
    PreflightPane #preflight-selected {
        height: 2;
        padding: 0 1;
        background: $boost;
        text-wrap: wrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._planned: dict[str, PlannedCheck] = {}
        self._statuses: dict[str, str] = {}
        self._results: dict[str, CheckResult] = {}
        self._held: dict[str, tuple[CheckResult | None, str]] = {}  # rows changed while hidden

    def compose(self) -> ComposeResult:
        with Horizontal(id="preflight-top"):
            yield Static("Preflight: waiting for the gate to open…", id="preflight-summary")
            # given a total from the start: an indeterminate bar animates, 15 frames a second, even
            # while it is hidden (its real total is set before it is first shown)
            yield ProgressBar(id="preflight-progress", show_eta=False, total=1)
        table: DataTable[Text] = DataTable(id="preflight-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="preflight-selected")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#preflight-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col)

    # -- rows ---------------------------------------------------------------------------------------------
    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._held.clear()  # every row is drawn from the state below
        # security-area checks have their own pane
        planned = grouped([p for p in gate.engine.planned_checks() if pane_of(p.area) == "preflight"])
        state = gate.session.state
        # a resumed session may hold results for checks the plan no longer lists: show them too
        known = {p.key for p in planned}
        extra = [
            PlannedCheck(r.key, r.check_id, r.area, r.title, r.target)
            for r in state.checks.values()
            if r.key not in known and pane_of(r.area) == "preflight"
        ]
        ordered = grouped(planned + extra)
        self._planned = {p.key: p for p in ordered}
        self._results = {k: r for k, r in state.checks.items() if k in self._planned}
        table = self.table
        table.clear()
        previous: PlannedCheck | None = None
        for p in ordered:
            result = state.checks.get(p.key)
            status = "RUNNING" if p.key in state.running else (str(result.status) if result else "PENDING")
            self._statuses[p.key] = status
            table.add_row(*self._cells(p, result, status, previous), key=p.key)
            previous = p
        self._summarise()
        if ordered:
            self._describe(ordered[0].key)
        table.focus()  # the pane's keys (detail, re-run) work at once and show in the footer

    def _cells(
        self, p: PlannedCheck, result: CheckResult | None, status: str, previous: PlannedCheck | None
    ) -> tuple[Text, ...]:
        # the target and area are written once per group, so the groups read as blocks
        new_target = previous is None or previous.target != p.target
        target = cell(p.target, "bold") if new_target else Text("")
        new_area = new_target or previous is None or previous.area != p.area
        area = cell(p.area, "italic") if new_area else Text("")
        # a check that did not pass shows why; one that passed shows what it saw
        if result and result.status is not Status.PASS and result.reason:
            shown = cell(result.reason, "red" if result.status.blocking else "", limit=CLIP)
        else:
            shown = cell(result.observed if result else "", limit=CLIP)
        expected = cell(result.expected if result else "", "dim", limit=CLIP)
        return (status_text(status), target, area, cell(short_title(p)), shown, expected)

    def _previous(self, key: str) -> PlannedCheck | None:
        keys = list(self._planned)
        index = keys.index(key)
        return self._planned[keys[index - 1]] if index else None

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, CheckStarted) and event.key in self._planned:
            self._update(event.key, None, "RUNNING")
        elif isinstance(event, CheckFinished) and event.result.key in self._planned:
            self._results[event.result.key] = event.result
            self._update(event.result.key, event.result, str(event.result.status))

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
        cells = self._cells(self._planned[key], result, status, self._previous(key))
        for col, value in zip(COLUMNS, cells, strict=True):
            self.table.update_cell(key, col, value, update_width=col in {"Result", "Expected"})

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
        """The selected check in full under the table: the table clips, this line does not."""
        result = self._results.get(key)
        status = self._statuses.get(key, "PENDING")
        line = Text.assemble(status_text(status, 0), " ", cell(key, "bold"))
        if result is not None:
            for label, value in (("reason", result.reason), ("observed", result.observed)):
                if value:
                    line.append(f"  {label}: ", style="dim")
                    line.append(printable(value, one_line=True))
            if result.expected:
                line.append("  expected: ", style="dim")
                line.append(printable(result.expected, one_line=True))
        self.query_one("#preflight-selected", Static).update(line)

    # -- summary and progress -----------------------------------------------------------------------------
    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for status in self._statuses.values():
            counts[status] = counts.get(status, 0) + 1
        total = len(self._statuses)
        parts = [Text.assemble(status_text(s, 0), f" {counts[s]}") for s in SUMMARY_ORDER if counts.get(s)]
        targets = len({p.target for p in self._planned.values()})
        head = f"Preflight: {total} checks on {targets} target{'s' if targets != 1 else ''}  "
        summary = Text.assemble(head, Text("  ").join(parts))
        self.query_one("#preflight-summary", Static).update(summary)
        running = counts.get("RUNNING", 0)
        bar = self.query_one("#preflight-progress", ProgressBar)
        bar.set_class(running > 0, "running")
        if running:
            done = sum(n for s, n in counts.items() if s not in {"RUNNING", "PENDING"})
            bar.update(total=total, progress=done)

    # -- actions ------------------------------------------------------------------------------------------
    def _selected(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if key in self._planned else None

    def action_detail(self) -> None:
        key = self._selected()
        if key is None:
            return
        planned = self._planned[key]

        def closed(rerun: bool | None) -> None:
            if rerun:
                self.post_message(RerunChecks({key}))

        detail = CheckDetail(key, planned.title, self._results.get(key), self._statuses.get(key, "PENDING"))
        self.app.push_screen(detail, closed)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # the table takes enter itself (select the row): selecting a row opens its detail
        event.stop()
        self.action_detail()

    def action_rerun_selected(self) -> None:
        key = self._selected()
        if key is not None:
            self.post_message(RerunChecks({key}))

    def action_rerun_group(self) -> None:
        """Every check of the selected row's target and area (e.g. all `host` checks of one VPS)."""
        key = self._selected()
        if key is None:
            return
        chosen = self._planned[key]
        group = {k for k, p in self._planned.items() if p.target == chosen.target and p.area == chosen.area}
        self.post_message(RerunChecks(group))

    def action_rerun_all(self) -> None:
        self.post_message(RerunChecks(None))
