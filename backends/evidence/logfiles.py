"""Append-only, already-redacted log files beside the record store.

Bulk text (pod logs, journal lines, command output) lives here, not in TinyDB; a record points at a
stretch of a file by byte offsets and the SHA-256 of those bytes, so the chain covers it too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class LogRef:
    file: str  # relative to the session dir
    start: int
    end: int
    sha256: str

    def to_payload(self) -> dict[str, object]:
        return {"file": self.file, "start": self.start, "end": self.end, "sha256": self.sha256}


def _safe_name(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_") or "log"


class LogFiles:
    def __init__(self, session_dir: Path) -> None:
        self.session_dir = Path(session_dir)
        self.dir = self.session_dir / "logs"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._handles: dict[str, IO[bytes]] = {}

    def path_for(self, source: str) -> Path:
        return self.dir / f"{_safe_name(source)}.log"

    def append(self, source: str, lines: list[str] | tuple[str, ...]) -> LogRef:
        """Append lines (must already be redacted) and return where they landed."""
        fh = self._handles.get(source)
        if fh is None:
            fh = open(self.path_for(source), "ab")
            self._handles[source] = fh
        data = "".join(line.rstrip("\n") + "\n" for line in lines).encode("utf-8", "replace")
        start = fh.tell()
        fh.write(data)
        fh.flush()
        rel = str(self.path_for(source).relative_to(self.session_dir))
        return LogRef(rel, start, start + len(data), hashlib.sha256(data).hexdigest())

    def read(self, ref: LogRef) -> bytes:
        with open(self.session_dir / ref.file, "rb") as fh:
            fh.seek(ref.start)
            return fh.read(ref.end - ref.start)

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()
        self._handles.clear()
