"""The server's audit trail: every login (and every refused key) goes into the session's evidence.

The server process writes through its own store, under the same inter-process lock as the
operator's app, so neither loses the other's records.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from backends.events import ActionRecorded, Event, LoginRecorded
from backends.evidence.store import EvidenceStore
from backends.serve.keys import Grant
from backends.session import STORE_FILE


class Audit:
    def __init__(self, session_dir: Path) -> None:
        self.store = EvidenceStore(Path(session_dir) / STORE_FILE)

    async def _write(self, event: Event) -> None:
        self.store.record_event(event)
        await asyncio.to_thread(self.store.flush)

    async def login(self, grant: Grant, peer: str) -> None:
        await self._write(LoginRecorded(grant.fingerprint, grant.role, True, grant.comment, peer))

    async def refused(self, fingerprints: list[str], peer: str, note: str) -> None:
        first = fingerprints[0] if fingerprints else ""
        more = f"; also offered {', '.join(fingerprints[1:])}" if len(fingerprints) > 1 else ""
        await self._write(LoginRecorded(first, "", False, "", peer, note + more))

    async def logout(self, grant: Grant, seconds: float) -> None:
        event = ActionRecorded(grant.fingerprint, grant.role, "logout", True, f"after {seconds:.0f}s")
        await self._write(event)
