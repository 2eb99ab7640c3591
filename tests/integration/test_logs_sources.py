"""Log sources over real sockets: the sandbox VPS's journal, a real sshd's files, local files.

The drop tests cut the connection mid-follow and check the three promises: the source reconnects by
itself, the gap is marked, and every line the source still had arrives exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from backends.events import EventBus
from backends.evidence.logfiles import LogFiles
from backends.host import HostAdapter
from backends.logs.files import FileSource
from backends.logs.hub import LogHub
from backends.logs.journal import JournalSource
from backends.logs.record import END, GAP, NOTE, TEXT
from backends.logs.source import Chunk, Item, LogSource, Mark
from backends.redact import Redactor
from backends.sandbox.vps import SandboxVps
from backends.sandbox.vps_journal import UNITS
from tests.conftest import sshd_host, vps_host
from tests.patience import until
from tests.sshd import Sshd


def append(path: Path, text: str) -> None:
    """What a program writing its log does (synchronously, from the test's side)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


class Collector:
    """Runs a source in the background and keeps what it yields."""

    def __init__(self, source: LogSource) -> None:
        self.items: list[Item] = []
        self._task = asyncio.get_running_loop().create_task(self._run(source.stream()))

    async def _run(self, stream: AsyncIterator[Item]) -> None:
        async for item in stream:
            self.items.append(item)

    @property
    def chunks(self) -> list[Chunk]:
        return [i for i in self.items if isinstance(i, Chunk)]

    def marks(self, kind: str) -> list[Mark]:
        return [i for i in self.items if isinstance(i, Mark) and i.kind == kind]

    def lines(self) -> list[str]:
        return [t for c in self.chunks for t in c.texts]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        await until(predicate, "what the source collected")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_journal_drop_reconnects_marks_the_gap_and_loses_nothing(sandbox_vps: SandboxVps) -> None:
    assert sandbox_vps.endpoint is not None
    journal = sandbox_vps.journal
    journal.rate = 200.0  # entries a second, so the drop happens mid-stream
    units = list(UNITS)
    async with HostAdapter(vps_host(sandbox_vps.endpoint)) as host:
        source = JournalSource(host, units, backlog=0)
        got = Collector(source)
        await got.wait_for(lambda: len(got.chunks) >= 40)
        before = len(got.chunks)
        sandbox_vps.drop_connections()  # the server cuts every SSH connection mid-follow
        await asyncio.sleep(0.3)  # the journal keeps writing while the gate is disconnected
        await got.wait_for(lambda: bool(got.marks(GAP)) and len(got.chunks) >= before + 100)
        await got.stop()
    # the gap is marked once per unit stream, after a note that the connection went
    assert {m.stream for m in got.marks(GAP)} == set(source.streams)
    assert {m.stream for m in got.marks(NOTE)} == set(source.streams)
    # every entry the journal holds between the first and the last one received arrived exactly once
    seen = [(c.ts[0] if isinstance(c.ts, list) else float(c.ts or 0), "\n".join(c.texts)) for c in got.chunks]
    first, last = seen[0][0], seen[-1][0]
    expected = [
        (e.micros / 1_000_000, e.message) for e in journal.entries if first <= e.micros / 1_000_000 <= last
    ]
    assert len(seen) == len(expected) > before
    assert [m for _, m in seen] == [m for _, m in expected]
    assert len(set(seen)) == len(seen)


async def test_journal_lines_are_redacted_and_the_gap_is_in_the_files(
    sandbox_vps: SandboxVps, tmp_path: Path
) -> None:
    assert sandbox_vps.endpoint is not None
    journal = sandbox_vps.journal
    journal.rate = 50.0
    token = "ghp_" + "Zq8Lm2Np4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi"
    hub = LogHub(LogFiles(tmp_path), Redactor(), EventBus(), flush_interval=0.05)
    async with HostAdapter(vps_host(sandbox_vps.endpoint)) as host:
        source = JournalSource(host, ["k3s"], backlog=5)
        hub.start([source])
        await until(lambda: len(hub.ring) > 0, "the journal's first lines")
        journal.emit(
            "k3s.service",
            f'time="2026-11-24T06:00:00Z" level=info msg="GitHub call" header="Authorization: token {token}"',
        )
        sandbox_vps.drop_connections()
        stream = source.streams[0]
        await until(lambda: stream in hub.streams and hub.streams[stream].gaps > 0, "the gap after the drop")
        await until(lambda: any("Authorization: token" in r[TEXT] for r in hub.ring), "the token's line")
        await hub.aclose()
    texts = [r[TEXT] for r in hub.ring]
    assert any("[REDACTED:" in t and "Authorization: token" in t for t in texts)
    assert not any(token in t for t in texts)
    on_disk = hub.files.path_for(hub.streams[stream].file).read_text()
    assert token not in on_disk and f":{GAP} connection lost" in on_disk


async def test_journal_source_ends_when_the_key_is_missing(sandbox_vps: SandboxVps, tmp_path: Path) -> None:
    assert sandbox_vps.endpoint is not None
    host = HostAdapter(vps_host(sandbox_vps.endpoint, key=tmp_path / "no-such-key"))
    items = [item async for item in JournalSource(host, ["k3s"]).stream()]
    assert len(items) == 1 and isinstance(items[0], Mark) and items[0].kind == END
    assert "key file" in items[0].message


async def test_remote_file_follow_resumes_at_the_byte_after_a_drop(sshd: Sshd, tmp_path: Path) -> None:
    path = tmp_path / "worker.log"
    path.write_text("old line before the gate\n")
    async with HostAdapter(sshd_host(sshd)) as host:
        source = FileSource(str(path), host=host)
        got = Collector(source)
        await until(lambda: source.offset > 0, "the follow past the old line")  # stat said where to start
        append(path, "".join(f"line {i}\n" for i in range(20)))
        await got.wait_for(lambda: len(got.lines()) >= 20)
        assert host._conn is not None
        host._conn.abort()  # the connection dies under the stream
        append(path, "".join(f"line {i}\n" for i in range(20, 40)))
        await got.wait_for(lambda: len(got.lines()) >= 40 and bool(got.marks(GAP)))
        await got.stop()
    assert got.lines() == [f"line {i}" for i in range(40)]
    assert "resumed at byte" in got.marks(GAP)[0].message


async def test_local_file_follow_marks_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("before\n")
    source = FileSource(str(path), poll=0.02)
    got = Collector(source)
    await until(lambda: source.offset > 0, "the follow at the file's end")
    append(path, "one\ntwo\npart")
    await got.wait_for(lambda: got.lines() == ["one", "two"])
    append(path, "ial\n")
    await got.wait_for(lambda: got.lines() == ["one", "two", "partial"])
    path.write_text("fresh\n")  # truncated and rewritten (logrotate copytruncate)
    await got.wait_for(lambda: got.lines()[-1:] == ["fresh"])
    await got.stop()
    assert len(got.marks(GAP)) == 1
