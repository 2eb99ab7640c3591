"""The unit of the logs pipeline, and how it is written to (and read back from) a session log file.

A `LogRecord` is a plain tuple ordered by `(ts, seq)`: `seq` is unique per session, so two records
never compare beyond it, and a list of records sorted by natural order is sorted by time. Tuples keep
the hot path in C (creation, sorting, bisecting), cost little memory, and are invisible to the GC.

Log-file line format (one record per line, UTF-8, already redacted):

    2026-11-24T05:57:55.123456Z 1234 the text as the source wrote it
    2026-11-24T05:57:58.000000Z 1235:gap reconnected after 2.1 s; resumed from the last cursor

The second field is the record's sequence number, with `:<mark>` for pipeline markers (gap, end,
note) and `@<level>` when the source stated a level (journald's PRIORITY). Otherwise the level is not
stored: it is a pure function of the text (see `levels`), so the file stays the source's own words
plus when and in which order.
"""

from __future__ import annotations

import calendar
import time
from typing import Final

from backends.logs.levels import LEVELS, NONE, detect_level

# Marks: records the pipeline adds to say something about the stream itself.
GAP, END, NOTE = "gap", "end", "note"
MARKS = (GAP, END, NOTE)


Key = tuple[float, int]

#: A record is a plain tuple (ts, seq, source, text, mark, given_level), not a class — on purpose:
#: CPython's collector stops tracking an exact tuple of plain values, so a full ring of 100k records
#: costs a full collection nothing, while 100k NamedTuples (a tuple subclass stays tracked) made every
#: full collection in the running app ~35 ms longer (measured; it showed as key-press latency spikes).
#:   ts           seconds since the epoch, UTC, quantized to the microsecond
#:   seq          unique per session, increasing in arrival order
#:   source       the stream's name
#:   text         the (redacted) line
#:   mark         "" for a line the source wrote; GAP / END / NOTE for pipeline markers
#:   given_level  the level the source stated (journald PRIORITY); None = detect it from the text
LogRecord = tuple[float, int, str, str, str, "str | None"]
TS: Final = 0
SEQ: Final = 1
SOURCE: Final = 2
TEXT: Final = 3
MARK: Final = 4
GIVEN: Final = 5


def make_record(
    ts: float, seq: int, source: str, text: str, mark: str = "", given_level: str | None = None
) -> LogRecord:
    return (ts, seq, source, text, mark, given_level)


def level_of(record: LogRecord) -> str:
    """Detected on demand (a few hundred ns), so the ingest path pays nothing for lines never shown."""
    if record[MARK]:
        return NONE
    given = record[GIVEN]
    return given if given is not None else detect_level(record[TEXT])


def key_of(record: LogRecord) -> Key:
    return (record[TS], record[SEQ])


def quantize(ts: float) -> float:
    """Round to the microsecond, in the one float form `parse_iso` gives back (exact round trip)."""
    second = int(ts)
    micros = int((ts - second) * 1_000_000 + 0.5)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    return second + micros / 1_000_000


def from_micros(micros: int) -> float:
    """Integer microseconds since the epoch (journald's __REALTIME_TIMESTAMP) → quantized seconds."""
    return micros // 1_000_000 + (micros % 1_000_000) / 1_000_000


class _IsoCache:
    """ISO-8601 with microseconds; the date-time part is cached per whole second (lines cluster)."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def __call__(self, ts: float) -> str:
        second = int(ts)
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        micros = int((ts - second) * 1_000_000 + 0.5)
        if micros >= 1_000_000:
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second + 1)) + ".000000Z"
        return f"{self.prefix}.{micros:06d}Z"


iso_ts = _IsoCache()


def parse_iso(text: str) -> float | None:
    """The inverse of `iso_ts` (also accepts RFC 3339 with nanoseconds or an offset of Z)."""
    try:
        if len(text) < 20 or text[10] != "T":
            return None
        base = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    frac = 0.0
    rest = text[19:]
    if rest.startswith("."):
        digits = ""
        for ch in rest[1:]:
            if not ch.isdigit():
                break
            digits += ch
        if digits:
            frac = int(digits[:6].ljust(6, "0")) / 1_000_000
    return base + frac  # == quantize(): the same sum of the same two floats


def tag(record: LogRecord) -> str:
    out = str(record[SEQ])
    if record[MARK]:
        out += ":" + record[MARK]
    given = record[GIVEN]
    if given is not None:
        out += "@" + (given or "-")
    return out


def format_line(record: LogRecord) -> str:
    """One record as its log-file line (no newline)."""
    return f"{iso_ts(record[TS])} {tag(record)} {record[TEXT]}"


def parse_line(source: str, line: str) -> LogRecord | None:
    """A log-file line back into a record; None for a line that is not in this format."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 2:
        return None
    ts = parse_iso(parts[0])
    if ts is None:
        return None
    head, _, level_text = parts[1].partition("@")
    seq_text, _, mark = head.partition(":")
    if not seq_text.isdigit() or (mark and mark not in MARKS):
        return None
    given: str | None = None
    if level_text:
        given = level_text if level_text in LEVELS else NONE
    text = parts[2] if len(parts) == 3 else ""
    return (ts, int(seq_text), source, text, mark, given)


def clock_text(ts: float) -> str:
    """HH:MM:SS.mmm (UTC) for the screen."""
    second = int(ts)
    millis = int((ts - second) * 1_000_000 + 0.5) // 1000  # ts is quantized to the microsecond
    return time.strftime("%H:%M:%S", time.gmtime(second)) + f".{min(millis, 999):03d}"
