"""The operator's running gate picks up what another process writes into its session (the owner's
decision over SSH) while it runs: applied to the state, shown, and never recorded twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backends.events import DecisionRecorded, Event
from backends.evidence.store import EvidenceStore
from backends.gate import open_gate
from backends.session import STORE_FILE
from tests.ui.support import fixed_settings


async def test_owner_decision_written_elsewhere_reaches_the_running_gate(tmp_path: Path) -> None:
    gate = await open_gate(fixed_settings(), tmp_path)
    seen: list[Event] = []
    gate.bus.subscribe(seen.append)
    try:
        await asyncio.to_thread(gate.session.store.flush)
        other = EvidenceStore(tmp_path / STORE_FILE)  # the serving process, same file
        decision = DecisionRecorded(
            "GO", "owner:SHA256:abc", "ship it", gate.session.store.head(), role="owner"
        )
        other.record_event(decision)
        await asyncio.to_thread(other.flush)

        assert gate.foreign is not None
        for _ in range(40):
            if gate.session.state.decisions:
                break
            await asyncio.sleep(0.1)
        assert [d.decision for d in gate.session.state.decisions] == ["GO"]
        assert any(isinstance(e, DecisionRecorded) for e in seen), "the screen hears of it"
    finally:
        await gate.aclose()
    records = EvidenceStore(tmp_path / STORE_FILE).records()
    assert [r["kind"] for r in records].count("decision") == 1
    assert EvidenceStore(tmp_path / STORE_FILE).verify().ok
