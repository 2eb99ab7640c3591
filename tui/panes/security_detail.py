"""One security check in full: the facts, the waiver if any, the RBAC matrix (account × resource ×
verb with the API server's answer) or the leak findings, the command and the redacted output."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from backends.checks import rbac_matrix
from backends.results import CheckResult, Waiver
from tui.panes.check_detail import CheckDetail, _command, _facts, _output
from tui.text import cell, plain, printable


def matrix_table(cells: list[rbac_matrix.Cell]) -> DataTable[Text]:
    table: DataTable[Text] = DataTable(id="rbac-matrix", cursor_type="none", zebra_stripes=True)
    for col in ("Account", "Resource", "Verb", "Documented", "API answer", ""):
        table.add_column(col, key=col or "mark")
    for c in cells:
        answer = Text("allowed" if c.allowed else "denied", style="" if c.ok else "bold red")
        mark = Text("ok", style="green") if c.ok else Text("WRONG", style="bold red")
        documented = Text("allow" if c.expected else "deny")
        table.add_row(cell(c.account), cell(c.resource), cell(c.verb), documented, answer, mark)
    return table


def _findings(result: CheckResult) -> Text:
    # split on newlines only: splitlines() also breaks at the control characters shown as escapes
    lines = [line for line in printable(result.output).split("\n") if "sha256:" in line]
    if not lines:
        return Text("none", style="dim")
    return Text("\n".join(lines))


class SecurityDetail(CheckDetail):
    DEFAULT_CSS = """
    SecurityDetail #rbac-matrix { height: auto; max-height: 30; }
    SecurityDetail #check-waiver { color: $warning; }
    """

    def __init__(self, key: str, title: str, result: CheckResult | None, status: str, waiver: Waiver | None):
        super().__init__(key, title, result, status)
        self.waiver = waiver

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="check-detail")
        box.border_title = "Security check"
        result = self.result
        cells = rbac_matrix.parse(result.output) if result is not None else []
        with box:
            yield Static(_facts(self.key, self.check_title, result, self.status), id="check-facts")
            if self.waiver is not None:
                w = self.waiver
                yield Static(plain(f"waived by {w.by}: {w.reason}"), id="check-waiver")
            if cells:
                yield Static("RBAC matrix (SubjectAccessReview answers)", classes="section")
                yield matrix_table(cells)
            elif result is not None and result.area == "secrets":
                yield Static("Findings (kind and fingerprint, never the value)", classes="section")
                yield Static(_findings(result), id="check-findings")
            yield Static("Command", classes="section")
            yield Static(_command(result), id="check-command")
            if not cells and (result is None or result.area != "secrets"):  # findings are the output
                yield Static("Output excerpt (redacted)", classes="section")
                yield Static(_output(result), id="check-output")
        yield Footer()
