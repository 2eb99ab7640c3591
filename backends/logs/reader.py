"""Scrolling back beyond the ring: the session's log files, read by time.

Each stream's file is sorted by (ts, seq) — the pipeline clamps a stream's clock so it never goes
backwards, and seq only grows — so a record is found by binary search over byte offsets (a few 4 KiB
reads, whatever the file's size), and a page before or after it is read in blocks from there. Nothing
is indexed in memory: scrolling a week-long gate back costs no RAM.

Merged pages across streams: take up to n matching records from each stream's side of the key, then
the n nearest of all of them — exactly the merged stream's page, since each stream is sorted.

Reads are bounded (`max_bytes` per stream per call), so a filter that matches almost nothing cannot
stall the screen; a short page says "scanned this far, nothing more nearby".
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from backends.logs.filter import LogFilter
from backends.logs.record import Key, LogRecord, parse_line

BLOCK = 64 * 1024
MAX_BYTES = 16 * 1024 * 1024

#: stream name → path of its log file
StreamFiles = Callable[[], dict[str, Path]]


class LogReader:
    def __init__(self, stream_files: StreamFiles) -> None:
        self._stream_files = stream_files

    # -- public -------------------------------------------------------------------------------
    def before(
        self, key: Key, n: int, flt: LogFilter | None = None, *, max_bytes: int = MAX_BYTES
    ) -> list[LogRecord]:
        """Up to n matching records strictly older than key, oldest first."""
        found: list[LogRecord] = []
        for stream, path in self._files(flt):
            found.extend(self._stream_before(stream, path, key, n, flt, max_bytes))
        found.sort()
        return found[-n:] if n else []

    def after(
        self, key: Key, n: int, flt: LogFilter | None = None, *, max_bytes: int = MAX_BYTES
    ) -> list[LogRecord]:
        """Up to n matching records strictly newer than key, oldest first."""
        runs = [self._stream_after(stream, path, key, n, flt, max_bytes) for stream, path in self._files(flt)]
        return list(heapq.merge(*runs))[:n]

    def around(self, ts: float, n: int, flt: LogFilter | None = None) -> list[LogRecord]:
        """About n records centred on time ts (for "jump to time" beyond the ring)."""
        key = (ts, -1)
        return self.before(key, n // 2, flt) + self.after((ts, -2), n - n // 2, flt)

    def streams(self) -> list[str]:
        return sorted(self._stream_files())

    # -- one stream ---------------------------------------------------------------------------
    def _files(self, flt: LogFilter | None) -> Iterator[tuple[str, Path]]:
        for stream, path in sorted(self._stream_files().items()):
            if (flt is None or flt.wants_stream(stream)) and path.exists():
                yield stream, path

    def _stream_before(
        self, stream: str, path: Path, key: Key, n: int, flt: LogFilter | None, max_bytes: int
    ) -> list[LogRecord]:
        out: list[LogRecord] = []
        with open(path, "rb") as fh:
            end = _first_at_or_after(fh, stream, key)
            scanned = 0
            carry = b""
            pos = end
            while pos > 0 and len(out) < n and scanned < max_bytes:
                start = max(0, pos - BLOCK)
                fh.seek(start)
                data = fh.read(pos - start) + carry
                scanned += pos - start
                pos = start
                lines = data.split(b"\n")
                carry = lines[0] if start > 0 else b""
                body = lines[1:] if start > 0 else lines
                for raw in reversed(body):
                    if not raw:
                        continue
                    record = parse_line(stream, raw.decode("utf-8", "replace"))
                    if record is not None and record < key and (flt is None or flt.matches(record)):
                        out.append(record)
                        if len(out) >= n:
                            break
        out.reverse()
        return out

    def _stream_after(
        self, stream: str, path: Path, key: Key, n: int, flt: LogFilter | None, max_bytes: int
    ) -> list[LogRecord]:
        out: list[LogRecord] = []
        above = (key[0], key[1] + 1)
        with open(path, "rb") as fh:
            pos = _first_at_or_after(fh, stream, above)
            fh.seek(pos)
            scanned = 0
            carry = b""
            while len(out) < n and scanned < max_bytes:
                data = fh.read(BLOCK)
                if not data:
                    break
                scanned += len(data)
                lines = (carry + data).split(b"\n")
                carry = lines.pop()
                for raw in lines:
                    record = parse_line(stream, raw.decode("utf-8", "replace"))
                    if record is not None and record >= above and (flt is None or flt.matches(record)):
                        out.append(record)
                        if len(out) >= n:
                            break
        return out


def _line_from(fh: BinaryIO, pos: int, size: int) -> tuple[int, int, bytes]:
    """The first line starting at or after byte pos: (start, end after its newline, its bytes)."""
    start = pos
    if pos > 0:
        offset = pos - 1  # a line starts at pos only if the byte before it is a newline
        while True:
            fh.seek(offset)
            block = fh.read(4096)
            if not block:
                return size, size, b""
            nl = block.find(b"\n")
            if nl >= 0:
                start = offset + nl + 1
                break
            offset += len(block)
    if start >= size:
        return size, size, b""
    fh.seek(start)
    parts: list[bytes] = []
    while True:
        block = fh.read(4096)
        if not block:
            line = b"".join(parts)
            return start, start + len(line), line
        nl = block.find(b"\n")
        if nl >= 0:
            parts.append(block[:nl])
            line = b"".join(parts)
            return start, start + len(line) + 1, line
        parts.append(block)


def _first_at_or_after(fh: BinaryIO, stream: str, key: Key) -> int:
    """Byte offset of the first line whose key is >= key (the file's size if none)."""
    size = os.fstat(fh.fileno()).st_size
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        start, end, line = _line_from(fh, mid, size)
        if start >= size:
            hi = mid
            continue
        record = parse_line(stream, line.decode("utf-8", "replace"))
        if record is not None and record >= key:
            hi = mid
        else:
            lo = max(end, mid + 1)
    return _line_from(fh, lo, size)[0]
