"""A gate session on disk: its directory, evidence store, log files, and the state they restore."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import platformdirs

from backends.events import Event, SessionOpened, event_from_record
from backends.evidence.logfiles import LogFiles
from backends.evidence.store import EvidenceStore
from backends.state import GateState

STORE_FILE = "evidence.json"


def default_session_dir() -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return platformdirs.user_data_path("gateroom") / "sessions" / stamp


class Session:
    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = EvidenceStore(self.dir / STORE_FILE, clock=clock)
        self.logs = LogFiles(self.dir)
        self.state = GateState()
        records = self.store.records()
        for record in records:
            event = event_from_record(record["kind"], record["payload"])
            if event is not None:
                self.state.apply(event)
        self.resumed = bool(records)
        self._adopting: Event | None = None

    @property
    def session_id(self) -> str:
        return self.state.session_id

    def open(self, target: str, plan: str) -> SessionOpened:
        """The opening event: a new id for a new session, the old id when resuming."""
        session_id = self.state.session_id or uuid.uuid4().hex[:12]
        return SessionOpened(session_id=session_id, target=target, plan=plan, resumed=self.resumed)

    def record(self, event: Event) -> None:
        """Bus subscriber: state first (so other subscribers see it updated), then the store."""
        if event is self._adopting:
            return  # already in the store, written by another process
        self.state.apply(event)
        self.store.record_event(event)

    def adopt(self, event: Event) -> None:
        """Apply a record another process wrote; the bus publish that follows must not re-record it."""
        self.state.apply(event)
        self._adopting = event

    async def aclose(self) -> None:
        await self.store.aclose()
        self.logs.close()
