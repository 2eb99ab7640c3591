"""Timeline cost on a long gate: how long the screen's once-a-second read takes as evidence grows.

Run: `python tests/bench/bench_timeline.py [--hours 1,4,8] [--scenarios 40]`. Each size writes a
session store the way the gate does: `--scenarios` scenarios six at a time, each a few actions and
waits on runs whose progress is recorded every 5 s (the runner's PROGRESS_EVERY_S), so a gate of
N hours holds about scenarios x hours x 720 / 6 progress records. Prints, per size: the records;
what a bundle export pays once (`store.records()` then `build_timeline`); what the timeline screen
pays on opening (`TimelineReader.read`, the whole file) and on each refresh after a minute of the
gate (the records appended since, folded onto what it already knew; the target: flat in the size).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends.events import ScenarioFinished, ScenarioStepChanged  # noqa: E402
from backends.evidence.store import EvidenceStore  # noqa: E402
from backends.session import STORE_FILE, Session  # noqa: E402
from backends.timeline.build import build_timeline  # noqa: E402
from backends.timeline.read import TimelineReader  # noqa: E402

T0 = 1_795_500_000.0
PROGRESS_S = 5.0
POOL = 6


def write_gate(path: Path, hours: float, scenarios: int) -> int:
    store = EvidenceStore(path / STORE_FILE, max_pending=5000)
    slot_s = hours * 3600 / (scenarios / POOL)
    count = 0
    for n in range(scenarios):
        sid = f"S{n}"
        t = T0 + (n // POOL) * slot_s
        steps = [("create_issue repo=platform", 2.0), ("add_label label=run:dev", 1.0)]
        steps += [("expect_run trigger_kind=dev phase=finished", (slot_s - 4) / 2)] * 2
        for index, (description, seconds) in enumerate(steps):
            detail = {"attempt": 1, "repo": "o/r", "issue": n + 1, "runs": {}, "leases": {}}
            store.append(ScenarioStepChanged.kind, _step(sid, index, "RUNNING", description, detail), ts=t)
            count += 1
            waited = 0.0
            while description.startswith("expect_") and waited + PROGRESS_S < seconds:
                waited += PROGRESS_S
                store.append(
                    ScenarioStepChanged.kind, _step(sid, index, "RUNNING", description, detail), ts=t + waited
                )
                count += 1
            t += seconds
            done = {
                **detail,
                "run_id": f"r-{n}-{index}",
                "trigger_kind": "dev",
                "phases": ["created", "finished"],
            }
            done["phase_at"] = {"created": t - seconds / 2, "finished": t}
            store.append(ScenarioStepChanged.kind, _step(sid, index, "PASS", description, done), ts=t)
            count += 1
        store.append(ScenarioFinished.kind, ScenarioFinished(sid, "PASS").to_payload(), ts=t)
        count += 1
    store.flush()
    return count


def _step(
    sid: str, index: int, status: str, description: str, detail: dict[str, object]
) -> dict[str, object]:
    return ScenarioStepChanged(
        sid, index, status, description, "", "", detail, "P0", f"{sid} title"
    ).to_payload()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", default="1,4,8")
    parser.add_argument("--scenarios", type=int, default=40)
    args = parser.parse_args()
    print(f"uptime load: {os.getloadavg()[0]:.2f}")
    print(f"{'hours':>5} {'records':>8} {'read ms':>8} {'fold ms':>8} {'open ms':>8} {'refresh ms':>10}")
    for hours in (float(h) for h in args.hours.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            count = write_gate(Path(tmp), hours, args.scenarios)
            store = EvidenceStore(Path(tmp) / STORE_FILE)
            started = time.perf_counter()
            records = store.records()
            read = time.perf_counter() - started
            started = time.perf_counter()
            build_timeline(records)
            fold = time.perf_counter() - started
            assert len(records) == count
            reader = TimelineReader(Session(Path(tmp)))
            started = time.perf_counter()
            reader.read()
            opened = time.perf_counter() - started
            # a minute more of the gate: every scenario of the wave reports its progress 12 times
            minute = EvidenceStore(Path(tmp) / STORE_FILE)
            last = float(records[-1]["ts"])
            for k in range(12 * POOL):
                step = _step(f"S{k % POOL}", 2, "RUNNING", "expect_run trigger_kind=dev", {"attempt": 1})
                minute.append(ScenarioStepChanged.kind, step, ts=last + 5 * (k // POOL + 1))
            minute.flush()
            started = time.perf_counter()
            reader.read()
            refresh = time.perf_counter() - started
            print(
                f"{hours:>5g} {count:>8} {read * 1000:>8.0f} {fold * 1000:>8.0f} "
                f"{opened * 1000:>8.0f} {refresh * 1000:>10.1f}"
            )


if __name__ == "__main__":
    main()
