"""The timeline screen (`t` on the scenarios pane): every item and run as a bar over wall-clock time.

It renders `backends.timeline` and nothing else: the model is read from the evidence in a thread
(once a second while shown, redrawn only when it changed), the bars are the backend's rows mapped
to characters and colours here. Plan text (scenario names, titles, step descriptions) is data.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from backends.errors import GateError
from backends.gate import Gate
from backends.timeline import describe
from backends.timeline.model import ACTION, CHECKS, IDLE, OPERATOR, OTHER, PAUSE, WAIT, Timeline
from backends.timeline.read import TimelineReader
from backends.timeline.rows import PATH, PHASE_LETTER, Row, first_cells, timeline_rows
from backends.timeline.scale import Scale, duration_text
from tui.styles import STATUS_STYLE
from tui.text import printable

REFRESH_S = 1.0
LABEL_W, STATUS_W, TOOK_W = 16, 7, 6
#: the columns besides the bar, with the table's cell padding (1 each side) and its scrollbar
FIXED_W = LABEL_W + STATUS_W + TOOK_W + 2 * 4 + 2
MIN_BAR = 10

GLYPH = {ACTION: "█", WAIT: "▒", PAUSE: "░", OPERATOR: "┈", OTHER: "─", CHECKS: "█", PATH: "━", IDLE: "·"}
ITEM_STYLE = {"MANUAL": "bold yellow", "RUNNING": "bold cyan"}
PHASE_STYLE = {
    "created": "grey70",
    "preparing_runtime": "yellow",
    "started": "cyan",
    "auth_required": "magenta",
    "auth_resolved": "magenta",
    "ready": "bright_blue",
    "namespace_deleted": "grey50",
}
OUTCOME_STYLE = {"succeeded": "green", "failed": "red", "canceled": "yellow", "cancelled": "yellow"}
#: what a run's outcome reads as in its 7-cell column (the detail line gives the marker's own word)
OUTCOME_WORD = {"succeeded": "ok", "canceled": "cancel"}
LEGEND = Text.assemble(
    ("█", "bold"),
    " action  ",
    ("▒", "bold"),
    " waiting on the platform  ",
    ("░", "bold"),
    " pause  ",
    ("┈", "bold"),
    " operator  ",
    ("─", "bold"),
    " between steps  ",
    ("◆", "bold magenta"),
    " critical path  ",
    ("·", "dim"),
    " idle\nrun phases ",
    *(part for phase, letter in PHASE_LETTER.items() for part in ((letter, "bold"), f" {phase}  ")),
)


def _line(value: str) -> str:
    """Plan text, marker values and scenario names, for one line of the screen (data, not codes)."""
    return printable(value, one_line=True)


def _item_style(status: str) -> str:
    return ITEM_STYLE.get(status) or STATUS_STYLE.get(status, "") or "bold"


def _bar(row: Row, scale: Scale) -> Text:
    cells = row.cells(scale)
    text = Text(no_wrap=True, overflow="crop")
    if row.kind == "run":
        assert row.run is not None
        final = OUTCOME_STYLE.get(row.run.outcome, "cyan")
        for code, first in zip(cells, first_cells(cells), strict=True):
            if code is None:
                text.append(" ")
                continue
            phase = code.removeprefix("phase:")
            style = final if phase == "finished" else PHASE_STYLE.get(phase, "cyan")
            text.append(
                PHASE_LETTER.get(phase, "?") if first else "━", style=f"bold {style}" if first else style
            )
        return text
    base = "bold magenta" if row.kind == "path" else _item_style(row.status)
    for code in cells:
        if code is None:
            text.append(" ")
        elif code == IDLE:
            text.append(GLYPH[IDLE], style="dim")
        else:
            text.append(GLYPH.get(code, "?"), style=f"dim {base}" if code == OTHER else base)
    return text


def _label(row: Row) -> Text:
    if row.kind == "run":
        return Text("  └ " + _line(row.label), style="dim", no_wrap=True, overflow="ellipsis")
    mark = ("◆ ", "bold magenta") if row.critical or row.kind == "path" else "  "
    return Text.assemble(
        mark, (_line(row.label), "bold" if row.kind == "path" else ""), no_wrap=True, overflow="ellipsis"
    )


def _status(row: Row) -> Text:
    if row.kind == "run":
        word = OUTCOME_WORD.get(row.status, row.status)
        return Text(word, style=OUTCOME_STYLE.get(row.status, "cyan"))
    return Text(row.status, style=_item_style(row.status))


class TimelineScreen(Screen[None]):
    DEFAULT_CSS = """
    TimelineScreen #timeline-head { height: 3; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TimelineScreen DataTable { height: 1fr; }
    TimelineScreen #timeline-detail {
        height: 2; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis;
    }
    TimelineScreen #timeline-legend {
        height: 2; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """
    BINDINGS = [
        Binding("escape,q,t", "close", "Close"),
        Binding("r", "toggle_runs", "Runs"),
    ]

    def __init__(self, gate: Gate, reader: TimelineReader | None = None) -> None:
        super().__init__()
        self.gate = gate
        # a reader kept from an earlier opening has folded the evidence already: it reads only the rest
        self.reader = reader if reader is not None else TimelineReader(gate.session)
        self.timeline: Timeline | None = None
        self.show_runs = True
        self._rows: dict[str, Row] = {}
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("Timeline: reading the evidence…"), id="timeline-head")
        table: DataTable[Text] = DataTable(id="timeline-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(Text(""), id="timeline-detail")
        yield Static(LEGEND, id="timeline-legend")
        yield Footer()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#timeline-table", DataTable)

    def on_mount(self) -> None:
        self._load()
        self.set_interval(REFRESH_S, self._load)

    @work(exclusive=True, group="timeline-read")
    async def _load(self) -> None:
        try:
            timeline = await asyncio.to_thread(self.reader.read)
        except GateError as exc:
            self.query_one("#timeline-head", Static).update(Text(f"Cannot read the evidence: {exc}"))
            return
        if timeline is self.timeline:
            return  # nothing new: keep the cursor and the screen still
        self.timeline = timeline
        self._draw()

    def on_resize(self, event: Resize) -> None:
        if self.timeline is not None and self.size.width != self._width:
            self._draw()

    # -- rendering ---------------------------------------------------------------------------------
    def _draw(self) -> None:
        tl = self.timeline
        if tl is None:
            return
        self._width = self.size.width
        self._head(tl)
        table = self.table
        keep = self._cursor_key()
        table.clear(columns=True)
        bar_w = max(self._width - FIXED_W, MIN_BAR)
        scale = Scale(tl.start, tl.end, bar_w)
        table.add_column(Text("Item"), width=LABEL_W, key="item")
        table.add_column(Text("Status"), width=STATUS_W, key="status")
        table.add_column(Text("Took"), width=TOOK_W, key="took")
        table.add_column(Text(scale.axis(), no_wrap=True), width=bar_w, key="bar")
        self._rows = {}
        for row in timeline_rows(tl):
            if row.kind == "run" and not self.show_runs:
                continue
            self._rows[row.key] = row
            took = Text(duration_text(row.duration), justify="right")
            table.add_row(_label(row), _status(row), took, _bar(row, scale), key=row.key)
        if keep in self._rows:
            table.move_cursor(row=table.get_row_index(keep))
        self._detail()

    def _head(self, tl: Timeline) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("Timeline", style="bold")
        if tl.empty:
            head.append(" · nothing has run yet: the bars appear as checks and scenarios run")
            self.query_one("#timeline-head", Static).update(head)
            return
        head.append(f" · gate {duration_text(tl.total)} · {describe.state(tl)}\n")
        head.append("Critical path ", style="bold magenta")
        head.append(_line(describe.path_chain(tl)))
        head.append("\nWhere it went ", style="bold")
        head.append(describe.breakdown_line(tl))
        self.query_one("#timeline-head", Static).update(head)

    def _cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count or not table.columns:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _detail(self) -> None:
        tl, key = self.timeline, self._cursor_key()
        row = self._rows.get(key or "")
        text = Text(no_wrap=True, overflow="ellipsis")
        if tl is None or row is None:
            pass
        elif row.kind == "path":
            text.append(f"Critical path {duration_text(tl.total)}: ", style="bold magenta")
            text.append(_line(describe.path_chain(tl)))
            what = "decided when the gate ended" if tl.finished else "decides, so far, when the gate ends"
            text.append(f"\nthe chain of items that {what}: each waited for the one before", style="dim")
        elif row.kind == "item" and row.item is not None:
            item = row.item
            text.append(_line(item.label), style="bold")
            text.append(f" {_line(item.title)}\n" if item.title else "\n")
            text.append(_line(describe.item_summary(tl, item)))
            step = describe.slowest_step(item)
            if step:
                text.append(" · " + _line(step), style="dim")
        elif row.run is not None:
            text.append(_line(describe.run_summary(row.run)) + "\n", style="bold")
            text.append(_line(describe.run_phases(tl, row.run)))
        self.query_one("#timeline-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    # -- actions -----------------------------------------------------------------------------------
    def action_toggle_runs(self) -> None:
        self.show_runs = not self.show_runs
        self._draw()

    def action_close(self) -> None:
        self.dismiss()
