"""The timeline screen's reader: a session's evidence file followed from a byte offset.

Each look folds only the records appended since the last one (a `stat` when there are none), so a
refresh costs the same eight hours into a gate as in its first minute (tests/bench/bench_timeline.py).
Blocking: call `read` in a thread.
"""

from __future__ import annotations

import threading

from backends.evidence.storage import LineTail, StoreFormatError
from backends.evidence.store import StoreError
from backends.session import Session
from backends.timeline.build import TimelineFold
from backends.timeline.model import Timeline


class TimelineReader:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._tail = LineTail(session.store.path)
        self._fold = TimelineFold()
        self._last: Timeline | None = None
        self._lock = threading.Lock()  # a slow look still running when the next one starts

    def read(self) -> Timeline:
        """The timeline of every record on disk now (those not flushed yet come on a later look)."""
        with self._lock:
            return self._read()

    def _read(self) -> Timeline:
        try:
            self.session.store.storage.open()  # a legacy store is converted before it is followed
            new = self._tail.read()
        except StoreFormatError as exc:
            raise StoreError(str(exc)) from exc
        if new or self._last is None:
            for record in new:
                self._fold.add(record)
            self._last = self._fold.timeline()
        return self._last
