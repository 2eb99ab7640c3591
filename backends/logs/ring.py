"""The bounded in-memory ring: the newest N records of every stream, ordered by (ts, seq).

A plain list with a moving head: O(1) random access for the screen, appends at the end, and the
evicted prefix deleted in bulk once it is a quarter of the capacity (a pointer memmove, amortised to
almost nothing). Lines that arrive late — a pod stream resumed after a drop replays lines older than
what other streams have sent meanwhile — are merged into place; that is a slice of the tail, rare.

Invariant the reader relies on: the ring holds *every* flushed record whose key is >= `floor` (the
oldest key still held). A late record older than the floor is only on disk.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from backends.logs.record import Key, LogRecord

DEFAULT_CAPACITY = 100_000


class LogRing:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("ring capacity must be at least 1")
        self.capacity = capacity
        self._items: list[LogRecord] = []
        self._head = 0
        #: keys below this were evicted (or never held); -inf until the first eviction
        self.floor: Key = (float("-inf"), -1)
        self.total = 0  # records ever added
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def __getitem__(self, index: int) -> LogRecord:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._items[self._head + index]

    def __iter__(self) -> Iterator[LogRecord]:
        items = self._items
        for i in range(self._head, len(items)):
            yield items[i]

    def newest(self) -> LogRecord | None:
        return self._items[-1] if len(self) else None

    def oldest(self) -> LogRecord | None:
        return self._items[self._head] if len(self) else None

    def extend(self, batch: list[LogRecord]) -> list[LogRecord]:
        """Add a batch sorted by key; returns the records evicted to stay within capacity."""
        if not batch:
            return []
        if batch[0] < self.floor:  # late records older than what was evicted live on disk only
            batch = batch[bisect_left(batch, self.floor) :]
            if not batch:
                return []
        items = self._items
        if len(items) > self._head and batch[0] < items[-1]:
            at = bisect_right(items, batch[0], lo=self._head)
            tail = items[at:]
            del items[at:]
            items.extend(heapq.merge(tail, batch))
        else:
            items.extend(batch)
        self.total += len(batch)
        excess = len(items) - self._head - self.capacity
        evicted: list[LogRecord] = []
        if excess > 0:
            evicted = items[self._head : self._head + excess]
            self._head += excess
            self.evicted += excess
            first = items[self._head]
            self.floor = (first[0], first[1])
            if self._head >= max(1024, self.capacity // 4):
                del items[: self._head]
                self._head = 0
        return evicted

    def index_of(self, key: Key) -> int:
        """Index of the first record whose key is >= key (len(self) if none)."""
        return bisect_left(self._items, key, lo=self._head) - self._head

    def before(self, key: Key) -> int:
        """Number of held records strictly older than key (= index_of)."""
        return self.index_of(key)

    def slice(self, start: int, stop: int) -> list[LogRecord]:
        start = max(0, start)
        stop = min(len(self), stop)
        return self._items[self._head + start : self._head + stop]

    def clear(self) -> None:
        self._items.clear()
        self._head = 0
