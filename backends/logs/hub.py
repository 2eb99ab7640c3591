"""The gate's log service: starts sources, owns the pipeline, the ring, the reader and the views.

The gate opens one hub per session (`Gate.logs`); the engine hands it the sources its adapters can
follow (`Engine.log_sources()`), and the UI opens views on it and sends it intents (excerpts).
Everything here runs on the gate's event loop; nothing blocks longer than one bounded file read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from backends.events import EventBus, LogExcerpt
from backends.evidence.logfiles import LogFiles
from backends.logs.filter import LogFilter
from backends.logs.pipeline import FILE_PREFIX, STREAMS_INDEX, LogPipeline, StreamInfo
from backends.logs.reader import LogReader
from backends.logs.record import SEQ, SOURCE, TEXT, TS, LogRecord, iso_ts, key_of, parse_line, tag
from backends.logs.ring import DEFAULT_CAPACITY, LogRing
from backends.logs.source import LogSource
from backends.logs.view import LogView

if TYPE_CHECKING:
    from backends.redact import Redactor

EXCERPTS = "excerpts"


class LogHub:
    def __init__(
        self,
        files: LogFiles,
        redactor: Redactor,
        bus: EventBus | None = None,
        *,
        ring_size: int = DEFAULT_CAPACITY,
        flush_interval: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.files = files
        self.bus = bus
        self.ring = LogRing(ring_size)
        kw = {} if flush_interval is None else {"flush_interval": flush_interval}
        self.pipeline = LogPipeline(redactor, files, self.ring, bus, clock=clock, **kw)  # type: ignore[arg-type]
        self.reader = LogReader(self._stream_files)
        self.sources: dict[str, LogSource] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._views: list[LogView] = []
        self._resume_from_disk()

    # -- streams and their files ----------------------------------------------------------------
    @property
    def streams(self) -> dict[str, StreamInfo]:
        return self.pipeline.streams

    def _stream_files(self) -> dict[str, Path]:
        return {name: self.files.path_for(info.file) for name, info in self.pipeline.streams.items()}

    def _resume_from_disk(self) -> None:
        """A resumed session: learn its streams, continue their sequence numbers and clocks."""
        index_path = self.files.dir / STREAMS_INDEX
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        last_seq, last_key = 0, None
        for file_name, stream in sorted(index.items()):
            info = StreamInfo(stream, len(self.pipeline.streams), FILE_PREFIX + stream, state="stopped")
            last = _last_record(self.files.dir / file_name, stream)
            if last is not None:
                info.last_ts = last[TS]
                last_seq = max(last_seq, last[SEQ])
                last_key = max(last_key, key_of(last)) if last_key else key_of(last)
            self.pipeline.adopt_stream(info)
        self.pipeline.resume_seq(last_seq)
        if last_key is not None:
            self.ring.floor = (last_key[0], last_key[1] + 1)

    # -- running ------------------------------------------------------------------------------
    def start(self, sources: Iterable[LogSource] = ()) -> None:
        self.pipeline.start()
        for source in sources:
            self.add_source(source)

    def add_source(self, source: LogSource) -> None:
        """Start following a source (a second source with the same name replaces the first)."""
        old = self._tasks.pop(source.name, None)
        if old is not None:
            old.cancel()
        self.sources[source.name] = source
        task = asyncio.get_running_loop().create_task(
            self.pipeline.consume(source), name=f"logs:{source.name}"
        )
        self._tasks[source.name] = task

    def running(self) -> list[str]:
        return [name for name, task in self._tasks.items() if not task.done()]

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for view in list(self._views):
            self.close_view(view)
        await self.pipeline.aclose()

    # -- views --------------------------------------------------------------------------------
    def open_view(self, flt: LogFilter | None = None, **kw: int) -> LogView:
        view = LogView(self.ring, self.reader, flt, **kw)
        self._views.append(view)
        self.pipeline.listeners.append(view.on_flush)
        return view

    def close_view(self, view: LogView) -> None:
        if view in self._views:
            self._views.remove(view)
            self.pipeline.listeners.remove(view.on_flush)

    # -- evidence -----------------------------------------------------------------------------
    def excerpt(self, records: list[LogRecord], attach_to: str, note: str = "") -> LogExcerpt | None:
        """Copy records (already redacted) into the session's excerpt file; record where, with its hash.

        The excerpt is what the operator saw, source by source and in order; the record in the chain
        carries the byte range and SHA-256, so an edit of the file afterwards is detected.
        """
        if not records:
            return None
        records = sorted(records)
        lines = [f"{iso_ts(r[TS])} {r[SOURCE]} {tag(r)} {r[TEXT]}" for r in records]
        ref = self.files.append(EXCERPTS, lines)
        event = LogExcerpt(
            attach_to=attach_to or "session",
            file=ref.file,
            start=ref.start,
            end=ref.end,
            sha256=ref.sha256,
            lines=len(lines),
            first_ts=records[0][TS],
            last_ts=records[-1][TS],
            streams=tuple(sorted({r[SOURCE] for r in records})),
            note=note,
        )
        if self.bus is not None:
            self.bus.publish(event)
        return event


def _last_record(path: Path, stream: str) -> LogRecord | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    except OSError:
        return None
    return parse_line(stream, tail.decode("utf-8", "replace"))
