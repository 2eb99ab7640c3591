"""Records another process wrote into this session (the owner's decision over SSH, a served
terminal's logins): read back, applied to the state and published, so the operator's screen shows
them as they happen and not only after a restart."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from backends.events import EventBus, event_from_record
from backends.evidence.storage import LineTail
from backends.session import Session

POLL_INTERVAL_S = 0.5


class StorePoller:
    """Follows a session's store file from a byte offset: each poll reads only what was appended
    since the last one (a `stat` when nothing was)."""

    def __init__(self, session: Session, bus: EventBus, interval: float = POLL_INTERVAL_S) -> None:
        self.session = session
        self.bus = bus
        self.interval = interval
        self.tail = LineTail(session.store.path)
        self._task: asyncio.Task[None] | None = None

    def read_new(self) -> list[dict[str, Any]]:
        """Records appended since the last call (blocking)."""
        self.session.store.storage.open()  # a legacy store is converted before it is followed
        return self.tail.read()

    async def poll(self) -> object:
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with contextlib.suppress(Exception):  # a store mid-rename: read it on the next tick
                await self.poll()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ForeignRecords(StorePoller):
    def __init__(self, session: Session, bus: EventBus, interval: float = POLL_INTERVAL_S) -> None:
        super().__init__(session, bus, interval)
        self.read_new()  # what is on disk now is already in the session's state

    def _read(self) -> list[dict[str, Any]]:
        own = self.session.store.own_hashes
        return [r for r in self.read_new() if r["hash"] not in own]

    async def poll(self) -> int:
        """Adopt what others wrote since the last poll; returns how many records that was."""
        foreign = await asyncio.to_thread(self._read)
        for record in foreign:
            event = event_from_record(str(record["kind"]), dict(record["payload"]))  # type: ignore[call-overload]
            if event is not None:
                self.session.adopt(event)
                self.bus.publish(event)
        return len(foreign)
