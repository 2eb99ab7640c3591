"""The logs pipeline: raw lines in; redacted, ordered, bounded, stored and published out.

    source ─▶ ingest: redact (per stream, PEM-aware) ─▶ records ─▶ pending (≤ one flush interval)
                                                                      │ flush (every 100 ms, or when full)
               LogFiles.append (per stream, redacted) ◀───────────────┤
               LogRing.extend (bounded, by time)      ◀───────────────┤
               listeners (open views)                 ◀───────────────┤
               bus: LogLines per stream               ◀───────────────┘

Redaction happens in `ingest`, before a line is held anywhere: pending, ring, files, events and the
screen only ever see redacted text. Timestamps are clamped to never go backwards within a stream, so
each stream's log file is sorted by (ts, seq) and the reader can binary-search it.

What a crash loses: the pending records of at most one flush interval (or `max_pending` lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from backends.events import EventBus, LogLines
from backends.evidence.logfiles import LogFiles
from backends.logs.record import END, GAP, NOTE, TEXT, LogRecord, format_line, iso_ts, make_record, quantize
from backends.logs.ring import LogRing
from backends.logs.source import Chunk, Item, LogSource, Mark

if TYPE_CHECKING:
    from backends.redact import LineRedactor, Redactor

FLUSH_INTERVAL = 0.1
MAX_PENDING = 20_000
#: where a stream's lines go inside the session's logs/ directory (LogFiles key)
FILE_PREFIX = "live."
STREAMS_INDEX = "live-streams.json"

_text = itemgetter(TEXT)
_LINE = "%s %d %s"  # iso time, seq, text: record.format_line for a plain line

#: Called after each flush with (the new records, the records the ring evicted).
Listener = Callable[[list[LogRecord], list[LogRecord]], None]


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
        #: per stream: its new records, and the same as log-file text blocks
        self._pending: dict[str, tuple[list[LogRecord], list[str]]] = {}
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
        texts = self._redaction[chunk.stream].feed(chunk.texts)
        n = len(texts)
        ts = chunk.ts
        if ts is None or isinstance(ts, (int, float)):
            t = quantize(self.clock() if ts is None else float(ts))
            if t < info.last_ts:
                t = info.last_ts
            info.last_ts = t
            stamps: Any = repeat(t, n)
            prefixes: Any = repeat(iso_ts(t), n)
        else:
            clamped = list(accumulate(map(quantize, ts), max, initial=info.last_ts))
            del clamped[0]
            info.last_ts = clamped[-1]
            stamps = clamped
            prefixes = map(iso_ts, clamped)
        seqs = range(self._seq + 1, self._seq + n + 1)
        self._seq += n
        name = repeat(chunk.stream, n)
        levels = repeat(None, n) if chunk.levels is None else chunk.levels
        records: list[LogRecord] = list(zip(stamps, seqs, name, texts, repeat("", n), levels, strict=False))
        # the log-file lines, formatted here while the chunk's shape is known (one time stamp: one prefix)
        if chunk.levels is None:
            block = "\n".join(map(_LINE.__mod__, zip(prefixes, seqs, texts, strict=False)))
        else:
            block = "\n".join([format_line(r) for r in records])
        pending = self._pending.get(chunk.stream)
        if pending is None:
            pending = self._pending[chunk.stream] = ([], [])
        pending[0].extend(records)
        pending[1].append(block)
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
        pending = self._pending.setdefault(mark.stream, ([], []))
        pending[0].append(record)
        pending[1].append(format_line(record))
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
        batch: list[LogRecord] = []
        for stream, (records, blocks) in pending.items():
            self.files.append(self.streams[stream].file, blocks)
            batch.extend(records)
        batch.sort()
        evicted = self.ring.extend(batch)
        for listener in list(self.listeners):
            listener(batch, evicted)
        if self.bus is not None:
            for stream, (records, _) in pending.items():
                self.bus.publish(LogLines(stream, tuple(map(_text, records))))
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
        self.flush()
