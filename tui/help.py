"""The help screen on `?`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# Gate Room — keys

| key | what it does |
|---|---|
| `1`–`5` | preflight · scenarios · logs · security · sign-off |
| `enter` `d` | preflight: the selected check's detail |
| `r` `g` `R` | preflight: re-run the check, its group, everything |
| `enter` `c` | scenarios: detail (steps, expected vs actual, issue, PR, excerpts), label coverage |
| `t` | scenarios: the timeline: every item and run over wall-clock time, the critical path; `r` runs on/off |
| `g` `p` `f` | scenarios: filter by group, priority, status |
| `r` `x` `s` | scenarios: run or retry, cancel, skip with a reason |
| `y` `n` | scenarios: a manual scenario passed / failed (with a note) |
| `enter` `m` `w` | security: a finding's detail, the RBAC matrix, waive (with a reason) |
| `r` `R` | security: re-run the check, every check |
| `g` `n` `c` | sign-off: decide GO, decide NO-GO, comment; then `y` confirms, `escape` cancels |
| `p` | sign-off: publish the decided evidence (pull request, bundle on a draft release, comment) |
| `ctrl+p` | command palette: every action by name |
| `p` `space` | logs: pause / follow (`End` follows again) |
| `/` `n` `N` | logs: search, next / previous hit |
| `f` `l` `s` | logs: filter (`src:… level:… text` or `re:…`), minimum level, one stream / merged |
| `t` `w` | logs: jump to a time (UTC), wrap long lines |
| `v` `c` | logs: mark a range, copy it into evidence |
| `?` | this help |
| `q` | quit (evidence is kept; run again with the same session dir to resume) |

The header shows the session, the target and the verdict badge: **GO** only when every P0/P1
scenario and every check passed (or was waived by the owner), the evidence chain verifies and no
secret was found in the evidence. The engine recommends; the owner decides.

Press `escape` to close.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 85%;
        border: round $accent;
        background: $surface;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss()
