"""A file the plan names, followed like `tail -F`: on this machine, or on a host over SSH.

Local: read in large blocks from the last offset (one decode and one split per block, not per line);
a truncated or replaced file is reopened from its start and marked as a gap. Remote: `tail -c +N -F`
through `HostAdapter.follow`, with N = the byte offset reached, so a reconnect resumes exactly where
the dropped stream stopped.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import AsyncIterator
from typing import BinaryIO

from backends.errors import AdapterError
from backends.host import StreamDropped, StreamingHost, StreamLine, StreamResumed
from backends.logs.record import END, GAP, NOTE
from backends.logs.source import Chunk, Item, Mark

BLOCK = 256 * 1024


class FileSource:
    def __init__(
        self,
        path: str,
        *,
        host: StreamingHost | None = None,
        stream: str | None = None,
        from_start: bool = False,
        follow: bool = True,
        poll: float = 0.25,
    ) -> None:
        self.path = path
        self.host = host
        self.stream_name = stream or (f"{host.name}:{path}" if host is not None else f"file:{path}")
        self.name = self.stream_name
        self.from_start = from_start
        self.follow = follow
        self.poll = poll
        self.offset = 0

    def stream(self) -> AsyncIterator[Item]:
        return self._remote() if self.host is not None else self._local()

    # -- this machine -----------------------------------------------------------------------
    async def _local(self) -> AsyncIterator[Item]:
        name = self.stream_name
        fh: BinaryIO | None = None
        inode = None
        partial = b""
        noted_missing = False
        try:
            while True:
                try:
                    st = os.stat(self.path)
                except FileNotFoundError:
                    if fh is not None:
                        fh.close()
                        fh = None
                    if not self.follow:
                        yield Mark(name, END, f"{self.path}: no such file")
                        return
                    if not noted_missing:
                        noted_missing = True
                        yield Mark(name, NOTE, f"waiting for {self.path} to appear")
                    await asyncio.sleep(self.poll)
                    continue
                except OSError as exc:
                    yield Mark(name, END, f"{self.path}: cannot read ({exc.strerror or exc})")
                    return
                if fh is None or st.st_ino != inode or st.st_size < self.offset:
                    if fh is not None:
                        fh.close()
                        yield Mark(
                            name,
                            GAP,
                            f"{self.path} was truncated or replaced; reading the new file from its start",
                        )
                        self.offset, partial = 0, b""
                    elif not self.from_start and inode is None and not noted_missing:
                        self.offset = st.st_size
                    # local reads are page-cache reads of <= 256 KiB: cheaper inline than via a thread
                    fh = open(self.path, "rb")  # noqa: ASYNC230
                    inode = st.st_ino
                    fh.seek(self.offset)
                data = fh.read(BLOCK)
                if data:
                    self.offset += len(data)
                    head, newline, rest = data.rpartition(b"\n")
                    if newline:
                        text = (partial + head).decode("utf-8", "replace")
                        partial = rest
                        if "\r" in text:
                            text = text.replace("\r\n", "\n")
                        yield Chunk(name, text.split("\n"), joined=text)
                    else:
                        partial += rest
                    continue
                if not self.follow:
                    if partial:
                        yield Chunk(name, [partial.decode("utf-8", "replace")])
                    yield Mark(name, END, f"end of {self.path}")
                    return
                await asyncio.sleep(self.poll)
        finally:
            if fh is not None:
                fh.close()

    # -- over SSH ---------------------------------------------------------------------------
    def _command(self) -> str:
        return f"tail -c +{self.offset + 1} -F -- {shlex.quote(self.path)}"

    async def _remote(self) -> AsyncIterator[Item]:
        host = self.host
        assert host is not None
        name = self.stream_name
        if not self.from_start:
            try:
                res = await host.run(f"stat -c %s -- {shlex.quote(self.path)}", raw=True)
                if res.ok and res.stdout.strip().isdigit():
                    self.offset = int(res.stdout.strip())
            except AdapterError:
                pass  # follow() below retries and reports
        try:
            async for event in host.follow(self._command, raw=True):
                if isinstance(event, StreamLine):
                    self.offset += len(event.text.encode("utf-8", "replace")) + 1
                    yield Chunk(name, [event.text])
                elif isinstance(event, StreamDropped):
                    if event.attempt == 1 or event.attempt % 10 == 0:
                        yield Mark(name, NOTE, f"reconnecting: {event.reason}")
                elif isinstance(event, StreamResumed):
                    yield Mark(
                        name,
                        GAP,
                        f"connection lost for {event.down_s:.1f} s; "
                        f"resumed at byte {self.offset} of {self.path}: nothing lost",
                    )
        except AdapterError as err:
            yield Mark(name, END, f"stopped following {self.path}: {err}")
            return
        yield Mark(name, END, f"tail of {self.path} ended")
