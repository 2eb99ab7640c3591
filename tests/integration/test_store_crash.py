"""SIGKILL at random moments while recording never leaves an unreadable or broken store."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from backends.evidence.store import EvidenceStore

WRITER = """
import sys, time
from pathlib import Path
from backends.evidence.store import EvidenceStore
store = EvidenceStore(Path(sys.argv[1]), max_pending=int(sys.argv[2]))
i = 0
while True:
    store.append("note", {"writer": sys.argv[3], "i": i, "text": "x" * 200})
    i += 1
    if i % 7 == 0:
        store.flush()
"""


def test_kill_many_times_then_reopen_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    rng = random.Random(20261124)
    previous = 0
    for round_no in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(rng.randint(1, 20)), str(round_no)]
        )
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = EvidenceStore(path)
        report = store.verify()
        assert report.ok, f"round {round_no}: {report.problem}"
        assert report.count >= previous, "records were lost"
        previous = report.count
    assert previous > 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # a kill between write and rename may leave a temp file; it is never the store itself
    assert all(name.startswith(".evidence.json.") for name in leftovers)
