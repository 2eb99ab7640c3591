"""The evidence file: JSON lines that are only ever appended to, under TinyDB as the query layer.

TinyDB's own storage rewrites the whole file on every write, which makes a long session quadratic.
Here a flush appends its new records as lines (one `write`, then `fsync`) and a record is
acknowledged only after that; so a kill can leave at most one torn line at the end, never a
damaged earlier one. A torn line has no newline yet: readers never take it as a record, and the
next opener that holds the lock cuts it off (it was never acknowledged).

The first line names the format. A file that starts with TinyDB's own JSON document is a session
from before this format; it is converted once, atomically (temp file, fsync, rename), on open.

Readers keep a byte offset and parse only what was appended since (`LineTail`); the storage itself
keeps the table in memory and refreshes it from its offset, so a query costs nothing on disk but the
tail.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

FORMAT = "gateroom-evidence/jsonl-1"
NEWLINE = b"\n"
READ_CHUNK = 1 << 20


class StoreFormatError(ValueError):
    """The file holds something that is not evidence in either format (one line: where and what)."""


class AppendOnlyError(RuntimeError):
    """Something tried to change or remove a record that is already written."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + NEWLINE


def header(table: str) -> bytes:
    return _dumps({"format": FORMAT, "table": table})


def _parse_line(path: Path, lineno: int, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        reason = exc.args[0] if exc.args else exc
        raise StoreFormatError(f"{path} line {lineno}: not a JSON record ({reason})") from exc


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_legacy(path: Path) -> bool:
    """True for a store TinyDB's JSONStorage wrote: one JSON object, not our header line."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(64).lstrip()
    except FileNotFoundError:
        return False
    return start.startswith(b"{") and not start.startswith(b'{"format":')


def convert_legacy(path: Path, table: str) -> int:
    """Rewrite a TinyDB JSON store as JSON lines in place (atomic); returns the records kept.

    The caller holds the inter-process lock. Records keep their order by document id, which is the
    order they were inserted in, so the chain reads exactly as before.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise StoreFormatError(f"{path}: neither JSON lines nor a TinyDB document ({exc})") from exc
    if not isinstance(data, dict):
        raise StoreFormatError(f"{path}: neither JSON lines nor a TinyDB document")
    rows = data.get(table) or {}
    try:
        ordered = [rows[k] for k in sorted(rows, key=int)]
    except (TypeError, ValueError) as exc:
        raise StoreFormatError(f"{path}: a TinyDB document with unexpected ids ({exc})") from exc
    tmp = path.with_name(f".{path.name}.{os.getpid()}.convert")
    with open(tmp, "wb") as fh:
        fh.write(header(table) + b"".join(_dumps(doc) for doc in ordered))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return len(ordered)


class LineTail:
    """Reads a JSON-lines evidence file from a byte offset: only complete lines, only new ones.

    A line without its newline is either being written right now or torn by a crash; either way
    it is not a record yet, so the offset stays before it. If the file is replaced (a conversion),
    reading starts again from the beginning and the lines already delivered are skipped by count; a
    file shorter than what was already read lost records, which is an error, never a fresh start.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.lines = 0  # complete lines consumed, the header included
        self.table = ""
        self._ident: tuple[int, int] | None = None
        self._skip = 0

    def _reset(self) -> None:
        self._skip, self.offset, self.lines, self.table = self.lines, 0, 0, ""

    def read(self) -> list[Any]:
        """Documents appended since the last call (not the header)."""
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return []
        with fh:
            st = os.fstat(fh.fileno())
            ident = (st.st_dev, st.st_ino)
            if self._ident is not None and st.st_size < self.offset and ident == self._ident:
                raise StoreFormatError(
                    f"{self.path}: shrank from {self.offset} to {st.st_size} bytes; records were removed"
                )
            if self._ident is not None and ident != self._ident:
                self._reset()
            self._ident = ident
            if st.st_size == self.offset:
                return []
            fh.seek(self.offset)
            data = fh.read(st.st_size - self.offset)
        end = data.rfind(NEWLINE) + 1
        if end == 0:
            return []
        docs: list[Any] = []
        pos = 0
        while pos < end:
            nl = data.index(NEWLINE, pos)
            raw = data[pos:nl]
            pos = nl + 1
            self.lines += 1
            if self.lines == 1:
                self.table = self._header(raw)
                continue
            doc = _parse_line(self.path, self.lines, raw)
            if self._skip >= self.lines:
                continue
            if not isinstance(doc, dict):
                raise StoreFormatError(f"{self.path} line {self.lines}: not a record")
            docs.append(doc)
        self.offset += end
        return docs

    def _header(self, raw: bytes) -> str:
        head = _parse_line(self.path, 1, raw)
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise StoreFormatError(f"{self.path} line 1: not a {FORMAT} header")
        return str(head.get("table", ""))

    def torn_bytes(self) -> int:
        """How many bytes past the last complete line the file holds now."""
        try:
            return max(os.stat(self.path).st_size - self.offset, 0)
        except FileNotFoundError:
            return 0


def read_all(path: Path) -> list[dict[str, Any]]:
    """Every record on disk now, parsed afresh (for verification, which must not trust a cache)."""
    return LineTail(path).read()


LockFactory = Callable[[], AbstractContextManager[Any]]


class AppendOnlyStorage(Storage):
    """A TinyDB storage over one table kept as JSON lines; writes append, they never rewrite.

    `lock` is the inter-process lock every writer holds while appending; the storage takes it
    itself only to convert a legacy file or to cut off a torn last line. Without one it repairs
    nothing (a torn line is merely not read) and refuses a legacy file.
    """

    def __init__(self, path: str | Path, table: str = "records", lock: LockFactory | None = None) -> None:
        self.path = Path(path)
        self.table = table
        self._lock = lock
        self._mutex = threading.RLock()  # the app's flusher thread and a reader thread share us
        self._tail = LineTail(self.path)
        self._docs: dict[str, Mapping[str, Any]] = {}
        self._opened = False

    # -- opening ------------------------------------------------------------------------------
    def open(self) -> None:
        """Convert a legacy file and cut a torn last line, once; reading does this by itself."""
        self._open()

    def _open(self) -> None:
        # the inter-process lock before the mutex, in the order a flush takes them: a reader thread
        # opening while the flusher thread holds the lock must wait, not deadlock
        if self._opened:
            return
        if self._lock is None:
            if is_legacy(self.path):
                raise StoreFormatError(f"{self.path}: a store in the old format; open it as a session first")
        elif is_legacy(self.path) or self._torn_on_disk():
            with self._lock(), self._mutex:
                if not self._opened:
                    if is_legacy(self.path):
                        convert_legacy(self.path, self.table)
                    self._drop_torn_tail()
        self._opened = True

    def _torn_on_disk(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return False
                fh.seek(size - 1)
                return fh.read(1) != NEWLINE
        except FileNotFoundError:
            return False

    def _drop_torn_tail(self) -> None:
        """Cut bytes after the last newline; the caller holds the lock, so no writer is mid-line."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            keep = size
            while keep > 0:
                step = min(READ_CHUNK, keep)
                os.lseek(fd, keep - step, os.SEEK_SET)
                block = os.read(fd, step)
                nl = block.rfind(NEWLINE)
                if nl >= 0:
                    keep = keep - step + nl + 1
                    break
                keep -= step
            if keep != size:
                os.ftruncate(fd, keep)
                os.fsync(fd)
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Take in what other processes appended; returns how many documents that was."""
        self._open()
        with self._mutex:
            new = self._tail.read()
            if self._tail.table and self._tail.table != self.table:
                raise StoreFormatError(f"{self.path}: holds table {self._tail.table!r}, not {self.table!r}")
            n = len(self._docs)
            for i, doc in enumerate(new, start=n + 1):
                self._docs[str(i)] = doc
            return len(new)

    def read(self) -> dict[str, dict[str, Any]] | None:
        with self._mutex:
            self.refresh()
            return {self.table: self._docs} if self._docs else None  # type: ignore[dict-item]

    def last(self) -> Mapping[str, Any] | None:
        with self._mutex:
            if not self._docs:
                return None
            return self._docs[str(len(self._docs))]

    def __len__(self) -> int:
        return len(self._docs)

    # -- writing ------------------------------------------------------------------------------
    def append(self, docs: Iterable[Mapping[str, Any]]) -> list[int]:
        """Append documents as lines and fsync; the caller holds the inter-process lock.

        Returns their document ids. Nothing is acknowledged before the fsync returns.
        """
        with self._mutex:
            self.refresh()
            if self._tail.torn_bytes():
                # under the lock nobody else is mid-line: this is a torn line from a crash
                self._drop_torn_tail()
            docs = [dict(d) for d in docs]
            payload = b"".join(_dumps(d) for d in docs)
            if self._tail.lines == 0:
                payload = header(self.table) + payload
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.path.parent)
            n = len(self._docs)
            self.refresh()
            if len(self._docs) < n + len(docs):
                raise OSError(f"{self.path}: appended records did not read back")
            return list(range(n + 1, n + len(docs) + 1))

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """TinyDB's generic write path: accepted only when it adds documents at the end."""
        with self._mutex:
            table = data.get(self.table, {})
            ours = self._docs
            if len(table) < len(ours) or any(table.get(k) is not v for k, v in ours.items()):
                raise AppendOnlyError(f"{self.path}: evidence is append-only; a record cannot change")
            fresh = [doc for k, doc in table.items() if k not in ours]
            if fresh:
                self.append(fresh)

    def close(self) -> None:
        pass


class AppendOnlyTable(Table):
    """A TinyDB table whose inserts append through the storage; updates and removals are refused."""

    _storage: AppendOnlyStorage

    def insert(self, document: Mapping[str, Any]) -> int:
        return self.insert_multiple([document])[0]

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        ids = self._storage.append(documents)
        self.clear_cache()
        self._next_id = None
        return ids

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{self._storage.path}: evidence is append-only; a record cannot change")

    update = update_multiple = upsert = remove = truncate = _refuse  # type: ignore[assignment]


class EvidenceDB(TinyDB):
    table_class = AppendOnlyTable
    default_storage_class = AppendOnlyStorage  # type: ignore[assignment]
