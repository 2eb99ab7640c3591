"""A window of filtered records for one screen: follow or pause, scroll past the ring, jump, search.

`rows` is always a contiguous stretch of the filtered stream, ordered by (ts, seq):
  following      rows = the filtered ring (the same record objects); new lines are appended,
                 evicted ones dropped
  paused         rows are cut to `paused_window` around where the operator is, and stop being
                 trimmed; new lines are still appended while there is room, then the view detaches
                 (it counts `new_lines` instead) — the screen never moves by itself
  scrolled back  `load_older` prepends a page from the ring and then the session's log files,
                 `load_newer` walks forward again and re-attaches once it reaches the live tail
Memory: a following view shares the ring's records; a paused one holds at most `paused_window` of
its own. Neither grows with the number of lines streamed, however long the gate runs.

The screen keeps its position as a record key (ts, seq), not an index, so rows arriving, leaving or
being prepended never make it jump; `index_of(key)` maps back.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable

from backends.logs.filter import LogFilter
from backends.logs.reader import LogReader
from backends.logs.record import MARK, SEQ, TEXT, TS, Key, LogRecord, key_of
from backends.logs.ring import LogRing

PAGE = 500
PAUSED_WINDOW = 20_000
#: how far a search for the next hit may read back through the files per key press
SEARCH_PAGES = 20


class LogView:
    def __init__(
        self,
        ring: LogRing,
        reader: LogReader,
        flt: LogFilter | None = None,
        *,
        paused_window: int = PAUSED_WINDOW,
    ) -> None:
        self.ring = ring
        self.reader = reader
        self.filter = flt or LogFilter()
        self.paused_window = max(paused_window, 4 * PAGE)
        self.rows: list[LogRecord] = []
        self.following = True
        self.attached = True
        self.new_lines = 0
        self.at_start = False  # rows[0] is the oldest matching record there is
        self.version = 0
        self.search: re.Pattern[str] | None = None
        self.search_text = ""
        self.hit_count = 0
        self.rebuild()

    # -- building -------------------------------------------------------------------------
    def _matching(self, records: Iterable[LogRecord]) -> list[LogRecord]:
        flt = self.filter
        if not flt.active:
            return list(records)
        return [r for r in records if flt.matches(r)]

    def rebuild(self) -> None:
        """rows := the filtered ring (attached, at the live tail)."""
        self.rows = self._matching(self.ring.slice(0, len(self.ring)))
        self.attached = True
        self.new_lines = 0
        self.at_start = False
        self._recount()
        self.version += 1

    def set_filter(self, flt: LogFilter) -> None:
        self.filter = flt
        self.rebuild()

    # -- live updates (a pipeline listener) --------------------------------------------------
    def on_flush(self, added: list[LogRecord], evicted: list[LogRecord]) -> None:
        new = self._matching(added)
        rows = self.rows
        if not self.attached:
            self.new_lines += len(new)
        elif new:
            if rows and new[0] < rows[-1]:  # late lines: merge them into place
                at = bisect_left(rows, new[0])
                tail = rows[at:]
                del rows[at:]
                rows.extend(sorted(tail + new))
            else:
                rows.extend(new)
            self.hit_count += self._hits(new)
            self.version += 1
        if self.following and evicted and rows:
            cut = bisect_left(rows, self.ring.floor)
            if cut:
                self.hit_count -= self._hits(rows[:cut])
                del rows[:cut]
                self.at_start = False
                self.version += 1
        if not self.following and len(rows) > self.paused_window:
            # paused: keep what is on screen, stop taking new lines
            drop = len(rows) - self.paused_window
            self._trim_back(drop)
            self.new_lines += drop
            self.version += 1

    def _trim_front(self, count: int) -> None:
        if count > 0:
            self.hit_count -= self._hits(self.rows[:count])
            del self.rows[:count]
            self.at_start = False

    def _trim_back(self, count: int) -> None:
        if count > 0:
            self.hit_count -= self._hits(self.rows[-count:])
            del self.rows[-count:]
            self.attached = False

    def _trim_around(self, index: int, keep: int | None = None) -> int:
        """Cut rows to `keep` (default `paused_window`) around row index; returns its new position."""
        keep = self.paused_window if keep is None else keep
        excess = len(self.rows) - keep
        if excess <= 0:
            return index
        front = min(excess, max(0, index - keep // 2))
        self._trim_front(front)
        self._trim_back(excess - front)
        self.version += 1
        return index - front

    # -- moving -----------------------------------------------------------------------------
    def follow(self) -> None:
        """Back to the live tail: rows := the filtered ring again (a paused window was cut)."""
        self.following = True
        self.rebuild()

    def pause(self, around: Key | None = None) -> None:
        """Stop following; keep at most `paused_window` rows around `around` (default: the tail)."""
        if not self.following:
            return
        self.following = False
        # half the window: room for new lines below before the view detaches
        index = len(self.rows) - 1 if around is None else self.index_of(around)
        self._trim_around(index, self.paused_window // 2)

    def index_of(self, key: Key) -> int:
        """Index of the first row whose key is >= key (clamped to the last row)."""
        if not self.rows:
            return 0
        return min(bisect_left(self.rows, key), len(self.rows) - 1)

    def older(self, key: Key, n: int) -> list[LogRecord]:
        """Up to n matching records strictly older than key: the ring, then the files."""
        ring = self.ring
        flt = self.filter
        found: list[LogRecord] = []
        i = ring.index_of(key) - 1
        while i >= 0 and len(found) < n:
            record = ring[i]
            if not flt.active or flt.matches(record):
                found.append(record)
            i -= 1
        found.reverse()
        # the ring holds every record >= its floor; older ones are only in the files
        bound = min(key, ring.floor)
        if len(found) < n and bound[0] > float("-inf"):
            found = self.reader.before(bound, n - len(found), flt) + found
        return found

    def newer(self, key: Key, n: int) -> list[LogRecord]:
        """Up to n matching records strictly newer than key: the files below the ring, then the ring."""
        ring = self.ring
        flt = self.filter
        found: list[LogRecord] = []
        floor = ring.floor
        if key < floor:
            found = [r for r in self.reader.after(key, n, flt) if r < floor]
            if len(found) >= n:
                return found[:n]
            key = key_of(found[-1]) if found else key
        i = ring.index_of((key[0], key[1] + 1))
        while i < len(ring) and len(found) < n:
            record = ring[i]
            if not flt.active or flt.matches(record):
                found.append(record)
            i += 1
        return found

    def load_older(self, n: int = PAGE) -> int:
        """Prepend up to n older rows; returns how many came (0 = nothing older)."""
        if self.at_start:
            return 0
        if not self.rows:
            newest = self.ring.newest()
            key: Key = (newest[TS], newest[SEQ] + 1) if newest else (float("inf"), 0)
        else:
            key = key_of(self.rows[0])
        more = self.older(key, n)
        if len(more) < n:
            self.at_start = True
        if not more:
            return 0
        self.following = False
        self.rows[:0] = more
        self.hit_count += self._hits(more)
        self._trim_back(len(self.rows) - self.paused_window)
        self.version += 1
        return len(more)

    def load_newer(self, n: int = PAGE) -> int:
        """Append up to n newer rows when detached; returns how many came."""
        if self.attached or not self.rows:
            return 0
        more = self.newer(key_of(self.rows[-1]), n)
        self.rows.extend(more)
        self.hit_count += self._hits(more)
        newest = self.ring.newest()
        if len(more) < n or (newest is not None and more and more[-1] >= newest):
            self.attached = True
            self.new_lines = 0
        self._trim_front(len(self.rows) - self.paused_window)
        self.version += 1
        return len(more)

    def jump(self, ts: float) -> int:
        """Show the stream around time ts; returns the index of the first row at or after it."""
        self.following = False
        oldest = self.ring.oldest()
        if oldest is not None and ts >= oldest[TS]:
            if not self.attached or self.at_start:
                self.rebuild()
            return self._trim_around(self.index_of((ts, -1)))
        else:
            before = self.older((ts, -1), PAGE)
            after = self.newer((ts, -2), PAGE)
            self.rows = before + after
            self.attached = len(after) < PAGE
            self.new_lines = 0
            self.at_start = len(before) < PAGE
            self._recount()
            self.version += 1
        return self.index_of((ts, -1))

    # -- search ----------------------------------------------------------------------------
    def set_search(self, text: str, *, regex: bool = False) -> None:
        self.search_text = text
        if not text:
            self.search = None
        else:
            self.search = re.compile(text if regex else re.escape(text), re.IGNORECASE)
        self._recount()
        self.version += 1

    def is_hit(self, record: LogRecord) -> bool:
        return self.search is not None and not record[MARK] and self.search.search(record[TEXT]) is not None

    def _hits(self, records: list[LogRecord]) -> int:
        pattern = self.search
        if pattern is None:
            return 0
        find = pattern.search
        return sum(1 for r in records if not r[MARK] and find(r[TEXT]) is not None)

    def _recount(self) -> None:
        self.hit_count = self._hits(self.rows)

    def hit_ordinal(self, index: int) -> int:
        """1-based number of the hit at row index (hits above it + 1)."""
        return self._hits(self.rows[: index + 1])

    def find(self, start: int, direction: int) -> int | None:
        """Index of the next hit from row `start` (exclusive) in `direction` (+1 down, -1 up).

        Going up past the first row reads older pages (bounded); the returned index accounts for
        rows prepended meanwhile. None when there is no further hit within reach.
        """
        if self.search is None:
            return None
        i = start + direction
        pages = 0
        while True:
            while 0 <= i < len(self.rows):
                if self.is_hit(self.rows[i]):
                    return i
                i += direction
            if pages >= SEARCH_PAGES:
                return None
            pages += 1
            if direction < 0:
                added = self.load_older(PAGE)
                if not added:
                    return None
                i = added - 1
            else:
                added = self.load_newer(PAGE)
                if not added:
                    return None
                i = len(self.rows) - added  # the first new row (the front may have been trimmed)
