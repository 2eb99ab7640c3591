"""The Gate Room app: header, five panes on keys 1–5, status line, footer, palette and help."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from backends.errors import GateError
from backends.events import AttentionNeeded, Event, HookFailed, Progress, RunFinished, VerdictChanged
from backends.gate import Gate
from backends.scenarios.runner import ScenarioRunner
from backends.waivers import WaiverRefused, record_waiver
from tui.footer import GateFooter
from tui.header import GateHeader
from tui.help import HelpScreen
from tui.messages import GateEvents, GateOpened
from tui.panes.base import (
    CancelScenario,
    GatePane,
    RecordManual,
    RerunChecks,
    RunScenarios,
    SkipScenario,
)
from tui.panes.logs import LogsPane, ShowLogs
from tui.panes.preflight import PreflightPane
from tui.panes.scenarios import ScenariosPane
from tui.panes.security import SecurityPane, WaiveCheck
from tui.panes.signoff import SignoffPane
from tui.text import plain, printable

PANES = [
    ("preflight", "1 Preflight"),
    ("scenarios", "2 Scenarios"),
    ("logs", "3 Logs"),
    ("security", "4 Security"),
    ("signoff", "5 Sign-off"),
]


_ATTENTION_TITLES = {
    "manual": "Manual check waiting",
    "approval": "Approval waiting",
    "failure": "Failure",
    "verdict": "Gate finished",
}
#: long enough to be seen by an operator the bell called back from across the room
ATTENTION_TOAST_S = 30.0
_SEVERITIES: dict[str, SeverityLevel] = {"information": "information", "warning": "warning", "error": "error"}


class GateRoomApp(App[None]):
    TITLE = "Gate Room"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("1", "show('preflight')", "Preflight"),
        Binding("2", "show('scenarios')", "Scenarios"),
        Binding("3", "show('logs')", "Logs"),
        Binding("4", "show('security')", "Security"),
        Binding("5", "show('signoff')", "Sign-off"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        opener: Callable[[], Awaitable[Gate]],
        *,
        autorun: bool = True,
        rerun: bool = False,
        verbose: bool = False,
    ) -> None:
        super().__init__()
        self._opener = opener
        self._autorun = autorun
        self._rerun = rerun
        self._verbose = verbose
        self.gate: Gate | None = None
        self.exit_error: str = ""
        self._events: deque[Event] = deque()
        self._events_posted = False
        self._panes: list[GatePane] = []

    def compose(self) -> ComposeResult:
        yield GateHeader(id="header")
        with TabbedContent(id="panes", initial="preflight"):
            with TabPane(PANES[0][1], id="preflight"):
                yield PreflightPane(id="preflight-pane")
            with TabPane(PANES[1][1], id="scenarios"):
                yield ScenariosPane(id="scenarios-pane")
            with TabPane(PANES[2][1], id="logs"):
                yield LogsPane(id="logs-pane")
            with TabPane(PANES[3][1], id="security"):
                yield SecurityPane(id="security-pane")
            with TabPane(PANES[4][1], id="signoff"):
                yield SignoffPane(id="signoff-pane")
        yield Static("Opening the gate…", id="status-line")
        yield GateFooter()

    # -- opening --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._open()

    @work(exclusive=True, group="open")
    async def _open(self) -> None:
        try:
            gate = await self._opener()
        except GateError as exc:
            self.exit_error = str(exc)
            self._status(f"Cannot open the gate: {exc}", error=True)
            return
        self.post_message(GateOpened(gate))

    def on_gate_opened(self, message: GateOpened) -> None:
        gate = self.gate = message.gate

        def forward(event: Event) -> None:
            # queued, with one message waiting at a time: a burst is drawn once (this may run on an
            # engine thread; the flag is cleared before the queue is drained, so nothing is missed)
            self._events.append(event)
            if not self._events_posted:
                self._events_posted = True
                self.post_message(GateEvents())

        gate.bus.subscribe(forward)
        header = self.query_one(GateHeader)
        header.session = gate.session.session_id
        header.target = gate.settings.target_label
        self._set_badge()
        self._panes = list(self.query(GatePane))
        for pane in self._panes:
            pane.load(gate)
        if self._verbose and gate.world is not None:
            self.notify("\n".join(gate.world.endpoints()), title="Sandbox", timeout=30, markup=False)
        resumed = " (resumed)" if gate.session.resumed else ""
        self._status(f"Session {gate.session.session_id}{resumed} · evidence in {gate.session.dir}")
        self.call_after_refresh(self._freeze_start_up_heap)
        if self._autorun:
            self._run_gate()

    def _freeze_start_up_heap(self) -> None:
        """The app, its widgets and the opened gate live as long as the session: frozen, they leave the
        collector's full passes, which otherwise walk all of them again and again while lines stream
        in — each pass was a pause of hundreds of milliseconds that key presses waited behind. (No
        collection first: that would cost as much once; the little start-up garbage frozen with them
        is released at unmount.)"""
        gc.freeze()

    @work(exclusive=True, group="engine")
    async def _run_gate(self) -> None:
        assert self.gate is not None
        try:
            await self.gate.engine.run(rerun=self._rerun)
        except GateError as exc:
            self._status(str(exc), error=True)

    @work(group="engine-partial")
    async def _rerun_checks(self, keys: set[str] | None) -> None:
        assert self.gate is not None
        try:
            await self.gate.engine.run_checks(keys, rerun=True)
        except GateError as exc:
            self._status(str(exc), error=True)

    @work(group="scenarios")
    async def _run_scenarios(self, ids: list[str]) -> None:
        assert self.gate is not None
        try:
            await self.gate.engine.run_scenarios(set(ids), rerun=True)
        except GateError as exc:
            self._status(str(exc), error=True)

    # -- events ---------------------------------------------------------------------------
    def on_gate_events(self, message: GateEvents) -> None:
        self._events_posted = False
        while self._events:
            self._on_event(self._events.popleft())

    def _on_event(self, event: Event) -> None:
        for pane in self._panes:
            pane.on_gate_event(event)
        if isinstance(event, Progress):
            self._status(event.message)
        elif isinstance(event, AttentionNeeded):
            self._call_operator(event)
        elif isinstance(event, HookFailed):
            self._status(f"Attention hook: {event.reason}", error=True)
        elif isinstance(event, (VerdictChanged, RunFinished)):
            self._set_badge()
            if isinstance(event, RunFinished):
                label = "GO" if event.go else "NO-GO"
                self._status(
                    f"Gate finished: {label}"
                    + (f" — {len(event.reasons)} blocker(s), see 5 Sign-off" if event.reasons else "")
                )

    def _call_operator(self, event: AttentionNeeded) -> None:
        """Something waits for the operator, who may be looking away: ring, and say what."""
        if self.gate is None or self.gate.settings.attention.bell:
            self.bell()
        self.notify(
            printable(event.message),  # from hosts and the platform: data, never markup
            title=_ATTENTION_TITLES.get(event.need, "Gate Room"),
            severity=_SEVERITIES.get(event.severity, "warning"),
            timeout=ATTENTION_TOAST_S,
            markup=False,
        )

    def on_show_logs(self, message: ShowLogs) -> None:
        """Another pane opens the logs pre-filtered to what it refers to."""
        self.action_show("logs")
        pane = self.query_one(LogsPane)
        m = message
        pane.show_filtered(m.query, stream=m.stream, attach_to=m.attach_to, search=m.search)

    def on_rerun_checks(self, message: RerunChecks) -> None:
        if self.gate is not None:
            self._rerun_checks(message.keys)

    def on_run_scenarios(self, message: RunScenarios) -> None:
        if self.gate is not None and self._scenario_runner_or_say() is not None:
            self._run_scenarios(message.ids)

    def on_cancel_scenario(self, message: CancelScenario) -> None:
        runner = self._scenario_runner_or_say()
        if runner is not None and not runner.cancel(message.scenario_id):
            self._status(f"Scenario {message.scenario_id} is not running")

    def on_skip_scenario(self, message: SkipScenario) -> None:
        runner = self._scenario_runner_or_say()
        if runner is not None:
            runner.skip(message.scenario_id, message.reason or "skipped by the operator")
            if self.gate is not None:
                self.gate.engine.publish_verdict()

    def on_record_manual(self, message: RecordManual) -> None:
        runner = self._scenario_runner_or_say()
        if runner is not None and self.gate is not None:
            runner.record_manual(message.scenario_id, message.passed, message.note, by=self.gate.operator)
            self.gate.engine.publish_verdict()

    def on_waive_check(self, message: WaiveCheck) -> None:
        if self.gate is None:
            return
        try:
            record_waiver(self.gate, message.key, message.reason)
        except WaiverRefused as exc:
            self._status(str(exc), error=True)
            return
        self._status(f"Waived {message.key}: recorded in the evidence, shown at sign-off")

    def _scenario_runner_or_say(self) -> ScenarioRunner | None:
        runner = self.gate.engine.scenarios if self.gate is not None else None
        if runner is None:
            self._status("Scenarios need GitHub and a cluster in the config", error=True)
        return runner

    def _set_badge(self) -> None:
        header = self.query_one(GateHeader)
        verdict = self.gate.session.state.verdict if self.gate else None
        header.verdict = verdict.label if verdict else "PENDING"

    def _status(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#status-line", Static)
        line.update(plain(text, one_line=True))  # errors and progress quote hosts, hooks and the platform
        line.set_class(error, "error")

    # -- actions --------------------------------------------------------------------------
    def action_show(self, pane: str) -> None:
        tabs = self.query_one(TabbedContent)
        # what changed while it was hidden is drawn before the switch: its first frame is current
        for gate_pane in tabs.get_pane(pane).query(GatePane):
            gate_pane.bring_up_to_date()
        tabs.active = pane
        # the pane's keys should work at once, without a tab key to reach its table first. Focused
        # now, the pane's first frame is drawn focused (a table redraws every cell when its focus
        # changes); after the refresh again, for a widget that could not take the focus yet
        self._focus_pane(pane)
        self.call_after_refresh(self._focus_pane, pane)

    def _focus_pane(self, pane: str) -> None:
        tab = self.query_one(TabbedContent).get_pane(pane)
        focused = self.screen.focused
        if focused is not None and tab in focused.ancestors:
            return  # the pane already chose (on_show)
        # the pane's own choice first: the focus chain's order is no contract (a form's buttons
        # may come before the content they belong to)
        for gate_pane in tab.query(GatePane):
            target = gate_pane.default_focus()
            if target is not None:
                target.focus()
                return
        for widget in self.screen.focus_chain:
            if tab in widget.ancestors:
                widget.focus()
                return

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for pane_id, label in PANES:
            yield SystemCommand(
                f"Go to {label[2:]}",
                f"Show the {label[2:].lower()} pane (key {label[0]})",
                lambda p=pane_id: self.action_show(p),
            )
        yield SystemCommand(
            "Re-run all checks",
            "Run every preflight check again",
            lambda: self.post_message(RerunChecks(None)),
        )
        yield SystemCommand("Help", "Keys and what the verdict means", self.action_help)

    async def on_unmount(self) -> None:
        gc.unfreeze()  # what the app froze is collectable again (tests run many apps in one process)
        if self.gate is not None:
            await self.gate.aclose()
