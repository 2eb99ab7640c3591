"""One check's detail: what was observed against what was expected, why, the command run and its
(already redacted) output excerpt. `r` asks for the check to run again."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from backends.results import CheckResult
from tui.styles import status_text
from tui.text import plain, printable

OUTPUT_LINES = 200  # the evidence keeps more; the screen shows the end, where the answer usually is


def _facts(key: str, title: str, result: CheckResult | None, status: str) -> Text:
    text = Text()
    text.append(printable(title) + "\n", style="bold")
    text.append(printable(key) + "\n", style="dim")
    text.append("status    ")
    text.append_text(status_text(status, 0))
    if result is not None and result.duration_s:
        text.append(f"  ({result.duration_s:.2f}s)", style="dim")
    text.append("\n")
    if result is None:
        text.append("not run yet", style="dim")
        return text
    for label, value in (
        ("observed", result.observed),
        ("expected", result.expected),
        ("reason", result.reason),
    ):
        if value:
            text.append(f"{label:<10}", style="bold")
            text.append(printable(value) + "\n")
    text.rstrip()
    return text


def _command(result: CheckResult | None) -> Text:
    if result is None or not result.command:
        return Text("—", style="dim")
    return plain("\n".join(f"$ {c.strip()}" for c in result.command.split("; ")))


def _output(result: CheckResult | None) -> Text:
    if result is None or not result.output.strip():
        return Text("(no output)", style="dim")
    # split on newlines only: splitlines() also breaks at the control characters shown as escapes
    lines = printable(result.output.rstrip("\n")).split("\n")
    shown = lines[-OUTPUT_LINES:]
    head = f"… {len(lines) - len(shown)} earlier lines in the evidence\n" if len(shown) < len(lines) else ""
    return Text(head + "\n".join(shown))


class CheckDetail(ModalScreen[bool]):
    """Dismissed with True when the operator asks to re-run the check."""

    DEFAULT_CSS = """
    CheckDetail { align: center middle; }
    CheckDetail > VerticalScroll {
        width: 96%;
        height: 1fr;
        margin: 1 0 0 0;
        border: round $accent;
        border-title-align: left;
        background: $surface;
        padding: 0 1;
    }
    CheckDetail .section { margin-top: 1; text-style: bold; color: $text-muted; }
    CheckDetail #check-command { background: $boost; padding: 0 1; }
    CheckDetail #check-output { background: $boost; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "rerun", "Re-run check"),
    ]

    def __init__(self, key: str, title: str, result: CheckResult | None, status: str) -> None:
        super().__init__()
        self.key = key
        self.check_title = title
        self.result = result
        self.status = status

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="check-detail")
        box.border_title = "Check detail"
        with box:
            yield Static(_facts(self.key, self.check_title, self.result, self.status), id="check-facts")
            yield Static("Command", classes="section")
            yield Static(_command(self.result), id="check-command")
            yield Static("Output excerpt (redacted)", classes="section")
            yield Static(_output(self.result), id="check-output")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(False)

    def action_rerun(self) -> None:
        self.dismiss(True)
