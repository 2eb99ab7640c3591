"""`journalctl -f` of chosen units on a host over SSH, one stream per unit, resumed by cursor.

The command asks for JSON (`-o json`): every entry carries its `__CURSOR`, its exact time and its
PRIORITY. After a drop, `HostAdapter.follow` reconnects and re-runs the command built from the last
cursor seen (`--after-cursor`), so every entry the journal still holds arrives exactly once; a gap
mark says how long the connection was gone. Messages are kept raw only until the pipeline redacts
them (this module never stores or prints them).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import AsyncIterator

from backends.errors import AdapterError
from backends.host import StreamDropped, StreamingHost, StreamLine, StreamResumed
from backends.logs.levels import PRIORITY_LEVEL
from backends.logs.record import END, GAP, NOTE, from_micros
from backends.logs.source import Chunk, Item, Mark

DEFAULT_UNITS = ("k3s", "kodex-image-prune", "ssh")
BACKLOG = 50


def unit_file(unit: str) -> str:
    return unit if "." in unit else unit + ".service"


def unit_short(unit: str) -> str:
    return unit.removesuffix(".service")


class JournalSource:
    def __init__(
        self,
        host: StreamingHost,
        units: tuple[str, ...] | list[str] = DEFAULT_UNITS,
        *,
        backlog: int = BACKLOG,
    ) -> None:
        self.host = host
        self.units = tuple(unit_file(u) for u in units)
        self.backlog = backlog
        self.name = f"journal@{host.name}"
        self.cursor: str | None = None
        self.entries = 0

    def stream_of(self, unit: str) -> str:
        return f"{self.host.name}:{unit_short(unit)}"

    @property
    def streams(self) -> list[str]:
        return [self.stream_of(u) for u in self.units]

    def command(self) -> str:
        parts = ["journalctl", "--follow", "--output=json", "--no-pager", "--all"]
        for unit in self.units:
            parts.append(f"--unit={shlex.quote(unit)}")
        if self.cursor is not None:
            parts.append(f"--after-cursor={shlex.quote(self.cursor)}")
        else:
            parts.append(f"--lines={self.backlog}")
        return " ".join(parts)

    def _entry(self, line: str) -> Chunk | None:
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if not isinstance(entry, dict):
            return None
        cursor = entry.get("__CURSOR")
        if isinstance(cursor, str):
            self.cursor = cursor
        message = entry.get("MESSAGE", "")
        if isinstance(message, list):  # journald sends non-UTF-8 messages as byte arrays
            message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode(
                "utf-8", "replace"
            )
        elif not isinstance(message, str):
            message = str(message)
        unit = entry.get("UNIT") or entry.get("_SYSTEMD_UNIT") or entry.get("SYSLOG_IDENTIFIER") or "journal"
        if unit not in self.units and self.units:
            unit = next((u for u in self.units if unit_short(u) == entry.get("SYSLOG_IDENTIFIER")), unit)
        try:
            ts: float | None = from_micros(int(entry["__REALTIME_TIMESTAMP"]))
        except (KeyError, ValueError, TypeError):
            ts = None
        level = PRIORITY_LEVEL.get(str(entry.get("PRIORITY", "")), "")
        texts = message.split("\n") if message else [""]
        self.entries += 1
        return Chunk(
            self.stream_of(str(unit)),
            texts,
            [ts] * len(texts) if ts is not None else None,
            [level] * len(texts),
        )

    def _marks(self, kind: str, message: str) -> list[Mark]:
        return [Mark(stream, kind, message) for stream in self.streams]

    async def stream(self) -> AsyncIterator[Item]:
        try:
            async for event in self.host.follow(self.command, raw=True):
                if isinstance(event, StreamLine):
                    chunk = self._entry(event.text)
                    if chunk is not None:
                        yield chunk
                elif isinstance(event, StreamDropped):
                    if event.attempt == 1 or event.attempt % 10 == 0:
                        for mark in self._marks(
                            NOTE, f"reconnecting (attempt {event.attempt}): {event.reason}"
                        ):
                            yield mark
                elif isinstance(event, StreamResumed):
                    how = (
                        "resumed after the last entry seen (journal cursor): "
                        "nothing the journal still holds is lost or repeated"
                    )
                    if self.cursor is None:
                        how = f"no entry seen before the drop: resumed with the last {self.backlog} entries"
                    for mark in self._marks(GAP, f"connection lost for {event.down_s:.1f} s; {how}"):
                        yield mark
        except AdapterError as err:
            for mark in self._marks(END, f"cannot follow the journal: {err}"):
                yield mark
            return
        for mark in self._marks(END, "journalctl exited"):
            yield mark
