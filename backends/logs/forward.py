"""The cluster's port forward over SSH as a log stream: each drop and re-make is a gap mark, so the
logs pane shows the seam where the API was out of reach, as it does for a dropped log stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from backends.logs import record
from backends.logs.source import Item, Mark


class ForwardNotices(Protocol):
    def subscribe_forward(self, listener: object) -> None: ...


class ForwardGapSource:
    def __init__(self, cluster: ForwardNotices, host: str) -> None:
        self.name = f"ssh-forward@{host}"
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        cluster.subscribe_forward(self._queue.put_nowait)

    async def stream(self) -> AsyncIterator[Item]:
        while True:
            yield Mark(self.name, record.GAP, await self._queue.get())
