"""What a log source yields, and the protocol every source follows.

A source is an async iterator of items: `Chunk`s of raw lines (not yet redacted: the pipeline redacts
them before anything keeps them) and `Mark`s that say something about the stream itself — a gap after
a reconnect, the end of the stream, a note. A source never keeps, prints or writes what it reads; it
reconnects on its own after a transient drop (and says so with a gap mark) and ends with an `END` mark
when it cannot go on.

One source may fan out into several named streams (a pod-log source follows every matching pod, one
stream per pod), so each item names the stream it belongs to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NamedTuple, Protocol


class Chunk(NamedTuple):
    stream: (
        str  # the name lines are shown and stored under, e.g. "journal/k3s" or "kodex-prod/kodex-worker-5f7d"
    )
    texts: list[str]  # raw lines, no trailing newlines
    #: per-line timestamps (epoch seconds), one for the whole chunk, or None = time of arrival
    ts: list[float] | float | None = None
    #: per-line levels the source states (journald PRIORITY); None = detect from the text
    levels: list[str] | None = None
    #: the lines as the one text they were split from, when the source has it: exactly
    #: "\n".join(texts) (the redactor scans it as is instead of joining the lines again)
    joined: str | None = None


class Mark(NamedTuple):
    stream: str
    kind: str  # record.GAP / record.END / record.NOTE
    message: str
    ts: float | None = None


Item = Chunk | Mark


class LogSource(Protocol):
    #: a label for the operator (the legend and errors), e.g. "journal@sandbox-vps"
    name: str

    def stream(self) -> AsyncIterator[Item]: ...
