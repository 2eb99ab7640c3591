"""Precision and recall of the leak detector over the secret corpus and its look-alikes, per source
(pod logs, GitHub comments, Kubernetes events, ConfigMaps), through the real adapters over HTTP. The
corpus is the widened one (tests/unit/redaction_corpus.py: what Go services, controllers, kaniko,
git, curl and the codex CLI print, and every value the gate knows in each of those shapes).
GATEROOM_REDACTION=python runs it on the pure-Python engine.

Run: python3 tests/bench/bench_leak_corpus.py (or python3 -m tests.bench.bench_leak_corpus)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backends.redact import engine_report
from tests.integration.leak_corpus import SOURCES, run_corpus
from tests.unit.redaction_corpus import ALL_LOOKALIKES as LOOKALIKES
from tests.unit.redaction_corpus import ALL_SECRETS as SECRETS


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = asyncio.run(run_corpus(Path(tmp)))
    print(f"corpus: {len(SECRETS)} secrets, {len(LOOKALIKES)} look-alikes, planted in each source")
    print(f"redaction engine: {engine_report()}")
    print(f"{'source':10} {'found':>6} {'missed':>6} {'false':>6} {'precision':>9} {'recall':>7}")
    found = missed = false = 0
    for source in SOURCES:
        t = run.tallies[source]
        found, missed, false = found + t.found, missed + len(t.missed), false + len(t.false)
        print(
            f"{source:10} {t.found:6} {len(t.missed):6} {len(t.false):6} {t.precision:9.3f} {t.recall:7.3f}"
        )
    precision = found / (found + false) if found + false else 1.0
    recall = found / (found + missed) if found + missed else 1.0
    print(f"{'all':10} {found:6} {missed:6} {false:6} {precision:9.3f} {recall:7.3f}")
    values = [value for _kind, _line, value in SECRETS]
    reported = " ".join(f"{x.where} {x.kind} {x.fingerprint}" for x in run.leaks)
    print(f"values in the findings: {sum(v in reported for v in values)}")


if __name__ == "__main__":
    main()
