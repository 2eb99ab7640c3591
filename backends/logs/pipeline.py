"""The logs pipeline: raw lines in; redacted, ordered, bounded, stored and published out.

    source ─▶ ingest: redact (per stream, PEM-aware) ─▶ records ─▶ pending (≤ one flush interval)
                                                                      │ flush (every 100 ms, or when full)
               LogSink.append (per stream, redacted)  ◀───────────────┤
               LogRing.extend (bounded, by time)      ◀───────────────┤
               listeners (open views)                 ◀───────────────┤
               bus: LogLines per stream               ◀───────────────┘

Redaction happens in `ingest`, before a line is held anywhere: pending, ring, files, events and the
screen only ever see redacted text. Timestamps are clamped to never go backwards within a stream, so
each stream's log file is sorted by (ts, seq) and the reader can binary-search it.

What a crash loses: the pending records of at most one flush interval (or `max_pending` lines).

Cost per line is kept to what cannot be shared: a chunk is redacted as one batch (one multi-pattern
scan), its records are made by one `zip` (plain tuples), its file lines formatted as one block (a
chunk's lines share a time stamp: one prefix, then only the sequence number varies), and a flush
writes each stream's blocks in one append and hands the ring and the bus whole lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from typing import TYPE_CHECKING

from backends.events import EventBus, LogLines
from backends.evidence.logfiles import LogFiles
from backends.logs.record import END, GAP, NOTE, LogRecord, format_line, iso_ts, make_record, quantize
from backends.logs.ring import LogRing
from backends.logs.sink import LogSink
from backends.logs.source import Chunk, Item, LogSource, Mark

if TYPE_CHECKING:
    from backends.redact import LineRedactor, Redactor

FLUSH_INTERVAL = 0.1
MAX_PENDING = 20_000
#: where a stream's lines go inside the session's logs/ directory (LogFiles key)
FILE_PREFIX = "live."
STREAMS_INDEX = "live-streams.json"


#: Called after each flush with (the new records, the records the ring evicted).
Listener = Callable[[list[LogRecord], list[LogRecord]], None]


class _Pending:
    """One stream's records since the last flush, their texts, and their log-file text blocks."""

    __slots__ = ("blocks", "records", "texts")

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.texts: list[str] = []
        self.blocks: list[str] = []


# Sequence numbers as text without making a string per line: "<thousands><three digits>", the digits
# taken from these tables (a slice of a list shares its strings).
_DIGITS = [str(i) for i in range(1000)]
_DIGITS3 = [f"{i:03d}" for i in range(1000)]


def _block(prefix: str, first_seq: int, texts: list[str]) -> str:
    """Log-file lines for texts sharing one time stamp, seq numbers from first_seq (ends in "\\n").

    `format_line` of each record, built as one join of "\\n<prefix> <thousands>", "<digits>", " "
    and the text, laid into one list by slice assignments (no per-line formatting).
    """
    n = len(texts)
    parts = [" "] * (4 * n)
    parts[3::4] = texts
    i, seq = 0, first_seq
    while i < n:
        high, low = divmod(seq, 1000)
        take = min(n - i, 1000 - low)
        at, stop = 4 * i, 4 * (i + take)
        if high:
            parts[at:stop:4] = [f"\n{prefix} {high}"] * take
            parts[at + 1 : stop : 4] = _DIGITS3[low : low + take]
        else:
            parts[at:stop:4] = [f"\n{prefix} "] * take
            parts[at + 1 : stop : 4] = _DIGITS[low : low + take]
        i += take
        seq += take
    parts[0] = parts[0][1:]  # no line break before the first line
    parts.append("\n")
    return "".join(parts)


@dataclass
class StreamInfo:
    """What the legend shows about one stream."""

    name: str
    index: int  # order of appearance: picks the stream's colour
    file: str  # LogFiles key
    state: str = "following"  # following / reconnecting / ended
    lines: int = 0
    gaps: int = 0
    last_ts: float = float("-inf")
    message: str = ""


