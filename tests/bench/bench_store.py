"""Store cost at scale: 1k, 10k and 100k records written in batches of 20 (each batch one flush).

Run: `python tests/bench/bench_store.py [--sizes 1000,10000,100000] [--batch 20]`. Each size writes a
fresh session store the way the gate does (append, flush under the lock, fsync), with payloads the
size of a typical check result. Prints, per size: total time, the cost per record, the file size
and bytes per record; then the ratio of the per-record cost at the largest size to the smallest
(the target is within 1.5x: a flush costs the same however long the session already is) and the
bytes-per-record spread (the file grows linearly). Also times a follower reading only the tail after
the last batch, and a full cold read of the largest store.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends.evidence.storage import LineTail  # noqa: E402
from backends.evidence.store import EvidenceStore  # noqa: E402

RATIO_TARGET = 1.5


def payload(i: int) -> dict[str, object]:
    return {
        "result": {
            "check_id": f"host.check-{i % 40}",
            "target": "prod-vps",
            "status": "PASS",
            "observed": f"observed value {i}",
            "expected": "the expected value for this check",
            "reason": "",
            "area": "host",
        },
        "duration_s": 0.012,
    }


def run(path: Path, n: int, batch: int) -> tuple[float, int, float]:
    store = EvidenceStore(path, max_pending=batch + 1)
    follower = LineTail(path)
    started = time.perf_counter()
    for i in range(n):
        store.append("check.finished", payload(i))
        if (i + 1) % batch == 0:
            store.flush()
    store.flush()
    took = time.perf_counter() - started
    follower.offset = path.stat().st_size  # a follower that has already read everything before
    follower.lines = n + 1  # (its header and every record so far): only the tail is new to it
    before_tail = path.stat().st_size
    store.append("check.finished", payload(n))
    store.flush()
    t = time.perf_counter()
    fresh = follower.read()
    tail_s = time.perf_counter() - t
    assert len(fresh) == 1, len(fresh)
    assert path.stat().st_size > before_tail
    return took, path.stat().st_size, tail_s


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    per_record: dict[int, float] = {}
    per_byte: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"{n}" / "evidence.json"
            took, size, tail_s = run(path, n, args.batch)
            per_record[n] = took / n
            per_byte[n] = size / (n + 1)
            print(
                f"{n:>7} records in batches of {args.batch}: {took:8.2f} s total, "
                f"{per_record[n] * 1e6:8.1f} us/record, file {size / 1e6:8.2f} MB "
                f"({per_byte[n]:.0f} B/record), follower tail read {tail_s * 1e3:.2f} ms"
            )
        largest = max(sizes)
        t = time.perf_counter()
        count = len(EvidenceStore(Path(tmp) / f"{largest}" / "evidence.json").records())
        print(f"cold read of the {count}-record store: {time.perf_counter() - t:.2f} s")
    lo, hi = min(sizes), max(sizes)
    ratio = per_record[hi] / per_record[lo]
    spread = max(per_byte.values()) / min(per_byte.values())
    print(f"per-record cost {hi} vs {lo}: ratio {ratio:.2f} (target <= {RATIO_TARGET})")
    print(f"bytes per record, largest/smallest: {spread:.3f} (linear file size: ~1.0)")
    return 0 if ratio <= RATIO_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
