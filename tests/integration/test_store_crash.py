"""SIGKILL at random moments while recording never leaves an unreadable or broken store, and never
loses a record whose flush had returned (acknowledged)."""

import os
import random
import select
import signal
import time
from pathlib import Path

from backends.evidence.chain import verify_chain
from backends.evidence.store import EvidenceStore

KILLS = int(os.environ.get("KILLS", "220"))


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


def test_kill_many_times_then_reopen_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    rng = random.Random(20261124)
    acknowledged: set[str] = set()
    previous = torn = 0
    for round_no in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                os.close(read_fd)
                _writer(path, rng.randint(1, 20), round_no, write_fd)
            finally:
                os._exit(1)
        os.close(write_fd)
        # let it get going (the first ack), then kill it somewhere in its next few batches
        select.select([read_fd], [], [], 5.0)
        time.sleep(rng.uniform(0, 0.005))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acknowledged.update(_acks(read_fd))
        os.close(read_fd)
        data = path.read_bytes()
        torn += bool(data) and not data.endswith(b"\n")

        records = EvidenceStore(path).records()  # opening drops a torn tail
        report = verify_chain(records)
        assert report.ok, f"round {round_no}: {report.problem}"
        assert report.count >= previous, "records were lost"
        previous = report.count
        hashes = {r["hash"] for r in records}
        missing = acknowledged - hashes
        assert not missing, f"round {round_no}: {len(missing)} acknowledged record(s) missing"
    assert previous > 0 and len(acknowledged) >= KILLS
    assert EvidenceStore(path).verify().ok
    print(f"{KILLS} kills, {torn} torn tails dropped, {previous} records, {len(acknowledged)} acks checked")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".convert"))]
