"""Lines per second per stream over the last minute, for the sparkline in the logs pane's legend.

Counted as batches are flushed (a pipeline listener: a few operations per line), in buckets of the
lines' own time stamps. "Now" is the newest line's time, not the local clock, so what the legend
shows follows the logs (a quiet stream next to a busy one flattens; the drawing is the same for the
same lines) and does not drift when the gate's and the host's clocks differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backends.logs.hub import LogHub
from backends.logs.record import MARK, SOURCE, TS, LogRecord

BUCKET_S = 15.0
BUCKETS = 4
#: one-line bar heights, lowest first: a quiet bucket is the lowest, never a blank
BLOCKS = "▁▂▃▄▅▆▇█"


class LogRates:
    def __init__(self, bucket_s: float = BUCKET_S, buckets: int = BUCKETS) -> None:
        self.bucket_s = bucket_s
        self.buckets = buckets
        self._counts: dict[str, dict[int, int]] = {}
        self._newest = -1
        self._detach: Callable[[], None] | None = None

    def add(self, records: Iterable[LogRecord], evicted: Iterable[LogRecord] = ()) -> None:
        """Count lines (pipeline markers are not lines); a pipeline listener's signature."""
        for record in records:
            if record[MARK]:
                continue
            bucket = int(record[TS] // self.bucket_s)
            counts = self._counts.setdefault(record[SOURCE], {})
            counts[bucket] = counts.get(bucket, 0) + 1
            if bucket > self._newest:
                self._newest = bucket
        oldest = self._newest - self.buckets
        for counts in self._counts.values():
            for bucket in [b for b in counts if b <= oldest]:
                del counts[bucket]

    def series(self, stream: str) -> list[float]:
        """Lines per second in each bucket, oldest first, the last one the bucket still filling."""
        counts = self._counts.get(stream, {})
        first = self._newest - self.buckets + 1
        return [counts.get(b, 0) / self.bucket_s for b in range(first, self._newest + 1)]

    def peak(self) -> float:
        return max((max(self.series(s), default=0.0) for s in self._counts), default=0.0)

    def sparkline(self, stream: str, peak: float | None = None) -> str:
        """The series as one-line blocks, scaled to `peak` (all streams' by default, so streams compare)."""
        top = self.peak() if peak is None else peak
        out = []
        for rate in self.series(stream):
            level = 0 if rate <= 0 or top <= 0 else 1 + round(rate / top * (len(BLOCKS) - 2))
            out.append(BLOCKS[min(level, len(BLOCKS) - 1)])
        return "".join(out)

    def current(self, stream: str) -> float:
        """The rate of the last full bucket (the one still filling would read low)."""
        series = self.series(stream)
        return series[-2] if len(series) > 1 else (series[-1] if series else 0.0)

    # -- following a hub ----------------------------------------------------------------------
    def follow(self, hub: LogHub) -> None:
        """Count what the hub's ring already holds, then every flush from now on."""
        self.add(iter(hub.ring))
        hub.pipeline.listeners.append(self.add)
        self._detach = lambda: hub.pipeline.listeners.remove(self.add)

    def close(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None


def rate_text(rate: float) -> str:
    """3/s, 0.4/s, 1.2k/s."""
    if rate >= 1000:
        return f"{rate / 1000:.1f}k/s"
    if rate >= 10:
        return f"{rate:.0f}/s"
    return f"{rate:.1f}/s" if rate else "0/s"
