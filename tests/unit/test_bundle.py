"""Bundle content and decision binding: deterministic digests, staleness, the demo gate's report."""

from __future__ import annotations

from pathlib import Path

from backends.bundle.content import REPORT
from backends.bundle.export import bundle_files
from backends.bundle.manifest import MANIFEST, bundle_digest
from backends.bundle.scan import scan
from backends.decision import Actor, DecisionError, decision_status, digest_at, prepare
from backends.events import LoginRecorded, ScenarioFinished, ScenarioStepChanged
from backends.gate import open_demo_gate
from backends.session import Session
from tests.unit.bundle_support import make_session

OWNER = Actor("SHA256:owner", "owner")


def test_the_same_evidence_gives_the_same_digest(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    make_session(a)
    make_session(b)
    files_a, files_b = bundle_files(a), bundle_files(b)
    assert files_a == files_b
    del files_a[MANIFEST]
    records = Session(a).store.records()
    assert bundle_digest(files_a) == digest_at(a, records)


def test_a_decision_is_final_until_the_evidence_moves_on(tmp_path: Path) -> None:
    make_session(tmp_path)
    session = Session(tmp_path)
    session.store.record_event(prepare(session, OWNER, "GO", "ok"))
    session.store.flush()
    assert decision_status(session.store.records()).final
    try:
        prepare(session, OWNER, "NO-GO")
        raise AssertionError("a second decision on the same evidence was accepted")
    except DecisionError as exc:
        assert "already recorded" in str(exc)
    session.store.record_event(LoginRecorded("SHA256:viewer", "viewer", True))  # who looked: not evidence
    session.store.flush()
    assert decision_status(session.store.records()).final
    session.store.record_event(ScenarioFinished("C3", "FAIL", "P0"))
    session.store.flush()
    status = decision_status(session.store.records())
    assert status.stale and not status.final
    assert prepare(session, OWNER, "NO-GO", "C3 failed").chain_head == session.store.head()


def test_a_viewer_cannot_decide(tmp_path: Path) -> None:
    make_session(tmp_path)
    try:
        prepare(Session(tmp_path), Actor("SHA256:v", "viewer"), "GO")
        raise AssertionError("a viewer decided")
    except DecisionError as exc:
        assert "viewer cannot" in str(exc)


async def test_demo_gate_report_reads_well_and_holds_no_secret(tmp_path: Path) -> None:
    gate = await open_demo_gate(tmp_path / "demo")
    secrets = [v for v in gate.world.secret_values.values() if v] if gate.world else []
    try:
        await gate.engine.run()
    finally:
        await gate.aclose()
    assert secrets
    files = bundle_files(tmp_path / "demo")
    report = files[REPORT].decode()
    for heading in (
        "# Gate Room report",
        "## Summary",
        "**Recommendation:",
        "## Scenario matrix",
        "## Preflight",
        "## Security",
        "## Deviations",
        "## Decision",
        "## Evidence",
        "gateroom verify",
    ):
        assert heading in report, heading
    assert "| Preflight |" in report and "| host.cpu | sandbox-vps | PASS |" in report
    for name, data in files.items():
        text = data.decode("utf-8", "replace")
        assert not [s for s in secrets if s in text], name
    assert scan(files, secrets) == []


def test_a_manual_scenario_still_waiting_reads_right_in_the_report(tmp_path: Path) -> None:
    """Only step events exist for a checklist the operator has not answered yet: the report takes
    the scenario's priority and title from them and counts it as open, not as passed."""
    store = make_session(tmp_path)
    for index, item in enumerate(("edge stays thin", "domain logic in services")):
        store.record_event(
            ScenarioStepChanged("E2", index, "MANUAL", item, priority="P2", title="edge service stays thin")
        )
    store.flush()
    report = bundle_files(tmp_path)[REPORT].decode()
    assert "| E2 | P2 | edge service stays thin | MANUAL |" in report
    assert "| Scenarios | 1 | 0 | 1 | 0 | 0 | 1 |" in report  # A1 passed, B2 failed, E2 open
    assert "Open: 1 item(s) unfinished, or manual checklists waiting for the operator." in report
