"""The session's record store: TinyDB records chained by SHA-256, appended in batches under a lock.

Two processes may write one session at once (the operator's app and the owner's SSH session), so a
flush takes the inter-process lock, reads only what others appended since its last look, chains its
pending records onto that head and appends them (see `storage`). Records are queued in memory
between flushes: a crash loses at most the queue (at most `max_pending` records or
`flush_interval` seconds of events) and the one batch being written, never an acknowledged record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from backends.errors import GateError
from backends.events import Event
from backends.evidence.chain import GENESIS, ChainReport, link, verify_chain
from backends.evidence.storage import AppendOnlyStorage, EvidenceDB, StoreFormatError, read_all

TABLE = "records"
LOCK_TIMEOUT_S = 10.0


class StoreError(GateError):
    pass


class EvidenceStore:
    def __init__(
        self,
        path: Path,
        *,
        flush_interval: float = 0.25,
        max_pending: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_S)
        self._pending: list[tuple[float, str, dict[str, Any]]] = []
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self._flusher: asyncio.Task[None] | None = None
        #: hashes of the records this process wrote (to tell them from other writers' records)
        self.own_hashes: set[str] = set()
        self._db: EvidenceDB | None = None

    def _table(self):  # type: ignore[no-untyped-def]
        if self._db is None:
            self._db = EvidenceDB(self.path, table=TABLE, lock=lambda: self._lock)
        return self._db.table(TABLE, cache_size=0)

    @property
    def storage(self) -> AppendOnlyStorage:
        self._table()
        assert self._db is not None
        storage: AppendOnlyStorage = self._db.storage  # type: ignore[assignment]
        return storage

    # -- writing ---------------------------------------------------------------------------
    def append(self, kind: str, payload: dict[str, Any], ts: float | None = None) -> None:
        """Queue a record; `ts` defaults to now (a given one replays a recording as it was)."""
        self._pending.append((self.clock() if ts is None else ts, kind, payload))
        if len(self._pending) >= self.max_pending:
            self.flush()

    def record_event(self, event: Event, ts: float | None = None) -> None:
        """Bus subscriber: keep every recorded event."""
        if event.recorded:
            self.append(event.kind, event.to_payload(), ts)

    def flush(self) -> list[dict[str, Any]]:
        """Write pending records; returns them as chained. Safe to call with nothing pending."""
        if not self._pending:
            return []
        batch, self._pending = self._pending, []
        try:
            with self._lock:
                storage = self.storage
                storage.refresh()
                last = storage.last()
                seq = int(last["seq"]) if last else 0
                prev = str(last["hash"]) if last else GENESIS
                docs = []
                for ts, kind, payload in batch:
                    seq += 1
                    doc = link(seq, ts, kind, payload, prev)
                    prev = doc["hash"]
                    docs.append(doc)
                # known as ours before they reach the file, so a reader never takes them as foreign
                self.own_hashes.update(d["hash"] for d in docs)
                self._table().insert_multiple(docs)
        except Timeout as exc:
            self._pending = batch + self._pending  # nothing recorded is lost: retry next flush
            raise StoreError(f"{self.path}: another process holds the evidence lock") from exc
        except StoreFormatError as exc:
            self._pending = batch + self._pending
            raise StoreError(str(exc)) from exc
        except OSError as exc:
            self._pending = batch + self._pending
            raise StoreError(f"{self.path}: cannot write evidence ({exc.strerror or exc})") from exc
        return docs

    async def run_flusher(self) -> None:
        """Flush every `flush_interval` until cancelled; the final flush happens in `close()`."""
        while True:
            await asyncio.sleep(self.flush_interval)
            if self._pending:
                await asyncio.to_thread(self.flush)

    def start(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self.run_flusher())

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await asyncio.to_thread(self.flush)

    def close(self) -> None:
        self.flush()

    # -- reading ---------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """Every stored record in chain order (pending ones not included); reads only the new tail."""
        if not self.path.exists():
            return []
        try:
            table = self._table()
            return [dict(r) for r in table.all()]
        except StoreFormatError as exc:
            raise StoreError(str(exc)) from exc
        except Timeout as exc:
            raise StoreError(f"{self.path}: another process holds the evidence lock") from exc

    def verify(self) -> ChainReport:
        """The chain as it is on disk now (read afresh: an edit behind our back must show)."""
        if not self.path.exists():
            return verify_chain([])
        try:
            self.storage.open()  # converts a legacy store first
            return verify_chain(read_all(self.path))
        except StoreFormatError as exc:
            return ChainReport(False, 0, GENESIS, str(exc))

    def head(self) -> str:
        if not self.path.exists():
            return GENESIS
        try:
            storage = self.storage
            storage.refresh()
        except StoreFormatError as exc:
            raise StoreError(str(exc)) from exc
        last = storage.last()
        return str(last["hash"]) if last else GENESIS
