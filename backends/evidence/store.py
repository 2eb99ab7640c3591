"""The session's record store: TinyDB records chained by SHA-256, written in batches under a lock.

Two processes may write one session at once (the operator's app and the owner's SSH session), so a
flush takes the inter-process lock, re-reads the file, chains its pending records onto whatever head
it finds there, and writes atomically. Records are queued in memory between flushes: a crash loses
at most the queue (at most `max_pending` records or `flush_interval` seconds of events), never the
file.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tinydb import TinyDB

from backends.errors import GateError
from backends.events import Event
from backends.evidence.chain import GENESIS, ChainReport, link, verify_chain
from backends.evidence.storage import AtomicJSONStorage

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
                db = TinyDB(self.path, storage=AtomicJSONStorage)
                try:
                    table = db.table(TABLE, cache_size=0)
                    existing = table.all()
                    last = max(existing, key=lambda r: r["seq"]) if existing else None
                    seq = last["seq"] if last else 0
                    prev = last["hash"] if last else GENESIS
                    docs = []
                    for ts, kind, payload in batch:
                        seq += 1
                        doc = link(seq, ts, kind, payload, prev)
                        prev = doc["hash"]
                        docs.append(doc)
                    # known as ours before they reach the file, so a reader never takes them as foreign
                    self.own_hashes.update(d["hash"] for d in docs)
                    table.insert_multiple(docs)
                finally:
                    db.close()
        except Timeout as exc:
            self._pending = batch + self._pending  # nothing recorded is lost: retry next flush
            raise StoreError(f"{self.path}: another process holds the evidence lock") from exc
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
        """Every stored record in chain order (pending ones not included)."""
        if not self.path.exists():
            return []
        try:
            db = TinyDB(self.path, storage=AtomicJSONStorage)
        except ValueError as exc:
            raise StoreError(f"{self.path}: not a readable evidence store ({exc})") from exc
        try:
            rows = [dict(r) for r in db.table(TABLE, cache_size=0).all()]
        finally:
            db.close()
        return sorted(rows, key=lambda r: r["seq"])

    def verify(self) -> ChainReport:
        return verify_chain(self.records())

    def head(self) -> str:
        rows = self.records()
        return rows[-1]["hash"] if rows else GENESIS
