"""Pane 3: live logs — every stream merged by time (or one at a time), filtered, searched, copied.

The pane renders what the backend gives it and sends intents; it reads no file and opens no socket:
  `LogView` (backends/logs/view.py)  the rows to show: the filtered ring, or a window scrolled back
                                     through the session's log files — bounded either way
  `LogHub.excerpt`                   copies a line range into evidence (a hashed, recorded excerpt)
The lines widget draws only the rows on screen (Textual's line API, like toolong's LogLines), so a
million lines cost the same as fifty. Its position is a record key, so rows arriving or being
evicted never make the screen jump while paused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from backends.events import Event, LogExcerpt, LogLines
from backends.gate import Gate
from backends.logs.filter import FilterError, LogFilter, parse_filter
from backends.logs.levels import DEBUG, ERROR, INFO, WARN
from backends.logs.rate import LogRates, rate_text
from backends.logs.record import (
    END,
    GAP,
    MARK,
    NOTE,
    SEQ,
    SOURCE,
    TEXT,
    TS,
    Key,
    LogRecord,
    clock_text,
    key_of,
    level_of,
    parse_iso,
)
from backends.logs.view import PAGE, LogView
from tui.panes.base import GatePane
from tui.text import plain, printable

STREAM_COLOURS = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "dark_orange",
    "deep_sky_blue1",
    "plum1",
)
LEVEL_LABEL = {ERROR: "ERROR", WARN: "WARN ", INFO: "INFO ", DEBUG: "DEBUG", "": "     "}
LEVEL_STYLE = {
    ERROR: Style(color="red", bold=True),
    WARN: Style(color="yellow", bold=True),
    INFO: Style(color="green"),
    DEBUG: Style(dim=True),
    "": Style(),
}
MARK_LABEL = {GAP: " GAP ", END: " END ", NOTE: "NOTE "}
MARK_STYLE = {
    GAP: Style(color="black", bgcolor="yellow", bold=True),
    END: Style(color="white", bgcolor="magenta", bold=True),
    NOTE: Style(color="cyan", bold=True),
}
MARK_TEXT_STYLE = {
    GAP: Style(color="yellow", italic=True),
    END: Style(color="magenta", italic=True),
    NOTE: Style(color="cyan", italic=True),
}
HIT_STYLE = Style(color="black", bgcolor="yellow", bold=True)
CURSOR_STYLE = Style(bgcolor="grey30")
SELECTION_STYLE = Style(bgcolor="grey19")
TIME_STYLE = Style(dim=True)
LEVEL_CYCLE = ("", INFO, WARN, ERROR)


class ShowLogs(Message):
    """Open the logs pane pre-filtered (the scenario matrix and the security pane post this).

    `query` uses the filter bar's syntax (`src:… level:… text`), `stream` picks the per-stream view,
    `attach_to` is where a copied excerpt goes (e.g. "scenario:A1", "check:sandbox-vps/host.os").
    """

    def __init__(self, query: str = "", *, stream: str = "", attach_to: str = "", search: str = "") -> None:
        super().__init__()
        self.query = query
        self.stream = stream
        self.attach_to = attach_to
        self.search = search


@dataclass
class _ScreenRow:
    index: int  # row of the view
    part: int  # which wrapped part of it


class LogLinesView(Widget, can_focus=True):
    """The rows of a `LogView`, drawn one screen line at a time (nothing off screen is rendered)."""

    DEFAULT_CSS = """
    LogLinesView { height: 1fr; background: $surface; }
    LogLinesView:focus { background-tint: $foreground 3%; }
    """

    wrap: reactive[bool] = reactive(False)

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.view: LogView | None = None
        self.colours: dict[str, int] = {}
        self.cursor: Key | None = None  # None: no cursor (following the tail)
        self.top_key: Key | None = None
        self.selection_start: Key | None = None  # start of a selection for an excerpt
        self.x = 0
        self._layout: list[_ScreenRow] = []
        self._body_cache: LRUCache[tuple[object, ...], list[Strip]] = LRUCache(512)
        self._prefix_cache: LRUCache[tuple[object, ...], Strip] = LRUCache(512)
        self._base = Style()
        self._drawn: list[tuple[int, int]] = []  # what the last frame showed (see refresh_if_moved)

    # -- geometry --------------------------------------------------------------------------------
    @property
    def narrow(self) -> bool:
        return self.size.width < 100

    def _source_width(self) -> int:
        longest = max((len(printable(s, one_line=True)) for s in self.colours), default=8)
        return max(8, min(longest, 14 if self.narrow else 24))

    def _prefix_width(self) -> int:
        return (8 if self.narrow else 12) + 1 + self._source_width() + 1 + 5 + 1

    def _rows_needed(self, record: LogRecord) -> int:
        if not self.wrap:
            return 1
        avail = max(1, self.size.width - self._prefix_width())
        return len(self._body(record, avail))  # the wrapped parts themselves (cached for drawing)

    def cursor_index(self) -> int | None:
        if self.view is None or not self.view.rows or self.cursor is None:
            return None
        return self.view.index_of(self.cursor)

    def _layout_rows(self) -> list[_ScreenRow]:
        """Which row (and wrapped part) each screen line shows, keeping the cursor in sight."""
        view = self.view
        height = self.size.height
        if view is None or not view.rows or height <= 0:
            return []
        rows = view.rows
        out: list[_ScreenRow] = []
        if self.cursor is None:  # following: the tail, bottom-aligned
            i = len(rows) - 1
            while i >= 0 and len(out) < height:
                parts = self._rows_needed(rows[i])
                for part in reversed(range(parts)):
                    out.append(_ScreenRow(i, part))
                i -= 1
            out.reverse()
            return out[-height:]
        cursor = view.index_of(self.cursor)
        top = view.index_of(self.top_key) if self.top_key is not None else cursor
        if cursor < top:
            top = cursor
        # make sure the cursor's row fits below top
        used = 0
        i = top
        while i <= cursor:
            used += self._rows_needed(rows[i])
            i += 1
        while used > height and top < cursor:
            used -= self._rows_needed(rows[top])
            top += 1
        # fill the screen; if the rows run out, pull top up so the screen stays full
        i = top
        while i < len(rows) and len(out) < height:
            for part in range(self._rows_needed(rows[i])):
                out.append(_ScreenRow(i, part))
            i += 1
        while len(out) < height and top > 0:
            top -= 1
            parts = self._rows_needed(rows[top])
            out[:0] = [_ScreenRow(top, p) for p in range(parts)]
        self.top_key = key_of(rows[top])
        return out[:height]

    # -- drawing -------------------------------------------------------------------------------
    def colour_of(self, stream: str) -> str:
        index = self.colours.setdefault(stream, len(self.colours))
        return STREAM_COLOURS[index % len(STREAM_COLOURS)]

    def _prefix(self, record: LogRecord) -> Text:
        clock = clock_text(record[TS])
        prefix = Text(clock[:8] if self.narrow else clock, style=TIME_STYLE, end="")
        prefix.append(" ")
        width = self._source_width()
        source = printable(record[SOURCE], one_line=True)
        label = source if len(source) <= width else "…" + source[-(width - 1) :]
        prefix.append(label.ljust(width), style=self.colour_of(source))
        prefix.append(" ")
        mark = record[MARK]
        if mark:
            prefix.append(MARK_LABEL.get(mark, "MARK "), style=MARK_STYLE.get(mark, Style()))
        else:
            level = level_of(record)
            prefix.append(LEVEL_LABEL[level], style=LEVEL_STYLE[level])
        prefix.append(" ")
        return prefix

    def _prefix_strip(self, record: LogRecord, width: int) -> Strip:
        key = (record[SEQ], record[SOURCE], width, self.narrow)
        cached = self._prefix_cache.get(key)
        if cached is None:
            cached = Strip(list(self._prefix(record).render(self.app.console))).adjust_cell_length(width)
            self._prefix_cache[key] = cached
        return cached

    def _body(self, record: LogRecord, avail: int) -> list[Strip]:
        view = self.view
        search_key = view.search_text if view is not None else ""
        key = (record[SEQ], record[SOURCE], avail, self.wrap, search_key, self.x if not self.wrap else 0)
        cached = self._body_cache.get(key)
        if cached is not None:
            return cached
        body = printable(record[TEXT], one_line=True)  # the line as written, never terminal codes
        text = Text(body, end="", no_wrap=not self.wrap)
        if record[MARK]:
            text.stylize(MARK_TEXT_STYLE.get(record[MARK], Style()))
        elif view is not None and view.search is not None:
            for match in view.search.finditer(body):
                if match.end() > match.start():
                    text.stylize(HIT_STYLE, match.start(), match.end())
        console = self.app.console
        if self.wrap:
            parts = list(text.wrap(console, avail, overflow="fold")) if body else [Text("")]
            for part in parts:
                part.end = ""  # wrapped lines end in a newline segment otherwise
            strips = [Strip(list(p.render(console))).adjust_cell_length(avail) for p in parts]
        else:
            whole = Strip(list(text.render(console)))
            strip = whole.crop(self.x, self.x + avail)
            if whole.cell_length > self.x + avail:
                strip = Strip.join([strip.crop(0, avail - 1), Strip([Segment("›", Style(dim=True))])])
            strips = [strip.adjust_cell_length(avail)]
        self._body_cache[key] = strips
        return strips

    def render_lines(self, crop: object) -> list[Strip]:  # type: ignore[override]
        self._layout = self._layout_rows()
        self._drawn = self._shows(self._layout)
        self._base = self.rich_style  # once per frame, not per line
        return super().render_lines(crop)  # type: ignore[arg-type]

    def _shows(self, layout: list[_ScreenRow]) -> list[tuple[int, int]]:
        """Which record (by its unique seq) and wrapped part each screen line holds."""
        rows = self.view.rows if self.view is not None else []
        return [(rows[r.index][SEQ], r.part) for r in layout if r.index < len(rows)]

    def refresh_if_moved(self) -> None:
        """Lines arrived: redraw when the screen would change. Paused, it does not (the lines land
        below), and redrawing every line ten times a second anyway took the CPU that key presses
        then waited for."""
        if self.cursor is None or self._shows(self._layout_rows()) != self._drawn:
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base
        if y >= len(self._layout) or self.view is None:
            if y == 0 and self.view is not None and not self.view.rows:
                msg = "No log lines yet." if not self.view.filter.active else "No line matches the filter."
                return Strip([Segment(msg, Style(dim=True))]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        row = self._layout[y]
        view = self.view
        if row.index >= len(view.rows):
            return Strip.blank(width, base)
        record = view.rows[row.index]
        prefix_width = self._prefix_width()
        avail = max(1, width - prefix_width)
        body = self._body(record, avail)
        if row.part == 0:
            head = self._prefix_strip(record, prefix_width)
        else:
            head = Strip.blank(prefix_width)
        strip = Strip.join([head, body[min(row.part, len(body) - 1)]])
        cursor = self.cursor_index()
        if cursor is not None:
            if row.index == cursor:
                strip = strip.apply_style(CURSOR_STYLE)
            elif self.selection_start is not None:
                a = view.index_of(self.selection_start)
                if min(a, cursor) <= row.index <= max(a, cursor):
                    strip = strip.apply_style(SELECTION_STYLE)
        return strip.apply_style(base).adjust_cell_length(width, base)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def watch_wrap(self) -> None:
        self._body_cache.clear()
        self.refresh()

    def invalidate(self) -> None:
        self._body_cache.clear()
        self._prefix_cache.clear()
        self.refresh()

    # -- moving (keys come through the pane's bindings) ---------------------------------------------
    def _ensure_cursor(self) -> int | None:
        view = self.view
        if view is None or not view.rows:
            return None
        if self.cursor is None:
            layout = self._layout or self._layout_rows()
            index = layout[-1].index if layout else len(view.rows) - 1
            self.cursor = key_of(view.rows[index])
            self.top_key = key_of(view.rows[layout[0].index]) if layout else self.cursor
            view.pause(self.cursor)
        return view.index_of(self.cursor)

    def move(self, delta: int) -> None:
        """Move the cursor by delta rows, reading older or newer pages at the edges."""
        view = self.view
        index = self._ensure_cursor()
        if view is None or index is None:
            return
        target = index + delta
        if target < 0:
            view.load_older(max(PAGE, -target))
            index = view.index_of(self.cursor) if self.cursor else 0
            target = max(0, index + delta)
        elif target >= len(view.rows):
            view.load_newer(max(PAGE, target - len(view.rows) + 1))
            index = view.index_of(self.cursor) if self.cursor else 0
            target = min(len(view.rows) - 1, index + delta)
        self.cursor = key_of(view.rows[target])
        self.refresh()

    def go_to(self, index: int) -> None:
        view = self.view
        if view is None or not view.rows:
            return
        index = max(0, min(index, len(view.rows) - 1))
        self.cursor = key_of(view.rows[index])
        view.pause(self.cursor)
        index = view.index_of(self.cursor)
        # put the cursor's row in the middle of the screen (counting wrapped lines)
        half = max(1, self.size.height) // 2
        top, used = index, 0
        while top > 0 and used + self._rows_needed(view.rows[top - 1]) <= half:
            top -= 1
            used += self._rows_needed(view.rows[top])
        self.top_key = key_of(view.rows[top])
        self.refresh()

    def scroll_rows(self, delta: int) -> None:
        """Mouse wheel: move the window, dragging the cursor along."""
        self.move(delta)

    def follow(self) -> None:
        if self.view is not None:
            self.view.follow()
        self.cursor = None
        self.top_key = None
        self.selection_start = None
        self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-3)
        self.post_message(self.Moved())

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(3)
        self.post_message(self.Moved())

    def on_click(self, event: events.Click) -> None:
        if 0 <= event.y < len(self._layout) and self.view is not None:
            self._ensure_cursor()
            self.cursor = key_of(self.view.rows[self._layout[event.y].index])
            self.refresh()
            self.post_message(self.Moved())

    class Moved(Message):
        """The cursor or the window moved (the pane updates its status bar)."""


class LogsPane(GatePane):
    BINDINGS = [
        Binding("slash", "prompt('search')", "Search"),
        Binding("n", "next_hit(1)", "Next hit", show=False),
        Binding("N", "next_hit(-1)", "Prev hit", show=False),
        Binding("f", "prompt('filter')", "Filter"),
        Binding("l", "cycle_level", "Level", show=False),
        Binding("s", "cycle_stream", "Stream"),
        Binding("p,space", "toggle_follow", "Pause/follow"),
        Binding("t", "prompt('time')", "Jump to time", show=False),
        Binding("w", "toggle_wrap", "Wrap", show=False),
        Binding("v", "mark", "Mark", show=False),
        Binding("c", "copy", "Copy to evidence"),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "home", "Oldest", show=False),
        Binding("end,G", "end", "Follow", show=False),
        Binding("left", "pan(-8)", "Left", show=False),
        Binding("right", "pan(8)", "Right", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]
    DEFAULT_CSS = """
    LogsPane #logs-bar { height: 1; padding: 0 1; background: $boost; }
    LogsPane #logs-legend { height: 1; padding: 0 1; }
    LogsPane #logs-input { display: none; height: 3; }
    LogsPane #logs-input.-open { display: block; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.view: LogView | None = None
        self._prompt = ""
        self._dirty = False
        self._tick_pending = False
        self._stream_choice = ""
        self.attach_to = ""
        self._message = ""
        self.rates = LogRates()  # lines/s per stream, drawn in the legend

    def compose(self) -> ComposeResult:
        yield Static("Logs: waiting for the gate to open…", id="logs-bar")
        yield Static("", id="logs-legend")
        yield LogLinesView(id="logs-lines")
        yield Input(id="logs-input")

    @property
    def lines(self) -> LogLinesView:
        return self.query_one(LogLinesView)

    def _soon(self) -> None:
        """Redraw within a tenth of a second: at most ten redraws a second however fast lines
        arrive, and no timer waking the app while none do (or while the pane is hidden)."""
        self._dirty = True
        if not self.shown:
            self.behind = True  # lines keep arriving in the view; drawn when the pane is shown
            return
        if not self._tick_pending:
            self._tick_pending = True
            self.set_timer(0.1, self._tick)

    def default_focus(self) -> Widget | None:
        return None if self._prompt else self.lines

    # -- gate -----------------------------------------------------------------------------------
    def load(self, gate: Gate) -> None:
        super().load(gate)
        hub = gate.logs
        if hub is None:
            return
        if self.view is not None:
            hub.close_view(self.view)
        self.view = hub.open_view()
        self.lines.view = self.view
        self.rates.close()
        self.rates = LogRates()
        self.rates.follow(hub)
        self._sync_colours()
        self._dirty = True
        self._tick()

    def on_unmount(self) -> None:
        self.rates.close()
        if self.gate is not None and self.gate.logs is not None and self.view is not None:
            self.gate.logs.close_view(self.view)

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, LogLines):
            self._soon()
        elif isinstance(event, LogExcerpt):
            digest = event.sha256[:12]
            self._message = (
                f"copied {event.lines} line(s) into evidence → {event.attach_to} (sha256 {digest}…)"
            )
            self._soon()

    def catch_up(self) -> None:
        self._tick()

    def _tick(self) -> None:
        self._tick_pending = False
        if not self._dirty:
            return
        if not self.shown:
            self.behind = True  # lines keep arriving in the view; drawn when the pane is shown
            return
        self._dirty = False
        self._sync_colours()
        self.lines.refresh_if_moved()
        self._update_bar()
        self._update_legend()

    def _sync_colours(self) -> None:
        if self.gate is None or self.gate.logs is None:
            return
        for name in self.gate.logs.streams:
            self.lines.colour_of(name)

    # -- status ---------------------------------------------------------------------------------
    def _update_bar(self) -> None:
        view = self.view
        bar = self.query_one("#logs-bar", Static)
        if view is None:
            bar.update("Logs: no log service in this session")
            return
        lines = self.lines
        state = (
            Text(" FOLLOW ", style="bold black on green")
            if lines.cursor is None
            else Text(" PAUSED ", style="bold black on yellow")
        )
        parts = [state, Text(" ")]
        parts.append(Text(printable(view.filter.exact_source or "merged", one_line=True), style="bold"))
        if view.filter.active and view.filter.describe() != f"stream {view.filter.exact_source}":
            shown = view.filter.with_(exact_source="").describe()
            parts.append(Text(printable(f" · filter {shown}", one_line=True)))
        if view.search is not None:
            cursor = lines.cursor_index()
            where = ""
            if cursor is not None and view.rows and view.is_hit(view.rows[cursor]):
                where = f"{view.hit_ordinal(cursor)}/"
            hits = f"{where}{view.hit_count} hit{'s' if view.hit_count != 1 else ''}"
            parts.append(Text(printable(f" · /{view.search_text}: {hits}", one_line=True)))
        if lines.wrap:
            parts.append(Text(" · wrap"))
        if lines.selection_start is not None:
            parts.append(Text(" · marking (c: copy)"))
        if not view.attached and view.new_lines:
            parts.append(Text(f" · {view.new_lines:,} new below", style="bold"))
        cursor = lines.cursor_index()
        total = len(view.rows)
        position = f"line {cursor + 1:,} of {total:,}" if cursor is not None else f"{total:,} lines"
        parts.append(Text(f" · {position}"))
        if self._message:
            parts.append(Text(printable(f" · {self._message}", one_line=True), style="italic"))
        self._set(bar, Text.assemble(*parts))

    def _update_legend(self) -> None:
        if self.gate is None or self.gate.logs is None:
            return
        widget = self.query_one("#logs-legend", Static)
        legend = self._legend(numbers=True)
        if legend.cell_len > widget.content_region.width:
            legend = self._legend(numbers=False)  # every stream's name comes before any rate
        if not legend:
            legend.append("no log sources yet", style="dim")
        legend.no_wrap = True
        legend.overflow = "ellipsis"
        self._set(widget, legend)

    def _legend(self, numbers: bool) -> Text:
        assert self.gate is not None and self.gate.logs is not None
        legend = Text()
        peak = self.rates.peak()
        for name, info in self.gate.logs.streams.items():
            if legend:
                legend.append(" ")  # the next swatch sets the streams apart
            # the stream's colour swatch is its rate over the last minute (one scale for all streams)
            legend.append(self.rates.sparkline(name, peak) + " ", style=self.lines.colour_of(name))
            legend.append(printable(name, one_line=True), style="bold" if name == self._stream_choice else "")
            if numbers:
                legend.append(f" {rate_text(self.rates.current(name))}", style="dim")
            state = {"reconnecting": " reconnecting", "ended": " ended", "stopped": " stopped"}.get(
                info.state, ""
            )
            if state:
                legend.append(state, style="italic yellow" if info.state == "reconnecting" else "italic dim")
        return legend

    def _set(self, widget: Static, text: Text) -> None:
        """Update a one-line bar only when its text changed, without a relayout (its height is fixed)."""
        if getattr(widget, "_logs_shown", None) != text.markup:
            widget._logs_shown = text.markup  # type: ignore[attr-defined]
            widget.update(text, layout=False)

    def _status(self, message: str) -> None:
        self._message = message
        self._update_bar()

    # -- filtering and views ------------------------------------------------------------------------
    def _apply_filter(self, flt: LogFilter) -> None:
        if self.view is None:
            return
        self.view.set_filter(flt)
        self.lines.follow()
        self.lines.invalidate()
        self._update_bar()

    def show_filtered(
        self, query: str = "", *, stream: str = "", attach_to: str = "", search: str = ""
    ) -> None:
        """Pre-filter the pane (from `ShowLogs`)."""
        try:
            flt = parse_filter(query)
        except FilterError as exc:
            self._status(str(exc))
            return
        self._stream_choice = stream
        self.attach_to = attach_to
        self._apply_filter(flt.with_(exact_source=stream))
        if search and self.view is not None:
            self._search(search)
        self._update_legend()

    def action_cycle_level(self) -> None:
        if self.view is None:
            return
        current = self.view.filter.min_level
        nxt = (
            LEVEL_CYCLE[(LEVEL_CYCLE.index(current) + 1) % len(LEVEL_CYCLE)] if current in LEVEL_CYCLE else ""
        )
        self._apply_filter(self.view.filter.with_(min_level=nxt))

    def action_cycle_stream(self) -> None:
        if self.view is None or self.gate is None or self.gate.logs is None:
            return
        choices = ["", *sorted(self.gate.logs.streams)]
        current = self._stream_choice if self._stream_choice in choices else ""
        self._stream_choice = choices[(choices.index(current) + 1) % len(choices)]
        self._apply_filter(self.view.filter.with_(exact_source=self._stream_choice))
        self._update_legend()

    # -- moving -------------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.lines.move(delta)
        self._update_bar()

    def action_page(self, direction: int) -> None:
        self.lines.move(direction * max(1, self.lines.size.height - 1))
        self._update_bar()

    def action_home(self) -> None:
        view = self.view
        if view is None:
            return
        self.lines._ensure_cursor()
        if view.rows and self.lines.cursor == key_of(view.rows[0]):
            view.load_older(PAGE)
        self.lines.go_to(0)
        self._update_bar()

    def action_end(self) -> None:
        self.lines.follow()
        self._message = ""
        self._update_bar()

    def action_toggle_follow(self) -> None:
        if self.lines.cursor is None:
            self.lines._ensure_cursor()
            self.lines.refresh()
        else:
            self.lines.follow()
        self._update_bar()

    def action_toggle_wrap(self) -> None:
        self.lines.wrap = not self.lines.wrap
        self._update_bar()

    def action_pan(self, delta: int) -> None:
        if not self.lines.wrap:
            self.lines.x = max(0, self.lines.x + delta)
            self.lines.invalidate()

    def on_log_lines_view_moved(self, message: LogLinesView.Moved) -> None:
        self._update_bar()

    # -- search ---------------------------------------------------------------------------------------
    def _search(self, text: str) -> None:
        view = self.view
        if view is None:
            return
        regex = text.startswith("re:")
        try:
            view.set_search(text[3:] if regex else text, regex=regex)
        except Exception as exc:  # a bad regex
            self._status(f"bad search: {exc}")
            return
        self.lines.invalidate()
        if view.search is not None:
            start = self.lines.cursor_index()
            start = len(view.rows) if start is None else start + 1
            found = view.find(start, -1)
            if found is not None:
                self.lines.go_to(found)
            else:
                self._status("no hit")
        self._update_bar()

    def action_next_hit(self, direction: int) -> None:
        view = self.view
        if view is None or view.search is None:
            self._status("no search: press / first")
            return
        start = self.lines.cursor_index()
        if start is None:
            start = len(view.rows) if direction < 0 else -1
        found = view.find(start, direction)
        if found is None:
            self._status("no further hit" if direction > 0 else "no earlier hit within reach")
            self.app.bell()
            return
        self._message = ""
        self.lines.go_to(found)
        self._update_bar()

    # -- excerpts -------------------------------------------------------------------------------------
    def action_mark(self) -> None:
        lines = self.lines
        if lines._ensure_cursor() is None:
            return
        lines.selection_start = None if lines.selection_start is not None else lines.cursor
        lines.refresh()
        self._update_bar()

    def selected(self) -> list[LogRecord]:
        view = self.view
        lines = self.lines
        cursor = lines.cursor_index()
        if view is None or cursor is None:
            return []
        anchor = view.index_of(lines.selection_start) if lines.selection_start is not None else cursor
        lo, hi = min(anchor, cursor), max(anchor, cursor)
        return view.rows[lo : hi + 1]

    def current_target(self) -> str:
        """Where an excerpt attaches by default: the pre-filter's target, a running scenario or check."""
        if self.attach_to:
            return self.attach_to
        if self.gate is not None:
            state = self.gate.session.state
            running = [sid for sid, sc in state.scenarios.items() if sc.status == "RUNNING"]
            if running:
                return f"scenario:{running[0]}"
            if state.running:
                return f"check:{sorted(state.running)[0]}"
        return "session"

    def action_copy(self) -> None:
        if not self.selected():
            self.lines._ensure_cursor()
            self.lines.refresh()
        count = len(self.selected())
        if not count:
            self._status("nothing to copy")
            return
        self._open_prompt(
            "excerpt", f"Copy {count} line(s) into evidence, attached to:", self.current_target()
        )

    def copy_to_evidence(self, target: str) -> LogExcerpt | None:
        records = self.selected()
        if self.gate is None or self.gate.logs is None or not records:
            return None
        event = self.gate.logs.excerpt(records, target.strip() or "session")
        self.lines.selection_start = None
        self.lines.refresh()
        return event

    # -- the prompt --------------------------------------------------------------------------------
    def action_prompt(self, kind: str) -> None:
        view = self.view
        if view is None:
            return
        if kind == "search":
            self._open_prompt(kind, "Search (text, or re:regex); n / N for next / previous", view.search_text)
        elif kind == "filter":
            self._open_prompt(
                kind,
                "Filter: src:<stream> level:<error|warn|info|debug> text or re:regex",
                view.filter.to_query(),
            )
        elif kind == "time":
            newest = view.ring.newest()
            hint = clock_text(newest[TS])[:8] if newest else "HH:MM:SS"
            self._open_prompt(kind, "Jump to time (UTC): HH:MM[:SS] or 2026-11-24T05:57:55Z", hint)

    def _open_prompt(self, kind: str, placeholder: str, value: str) -> None:
        box = self.query_one("#logs-input", Input)
        self._prompt = kind
        box.placeholder = placeholder
        box.border_title = plain(placeholder, one_line=True)  # Textual reads a str title as markup
        box.value = value
        box.add_class("-open")
        box.focus()

    def _close_prompt(self) -> None:
        box = self.query_one("#logs-input", Input)
        box.remove_class("-open")
        self._prompt = ""
        self.lines.focus()

    def action_cancel(self) -> None:
        if self._prompt:
            self._close_prompt()
        elif self.lines.selection_start is not None:
            self.lines.selection_start = None
            self.lines.refresh()
            self._update_bar()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        kind, value = self._prompt, message.value
        self._close_prompt()
        if kind == "search":
            self._search(value)
        elif kind == "filter" and self.view is not None:
            try:
                self._apply_filter(parse_filter(value, base=self.view.filter))
            except FilterError as exc:
                self._status(str(exc))
        elif kind == "time":
            self.jump_to(value)
        elif kind == "excerpt":
            event = self.copy_to_evidence(value)
            if event is None:
                self._status("nothing copied")

    def jump_to(self, value: str) -> None:
        view = self.view
        if view is None:
            return
        ts = _parse_time(value, view)
        if ts is None:
            self._status(f"cannot read the time {value!r} (HH:MM[:SS] or ISO 8601, UTC)")
            return
        index = view.jump(ts)
        self.lines.go_to(index)
        self._update_bar()


def _parse_time(value: str, view: LogView) -> float | None:
    value = value.strip()
    if not value:
        return None
    if "T" in value:
        return parse_iso(value if len(value) > 19 else value + ".0Z")
    parts = value.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    newest = view.ring.newest()
    day = newest[TS] if newest is not None else time.time()
    midnight = int(day) - int(day) % 86400
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    return float(midnight + h * 3600 + m * 60 + s)
