"""Pane 2: the scenario matrix — every scenario of the plan as a row that runs, with proof."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from backends.events import Event, ScenarioFinished, ScenarioStepChanged
from backends.gate import Gate
from backends.plan.model import GROUPS, Scenario
from backends.scenarios.coverage import coverage
from backends.state import ScenarioState
from backends.timeline.read import TimelineReader
from tui.panes.base import CancelScenario, GatePane, RecordManual, RunScenarios, SkipScenario
from tui.panes.coverage import CoverageView
from tui.panes.scenario_detail import ScenarioDetail
from tui.panes.timeline import TimelineScreen
from tui.styles import status_text
from tui.text import cell

# the title goes last: it is the one column a narrow terminal may clip
COLUMNS = ("Status", "ID", "P", "Steps", "Proof", "Time", "Title")
STATUS_CYCLE = ("all", "PASS", "FAIL", "RUNNING", "PENDING", "SKIP", "MANUAL")
PRIORITY_CYCLE = ("all", "P0", "P1", "P2")
GROUP_CYCLE = ("all", *GROUPS)


class ScenariosPane(GatePane):
    BINDINGS = [
        Binding("enter", "detail", "Detail"),
        Binding("c", "coverage", "Coverage"),
        Binding("t", "timeline", "Timeline"),
        Binding("g", "cycle('group')", "Group"),
        Binding("p", "cycle('priority')", "Prio"),
        Binding("f", "cycle('status')", "Status"),
        Binding("r", "run", "Run/retry"),
        Binding("x", "cancel", "Cancel", show=False),
        Binding("s", "ask('skip')", "Skip", show=False),
        Binding("y", "ask('pass')", "Manual pass", show=False),
        Binding("n", "ask('fail')", "Manual fail", show=False),
    ]
    DEFAULT_CSS = """
    ScenariosPane #scenario-summary { height: 1; padding: 0 1; }
    ScenariosPane DataTable { height: 1fr; }
    ScenariosPane #scenario-note { display: none; }
    ScenariosPane #scenario-note.asking { display: block; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.filters = {"group": "all", "priority": "all", "status": "all"}
        self._asking: tuple[str, str] | None = None
        self._timeline: TimelineReader | None = None  # kept: opening it again reads only the new records
        self._held: set[str] = set()  # scenarios whose rows changed while the pane was hidden

    def compose(self) -> ComposeResult:
        yield Static("Scenarios: waiting for the gate to open…", id="scenario-summary")
        table: DataTable[Text] = DataTable(id="scenario-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Input(placeholder="reason or note, enter to record, escape to cancel", id="scenario-note")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#scenario-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col)

    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._rebuild()

    # -- rendering ------------------------------------------------------------------------------
    def _scenarios(self) -> list[Scenario]:
        return self.gate.engine.plan.scenarios if self.gate else []

    def _state(self, scenario_id: str) -> ScenarioState | None:
        return self.gate.session.state.scenarios.get(scenario_id) if self.gate else None

    def _status(self, scenario: Scenario) -> str:
        st = self._state(scenario.id)
        if st is None:
            return "MANUAL" if scenario.mode == "manual" else "PENDING"
        if st.status == "RUNNING" and any(s.status == "MANUAL" for s in st.steps.values()):
            return "MANUAL"
        return st.status

    def _visible(self, scenario: Scenario) -> bool:
        f = self.filters
        return (
            (f["group"] == "all" or scenario.group == f["group"])
            and (f["priority"] == "all" or scenario.priority == f["priority"])
            and (f["status"] == "all" or self._status(scenario) == f["status"])
        )

    def _cells(self, scenario: Scenario) -> tuple[Text, ...]:
        st = self._state(scenario.id)
        total = len(scenario.checklist) if scenario.mode == "manual" else len(scenario.steps)
        done = sum(1 for s in st.steps.values() if s.status == "PASS") if st else 0
        duration = f"{st.duration_s:.1f}s" if st and st.duration_s else ""
        # proof: recorded observations (a step's actual value or excerpt) the evidence store holds
        proof = sum(1 for s in st.steps.values() if s.actual or s.detail.get("excerpt")) if st else 0
        return (
            status_text(self._status(scenario)),
            cell(scenario.id),
            cell(scenario.priority),
            Text(f"{done}/{total}"),
            Text(str(proof) if proof else ""),
            Text(duration),
            cell(scenario.title),  # a plan's text is data: "[ai-model-*]" is not markup
        )

    def _rebuild(self) -> None:
        table = self.table
        selected = self._selected_id()
        table.clear()
        for scenario in self._scenarios():
            if self._visible(scenario):
                table.add_row(*self._cells(scenario), key=scenario.id)
        if selected is not None and selected in {s.id for s in self._scenarios() if self._visible(s)}:
            table.move_cursor(row=table.get_row_index(selected))
        self._summarise()

    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for scenario in self._scenarios():
            status = self._status(scenario)
            counts[status] = counts.get(status, 0) + 1
        order = ["PASS", "FAIL", "RUNNING", "PENDING", "MANUAL", "SKIP"]
        parts = [Text.assemble(status_text(s, 0), f" {counts[s]}") for s in order if counts.get(s)]
        active = [f"{k}={v}" for k, v in self.filters.items() if v != "all"]
        filt = f"  filter {' '.join(active)}" if active else ""
        summary = Text.assemble(f"Scenarios {len(self._scenarios())}  ", Text("  ").join(parts), filt)
        self.query_one("#scenario-summary", Static).update(summary)

    def on_gate_event(self, event: Event) -> None:
        if not self.query("#scenario-table"):
            return  # composing or closing: load() and the next rebuild show the state
        if isinstance(event, (ScenarioStepChanged, ScenarioFinished)):
            if not self.shown:
                self._held.add(event.scenario_id)
                self.behind = True
                return
            self._draw_rows({event.scenario_id})

    def catch_up(self) -> None:
        held, self._held = self._held, set()
        self._draw_rows(held)

    def _draw_rows(self, ids: set[str]) -> None:
        """The rows of these scenarios from the state, or the whole table if one joins or leaves it."""
        changed = [s for s in self._scenarios() if s.id in ids]
        if any(s.id not in self.table.rows or not self._visible(s) for s in changed):
            self._rebuild()
            return
        for scenario in changed:
            for col, value in zip(COLUMNS, self._cells(scenario), strict=True):
                self.table.update_cell(scenario.id, col, value, update_width=col in ("Time", "Proof"))
        if changed:
            self._summarise()

    # -- actions ---------------------------------------------------------------------------------
    def _selected_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _selected(self) -> Scenario | None:
        sid = self._selected_id()
        return next((s for s in self._scenarios() if s.id == sid), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # the table consumes enter for its own selection; selecting a row opens its detail
        event.stop()
        self.action_detail()

    def action_detail(self) -> None:
        scenario = self._selected()
        if scenario is not None:
            self.app.push_screen(ScenarioDetail(scenario, self._state(scenario.id)))

    def action_coverage(self) -> None:
        if self.gate is not None:
            self.app.push_screen(CoverageView(coverage(self.gate.engine.plan, self.gate.session.state)))

    def action_timeline(self) -> None:
        if self.gate is None:
            return
        if self._timeline is None or self._timeline.session is not self.gate.session:
            self._timeline = TimelineReader(self.gate.session)
        self.app.push_screen(TimelineScreen(self.gate, self._timeline))

    def action_cycle(self, which: str) -> None:
        cycle = {"group": GROUP_CYCLE, "priority": PRIORITY_CYCLE, "status": STATUS_CYCLE}[which]
        current = self.filters[which]
        self.filters[which] = cycle[(cycle.index(current) + 1) % len(cycle)]
        self._rebuild()

    def action_run(self) -> None:
        scenario = self._selected()
        if scenario is not None and scenario.mode == "auto":
            self.post_message(RunScenarios([scenario.id]))

    def action_cancel(self) -> None:
        scenario = self._selected()
        if scenario is not None:
            self.post_message(CancelScenario(scenario.id))

    def action_ask(self, what: str) -> None:
        scenario = self._selected()
        if scenario is None or (what in {"pass", "fail"} and scenario.mode != "manual"):
            return
        self._asking = (what, scenario.id)
        note = self.query_one("#scenario-note", Input)
        note.placeholder = f"{what} {scenario.id}: reason or note, enter to record, escape to cancel"
        note.add_class("asking")
        note.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._asking is None or not event.value.strip():
            return
        what, scenario_id = self._asking
        if what == "skip":
            self.post_message(SkipScenario(scenario_id, event.value.strip()))
        else:
            self.post_message(RecordManual(scenario_id, what == "pass", event.value.strip()))
        self._close_note()

    def _close_note(self) -> None:
        note = self.query_one("#scenario-note", Input)
        note.value = ""
        note.remove_class("asking")
        self._asking = None
        self.table.focus()

    def key_escape(self) -> None:
        if self._asking is not None:
            self._close_note()
