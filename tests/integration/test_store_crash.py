"""SIGKILL at random moments while recording never leaves an unreadable or broken store, and never
loses a record whose flush had returned (acknowledged)."""

import os
import random
import select
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backends.evidence.chain import verify_chain
from backends.evidence.store import EvidenceStore
from tests.patience import PATIENCE_S

pytestmark = pytest.mark.heavy  # hundreds of kills: scheduled first

KILLS = int(os.environ.get("KILLS", "220"))
#: stores written and killed side by side
LANES = 4


def _writer(path: Path, batch: int, tag: int, ack_fd: int) -> None:
    """The child: append and flush forever, reporting each acknowledged batch's last hash."""
    store = EvidenceStore(path)
    i = 0
    while True:
        store.append("note", {"writer": tag, "i": i, "text": "x" * 200})
        i += 1
        if i % batch == 0:
            docs = store.flush()
            os.write(ack_fd, docs[-1]["hash"].encode() + b"\n")


def _acks(fd: int) -> list[str]:
    data = b""
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return [h.decode() for h in data.split(b"\n") if len(h) == 64]


@dataclass
class Lane:
    """One store and what its writers acknowledged: the lanes are killed side by side."""

    path: Path
    acknowledged: set[str] = field(default_factory=set)
    previous: int = 0
    torn: int = 0
    kills: int = 0


def _start(lane: Lane, rng: random.Random, tag: int) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            os.close(read_fd)
            _writer(lane.path, rng.randint(1, 20), tag, write_fd)
        finally:
            os._exit(1)
    os.close(write_fd)
    return pid, read_fd


def _check(lane: Lane, label: str) -> None:
    data = lane.path.read_bytes()
    lane.torn += bool(data) and not data.endswith(b"\n")
    records = EvidenceStore(lane.path).records()  # opening drops a torn tail
    report = verify_chain(records)
    assert report.ok, f"{label}: {report.problem}"
    assert report.count >= lane.previous, f"{label}: records were lost"
    lane.previous = report.count
    missing = lane.acknowledged - {r["hash"] for r in records}
    assert not missing, f"{label}: {len(missing)} acknowledged record(s) missing"


def test_kill_many_times_then_reopen_and_verify(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    # the kills wait on fsync and fork more than on the processor: stores side by side overlap them
    lanes = [Lane(tmp_path / f"lane{i}" / "evidence.json") for i in range(LANES)]
    for lane in lanes:
        lane.path.parent.mkdir()
    round_no = 0
    while sum(lane.kills for lane in lanes) < KILLS:
        living = [(lane, *_start(lane, rng, round_no * LANES + i)) for i, lane in enumerate(lanes)]
        # let each get going (its first ack), then kill it somewhere in its next few batches
        for lane, pid, read_fd in living:
            select.select([read_fd], [], [], PATIENCE_S)
            time.sleep(rng.uniform(0, 0.005))
            os.kill(pid, signal.SIGKILL)
            lane.kills += 1
        for lane, pid, read_fd in living:
            os.waitpid(pid, 0)
            lane.acknowledged.update(_acks(read_fd))
            os.close(read_fd)
            _check(lane, f"{lane.path.parent.name} round {round_no}")
        round_no += 1
    kills = sum(lane.kills for lane in lanes)
    acks = sum(len(lane.acknowledged) for lane in lanes)
    assert all(lane.previous > 0 for lane in lanes) and acks >= kills
    for lane in lanes:
        assert EvidenceStore(lane.path).verify().ok
        assert not [p.name for p in lane.path.parent.iterdir() if p.name.endswith((".tmp", ".convert"))]
    torn = sum(lane.torn for lane in lanes)
    records = sum(lane.previous for lane in lanes)
    print(f"{kills} kills in {LANES} stores, {torn} torn tails dropped, {records} records, {acks} acks")