class LogPipeline:
    def __init__(
        self,
        redactor: Redactor,
        files: LogFiles,
        ring: LogRing,
        bus: EventBus | None = None,
        *,
        flush_interval: float = FLUSH_INTERVAL,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redactor = redactor
        self.files = files
        self.ring = ring
        self.bus = bus
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.clock = clock
        self.streams: dict[str, StreamInfo] = {}
        self.listeners: list[Listener] = []
        #: one stateful redactor per stream: a PEM block spans lines (and chunks)
        self._redaction: dict[str, LineRedactor] = {}
        #: per stream: its new records, their texts (for the bus), and the same as log-file blocks
        self._pending: dict[str, _Pending] = {}
        self.sink = LogSink(files)
        self._pending_count = 0
        self._seq = 0
        self._flusher: asyncio.Task[None] | None = None

    # -- streams --------------------------------------------------------------------------
    def _stream(self, name: str) -> StreamInfo:
        info = self.streams.get(name)
        if info is not None and info.state == "stopped":
            info.state = "following"
        if info is None:
            info = StreamInfo(name, len(self.streams), FILE_PREFIX + name)
            self.streams[name] = info
            self._redaction[name] = self.redactor.line_stream()
            self._write_index()
        return info

    def _write_index(self) -> None:
        """logs/live-streams.json: which file holds which stream (a resumed session reads it)."""
        index = {self.files.path_for(i.file).name: n for n, i in self.streams.items()}
        path = self.files.dir / STREAMS_INDEX
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    def adopt_stream(self, info: StreamInfo) -> None:
        """A stream known from an earlier run of this session (its file continues)."""
        info.index = len(self.streams)
        self.streams[info.name] = info
        self._redaction[info.name] = self.redactor.line_stream()

    def resume_seq(self, last_seq: int) -> None:
        self._seq = max(self._seq, last_seq)

    # -- ingest (sync: called by the source tasks, and directly by tests and benchmarks) -----
    def ingest(self, item: Item) -> None:
        if isinstance(item, Chunk):
            self._ingest_chunk(item)
        else:
            self._ingest_mark(item)
        if self._pending_count >= self.max_pending:
            self.flush()

    def _ingest_chunk(self, chunk: Chunk) -> None:
        if not chunk.texts:
            return
        info = self._stream(chunk.stream)
        texts = self._redaction[chunk.stream].feed(chunk.texts, chunk.joined)
        n = len(texts)
        first = self._seq + 1
        seqs = range(first, first + n)
        self._seq += n
        ts = chunk.ts
        pending = self._pending.get(chunk.stream)
        if pending is None:
            pending = self._pending[chunk.stream] = _Pending()
        names, marks = repeat(chunk.stream, n), repeat("", n)
        if ts is None or isinstance(ts, (int, float)):
            t = quantize(self.clock() if ts is None else float(ts))
            if t < info.last_ts:
                t = info.last_ts
            info.last_ts = t
            stamps: Iterable[float] = repeat(t, n)
        else:
            clamped = list(accumulate(map(quantize, ts), max, initial=info.last_ts))
            del clamped[0]
            info.last_ts = clamped[-1]
            stamps = clamped
        if chunk.levels is None and not isinstance(stamps, list):
            # one time stamp, no stated level: one block, and the records straight into the pending list
            pending.blocks.append(_block(iso_ts(info.last_ts), first, texts))
            pending.records.extend(zip(stamps, seqs, names, texts, marks, repeat(None, n), strict=False))
        else:
            levels = repeat(None, n) if chunk.levels is None else chunk.levels
            records = list(zip(stamps, seqs, names, texts, marks, levels, strict=False))
            pending.blocks.append("".join([format_line(r) + "\n" for r in records]))
            pending.records += records
        pending.texts += texts
        self._pending_count += n
        info.lines += n

    def _ingest_mark(self, mark: Mark) -> None:
        info = self._stream(mark.stream)
        text = self.redactor.redact(mark.message)
        # a mark sits right after the stream's last line and never moves the stream's clock; on a
        # stream with no line yet it starts the clock (the stream's file stays sorted by time)
        if info.last_ts == float("-inf"):
            info.last_ts = quantize(mark.ts if mark.ts is not None else self.clock())
        ts = info.last_ts
        self._seq += 1
        record = make_record(ts, self._seq, mark.stream, text, mark.kind)
        pending = self._pending.get(mark.stream)
        if pending is None:
            pending = self._pending[mark.stream] = _Pending()
        pending.records.append(record)
        pending.texts.append(text)
        pending.blocks.append(format_line(record) + "\n")
        self._pending_count += 1
        if mark.kind == GAP:
            info.gaps += 1
            info.state = "following"
        elif mark.kind == END:
            info.state = "ended"
        elif mark.kind == NOTE and mark.message.startswith("reconnecting"):
            info.state = "reconnecting"
        info.message = text

    # -- flush ----------------------------------------------------------------------------
    def flush(self) -> list[LogRecord]:
        """Write pending records to the files, then the ring, then tell views and the bus."""
        if not self._pending_count:
            return []
        pending, self._pending = self._pending, {}
        self._pending_count = 0
        for stream, p in pending.items():
            self.sink.append(self.streams[stream].file, p.blocks)
        if len(pending) == 1:  # one stream: its records are in order already (seq up, time clamped)
            batch = next(iter(pending.values())).records
        else:
            batch = list(chain.from_iterable(p.records for p in pending.values()))
            batch.sort()  # sorted runs, one per stream: a merge
        evicted = self.ring.extend(batch)
        for listener in list(self.listeners):
            listener(batch, evicted)
        if self.bus is not None:
            for stream, p in pending.items():
                self.bus.publish(LogLines(stream, tuple(p.texts)))
        return batch

    async def _run_flusher(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            self.flush()

    def start(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._run_flusher(), name="logs-flusher")

    async def consume(self, source: LogSource) -> None:
        """Feed one source into the pipeline until it ends (a task per source)."""
        ended = False
        try:
            async for item in source.stream():
                self.ingest(item)
                if isinstance(item, Mark) and item.kind == END:
                    ended = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in one source must not take the others down
            self.ingest(Mark(source.name, END, f"source stopped: {type(exc).__name__}: {exc}"))
            return
        if not ended:
            self.ingest(Mark(source.name, END, "source ended"))

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        self.close()

    def close(self) -> None:
        """Flush what is pending and close the stream files (a later flush opens them again)."""
        self.flush()
        self.sink.close()
