"""Show point 2 of the security issue: the leak detector finds every secret shape of the corpus in pod
logs, comments, events and ConfigMaps, reports no value, and reports nothing for the look-alikes.
Precision and recall per source are printed (run with -s, or see tests/bench/bench_leak_corpus.py)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.leak_corpus import SOURCES, run_corpus
from tests.unit.redaction_corpus import ALL_SECRETS as SECRETS


async def test_every_secret_found_no_lookalike_no_value(tmp_path: Path) -> None:
    run = await run_corpus(tmp_path)
    for source in SOURCES:
        tally = run.tallies[source]
        figures = f"precision {tally.precision:.3f} recall {tally.recall:.3f}"
        print(f"{source:10} {figures} ({tally.found}/{len(SECRETS)} secrets, {len(tally.false)} false)")
        assert tally.missed == [], (source, tally.missed)
        assert tally.false == [], (source, tally.false)
    values = [value for _kind, _line, value in SECRETS]
    shown = "\n".join(f"{x.source} {x.where} {x.kind} {x.fingerprint}" for x in run.leaks)
    assert not [v for v in values if v in shown]
