"""A scenario's detail: its steps with expected vs actual, run ids, issue and PR, label transitions."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from backends.plan.model import GROUPS, Scenario
from backends.state import ScenarioState
from tui.styles import status_text
from tui.text import plain, printable


def _steps_table(scenario: Scenario, state: ScenarioState | None) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("#", width=3, justify="right")
    table.add_column("Status", width=8)
    table.add_column("Step / expected", ratio=2)
    table.add_column("Actual", ratio=3)
    rows = scenario.checklist if scenario.mode == "manual" else [s.describe() for s in scenario.steps]
    for index, described in enumerate(rows):
        event = state.steps.get(index) if state else None
        status = event.status if event else "PENDING"
        # steps and actual values quote labels, titles and comments: data, never markup
        actual = plain(event.actual) if event else Text("")
        table.add_row(Text(str(index + 1)), status_text(status, 0), plain(described), actual)
    return table


def _facts(scenario: Scenario, state: ScenarioState | None) -> Text:
    ev = state.evidence if state else {}
    steps = state.steps if state else {}
    latest = next((s.detail for _, s in sorted(steps.items(), reverse=True) if s.detail), {}) if steps else {}
    facts = {**latest, **ev}
    lines = Text()

    def line(text: str, style: str = "") -> None:
        """One fact: plan and platform text, shown as written (a folded YAML value ends in a newline)."""
        lines.append(printable(text.rstrip("\n")) + "\n", style=style)

    line(printable(f"{scenario.id}  {scenario.title}", one_line=True), "bold")
    line(f"group {scenario.group} ({GROUPS[scenario.group]}) · {scenario.priority} · {scenario.mode}")
    line(f"expected: {scenario.expected or '—'}")
    cited = sorted({step.source for step in scenario.steps if step.source})
    if cited:
        line(f"relies on: {', '.join(path.rsplit('/', 1)[-1] for path in cited)}")
    if state:
        lines.append("status: ")
        lines.append_text(status_text(state.status, 0))
        if state.reason:
            lines.append(printable(f"  {state.reason}", one_line=True))
        lines.append("\n")
    if facts.get("issue"):
        line(f"issue: {facts.get('repo', '')}#{facts['issue']}  {facts.get('issue_url', '')}")
    if facts.get("pr"):
        line(f"pull request: #{facts['pr']}  {facts.get('pr_url', '')}")
    transitions = [
        f"+{s.detail['label']}" if s.detail.get("label_applied") is not None else f"-{s.detail['label']}"
        for _, s in sorted(steps.items())
        if s.status == "PASS" and "label" in s.detail
    ]
    if transitions:
        line(f"label transitions: {' '.join(transitions)}")
    excerpts = [str(s.detail["excerpt"]) for _, s in sorted(steps.items()) if s.detail.get("excerpt")]
    if excerpts:
        lines.append("proof excerpts:\n", style="bold")
        for excerpt in excerpts[-6:]:
            first = printable(excerpt).split("\n")[0]  # not splitlines(): it breaks at \x1c too
            line(f"  {first[:200]}")
    if scenario.covers:
        line(f"covers: {', '.join(scenario.covers)}")
    return lines


class ScenarioDetail(ModalScreen[None]):
    DEFAULT_CSS = """
    ScenarioDetail { align: center middle; }
    ScenarioDetail > VerticalScroll {
        width: 96%;
        height: 92%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, scenario: Scenario, state: ScenarioState | None) -> None:
        super().__init__()
        self.scenario = scenario
        self.state = state

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(_facts(self.scenario, self.state), id="scenario-facts")
            yield Static(_steps_table(self.scenario, self.state), id="scenario-steps")

    def action_close(self) -> None:
        self.dismiss()
