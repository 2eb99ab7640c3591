"""The live streams' log files, written in large appends: one gathering write per stream per flush.

The pipeline formats each chunk's lines into one text block as it ingests them (already redacted);
a flush hands a stream's blocks here, and they go to the file in one `writev` of the encoded blocks
through an unbuffered handle, so when `append` returns the lines are in the file for any reader (the
log reader binary-searches these files past the ring). The files live where `LogFiles` keeps the
session's logs (`LogFiles.path_for`), under the pipeline's own handles: nothing per line, no hashing
of bytes no record points at.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from backends.evidence.logfiles import LogFiles

_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16, 1024)


class LogSink:
    def __init__(self, files: LogFiles) -> None:
        self.files = files
        self._handles: dict[str, BinaryIO] = {}

    def append(self, key: str, blocks: list[str]) -> int:
        """Append text blocks (each a run of lines ending in "\\n") to `key`'s file; bytes written."""
        fh = self._handles.get(key)
        if fh is None:
            fh = open(self.files.path_for(key), "ab", buffering=0)
            self._handles[key] = fh
        data = [block.encode("utf-8", "replace") for block in blocks]
        total = sum(map(len, data))
        fd = fh.fileno()
        # one gathering write per group of blocks (no copy into one buffer); a write may take less
        while data:
            group = data[:_IOV_MAX]
            written = os.writev(fd, group)
            size = sum(map(len, group))
            if written == size:
                del data[:_IOV_MAX]
                continue
            if written <= 0:
                raise OSError(f"cannot append to {self.files.path_for(key)}")
            rest = b"".join(group)[written:]
            data[: len(group)] = [rest]
        return total

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()
