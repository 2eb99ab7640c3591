"""The timeline model: items, segments and runs from records; the critical path as defined in
backends/timeline/critical.py; the cells; and the report's section read back from an exported bundle
of the recorded sandbox gate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.bundle.export import export_bundle
from backends.bundle.verify import read_bundle, verify_bundle
from backends.events import (
    CheckFinished,
    Event,
    RunFinished,
    ScenarioFinished,
    ScenarioStepChanged,
    SessionOpened,
)
from backends.evidence.store import EvidenceStore
from backends.results import CheckResult, Status
from backends.session import STORE_FILE, Session
from backends.signals.runstatus import render_marker
from backends.signals.thread import ThreadSignals
from backends.timeline.build import build_timeline
from backends.timeline.critical import SETTLE_S
from backends.timeline.model import ACTION, IDLE, OPERATOR, OTHER, PAUSE, WAIT, Timeline
from backends.timeline.read import TimelineReader
from backends.timeline.rows import phase_code, timeline_rows
from backends.timeline.scale import Scale, duration_text

T0 = 1_767_225_600.0
RECORDING = Path(__file__).resolve().parent.parent / "ui" / "scenario_events.json"


def rec(ts: float, event: Event) -> dict[str, Any]:
    return {"ts": T0 + ts, "kind": event.kind, "payload": event.to_payload()}


def step(sid: str, index: int, status: str, description: str, **detail: Any) -> ScenarioStepChanged:
    return ScenarioStepChanged(
        sid, index, status, description, detail={"attempt": 1, **detail}, title=f"{sid} title"
    )


def scenario(
    sid: str, start: float, steps: list[tuple[str, float]], status: str = "PASS"
) -> list[dict[str, Any]]:
    """A scenario whose steps (description, seconds) run back to back from `start`."""
    out, t = [], start
    for index, (description, seconds) in enumerate(steps):
        out.append(rec(t, step(sid, index, "RUNNING", description)))
        t += seconds
        out.append(rec(t, step(sid, index, "PASS", description)))
    out.append(rec(t, ScenarioFinished(sid, status, "P0", f"{sid} title", duration_s=t - start)))
    return out


def check(ts: float, check_id: str, seconds: float, status: Status = Status.PASS) -> dict[str, Any]:
    result = CheckResult(check_id, "host", check_id, status, "", "", "prod-vps", duration_s=seconds)
    return rec(ts, CheckFinished(result))


def test_scenario_segments_are_its_steps_by_what_they_spent_time_on() -> None:
    tl = build_timeline(
        scenario(
            "A1",
            0,
            [("create_issue repo=platform", 2), ("expect_run trigger_kind=dev", 30), ("wait duration=5", 5)],
        )
    )
    (item,) = tl.items
    assert (item.start, item.end, item.status, item.open) == (T0, T0 + 37, "PASS", False)
    assert [(s.kind, s.duration) for s in item.segments] == [(ACTION, 2), (WAIT, 30), (PAUSE, 5)]
    assert item.time_by_kind() == {ACTION: 2, WAIT: 30, PAUSE: 5}


def test_an_open_scenario_reaches_the_newest_record_and_a_restart_is_a_new_attempt_only_when_rerun() -> None:
    records = [
        rec(0, step("A1", 0, "RUNNING", "expect_run trigger_kind=dev")),
        rec(20, step("A1", 0, "RUNNING", "expect_run trigger_kind=dev")),  # progress, 20 s later
        rec(25, SessionOpened("s", "t", "p", resumed=True)),
        rec(30, step("B1", 0, "RUNNING", "create_issue repo=platform")),
    ]
    tl = build_timeline(records)
    a1 = next(i for i in tl.items if i.name == "A1")
    assert a1.open and a1.status == "RUNNING" and a1.end == T0 + 30
    assert a1.segments[0].start == T0 and a1.segments[0].end == T0 + 30
    assert not tl.finished and tl.resumes == [T0 + 25]
    assert [i.name for i in tl.running()] == ["A1", "B1"]
    rerun = ScenarioStepChanged("A1", 0, "RUNNING", "create_issue", detail={"attempt": 2})
    tl = build_timeline([*scenario("A1", 0, [("create_issue", 1)]), rec(50, rerun)])
    assert [(i.key, i.open) for i in tl.items] == [("scenario:A1", False), ("scenario:A1#2", True)]


def test_run_phases_carry_the_times_they_were_first_seen() -> None:
    run = {"run_id": "r-1", "trigger_kind": "dev", "run_status": "running"}
    first = step(
        "A1",
        1,
        "PASS",
        "expect_run phase=started",
        phases=["created", "started"],
        phase_at={"created": T0 + 3, "started": T0 + 4},
        **run,
    )
    later = step(
        "A1",
        2,
        "PASS",
        "expect_run phase=finished",
        phases=["created", "started", "ready", "finished"],
        phase_at={"created": T0 + 3.5, "started": T0 + 4, "ready": T0 + 9, "finished": T0 + 20},
        **{**run, "run_status": "succeeded"},
    )
    records = [
        rec(0, step("A1", 0, "RUNNING", "add_label run:dev")),
        rec(1, step("A1", 0, "PASS", "add_label run:dev")),
        rec(1, step("A1", 1, "RUNNING", "expect_run phase=started")),
        rec(5, first),
        rec(5, step("A1", 2, "RUNNING", "expect_run phase=finished")),
        rec(21, later),
        rec(21, ScenarioFinished("A1", "PASS")),
    ]
    (item,) = build_timeline(records).items
    (run_bar,) = item.runs
    # the earliest sighting of a phase wins; the run ends at its last phase
    assert [(m.phase, m.at - T0) for m in run_bar.phases] == [
        ("created", 3),
        ("started", 4),
        ("ready", 9),
        ("finished", 20),
    ]
    assert (run_bar.start, run_bar.end, run_bar.outcome, run_bar.timed) == (
        T0 + 3,
        T0 + 20,
        "succeeded",
        True,
    )
    # on a 20-cell scale of the item's 21 s, the cells show the phase reached by then, ending on "finished"
    row = next(r for r in timeline_rows(build_timeline(records)) if r.kind == "run")
    cells = row.cells(Scale(T0, T0 + 21, 21))
    assert cells[3] == phase_code("created") and cells[9] == phase_code("ready")
    assert cells[20] == phase_code("finished") and cells[2] is None


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    updated_at: str


def test_the_thread_follower_keeps_when_it_first_saw_each_phase() -> None:
    signals = ThreadSignals()

    def marker(phase: str) -> str:
        return "run status\n\n" + render_marker({"run_id": "r-1", "phase": phase, "trigger_kind": "dev"})

    signals.observe([Comment(7, marker("created"), "t1")], 3, at=T0)
    signals.observe([Comment(7, marker("created"), "t1")], 3, at=T0 + 10)  # unchanged: no new sighting
    signals.observe([Comment(7, marker("ready"), "t2")], 3, at=T0 + 20)  # "started" happened between polls
    trace = signals.runs["r-1"]
    assert trace.phases == ["created", "ready"] and trace.seen_at == {"created": T0, "ready": T0 + 20}


def test_records_without_phase_times_draw_the_run_over_its_matching_step() -> None:
    records = [
        rec(0, step("A1", 0, "RUNNING", "expect_run phase=finished")),
        rec(
            8,
            step(
                "A1",
                0,
                "PASS",
                "expect_run phase=finished",
                run_id="r-old",
                trigger_kind="dev",
                phases=["created", "finished"],
            ),
        ),
    ]
    (item,) = build_timeline(records).items
    (run_bar,) = item.runs
    assert not run_bar.timed and (run_bar.start, run_bar.end) == (T0, T0 + 8)
    assert [m.phase for m in run_bar.phases] == ["created", "finished"]


def test_the_critical_path_follows_what_each_item_waited_for() -> None:
    # checks 0-10; a pool of two: A1 and A2 start at 10, B starts when A1 frees its slot (at 30),
    # A2 ends at 50, B at 60; the serial S starts at 62 (after the parallel ones) and ends at 90;
    # the operator starts R by hand at 100, after a 10 s idle, and it ends last
    records = [
        check(4, "host.os", 4),
        check(10, "host.disk", 6),
        *scenario("A1", 10, [("expect_run a", 20)]),
        *scenario("A2", 10, [("expect_run b", 40)]),
        *scenario("B", 30 + SETTLE_S / 2, [("expect_run c", 30 - SETTLE_S / 2)]),
        *scenario("S", 62, [("expect_run d", 28)]),
        *scenario("R", 100, [("create_issue", 5), ("expect_run e", 15)]),
        rec(120, RunFinished(True)),
    ]
    tl = build_timeline(records)
    assert tl.finished and tl.total == 120
    chain = [
        (p.item.label if p.item else IDLE, round(p.start - T0, 3), round(p.end - T0, 3)) for p in tl.path
    ]
    assert chain == [
        ("preflight (2)", 0, 10),
        ("A1", 10, 30),
        ("B", 30, 60),  # the settle gap counts with B
        (IDLE, 60, 62),
        ("S", 62, 90),
        (IDLE, 90, 100),
        ("R", 100, 120),
    ]
    assert sum(p.duration for p in tl.path) == tl.total
    shares = tl.breakdown()
    assert round(sum(shares.values()), 6) == tl.total
    assert shares[IDLE] == 12 and shares["checks"] == 10 and shares[ACTION] == 5
    assert not tl.on_path(next(i for i in tl.items if i.name == "A2"))
    assert tl.slowest(1)[0][0].name == "B"


def test_a_manual_checklist_waits_for_the_operator() -> None:
    records = [
        *scenario("A1", 0, [("expect_run a", 10)]),
        rec(10, step("M", 0, "MANUAL", "Confirm the namespace is gone")),
        rec(11, RunFinished(False)),
    ]
    tl = build_timeline(records)
    manual = next(i for i in tl.items if i.name == "M")
    assert tl.finished and [i.name for i in tl.waiting_for_operator()] == ["M"]
    assert manual.segments[0].kind == OPERATOR and manual.end == T0 + 11
    answered = [
        *records,
        rec(3600, step("M", 0, "PASS", "Confirm the namespace is gone")),
        rec(3600, ScenarioFinished("M", "PASS")),
    ]
    tl = build_timeline(answered)
    assert tl.path[-1].item is not None and tl.path[-1].item.name == "M"
    assert tl.breakdown()[OPERATOR] == 3590


def test_nothing_recorded_is_an_empty_timeline_and_unreadable_records_are_skipped() -> None:
    tl = build_timeline([{"ts": "x"}, {"kind": "scenario.step"}, rec(1, SessionOpened("s", "t", "p"))])
    assert tl.empty and tl.total == 0 and tl.path == [] and timeline_rows(tl) == []


def test_scale_cells_and_axis() -> None:
    scale = Scale(0, 100, 10)
    cells = scale.paint([(0, 34, ACTION), (34, 100, WAIT), (50, 50, OTHER)])
    assert cells[:3] == [ACTION] * 3 and cells[3] == WAIT  # 30-40: the piece with more of its time wins
    assert cells[5] == WAIT  # an instant never beats a piece with time in its cell
    assert scale.paint([(99.5, 99.5, OTHER)])[9] == OTHER  # alone, an instant keeps its cell
    # ten minutes on 60 cells: a tick every 2 minutes (a minute would be 6 cells, under the 8 a label needs)
    assert Scale(0, 600, 60).axis().split() == ["0s", "2m", "4m", "6m", "8m"]
    assert Scale(0, 9000, 60).axis().split()[:3] == ["0s", "30m", "1h"]
    assert [duration_text(s) for s in (0.4, 12, 185, 7440)] == ["0.4s", "12s", "3m05s", "2h04m"]


def test_the_reader_folds_only_what_was_appended_and_keeps_what_it_drew(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / STORE_FILE)
    store.record_event(step("A1", 0, "RUNNING", "expect_run trigger_kind=dev"), ts=T0)
    store.record_event(step("B1", 0, "RUNNING", "create_issue"), ts=T0 + 5)
    store.flush()
    reader = TimelineReader(Session(tmp_path))
    first = reader.read()
    assert [(i.name, i.open, i.end - T0) for i in first.items] == [("A1", True, 5), ("B1", True, 5)]
    assert reader.read() is first  # nothing appended: the same drawing
    store.record_event(step("A1", 0, "PASS", "expect_run trigger_kind=dev"), ts=T0 + 30)
    store.record_event(ScenarioFinished("A1", "PASS"), ts=T0 + 30)
    store.flush()
    second = reader.read()
    assert [(i.name, i.open, i.end - T0) for i in second.items] == [("A1", False, 30), ("B1", True, 30)]
    # what was drawn before stays as it was (the screen may still be showing it)
    assert [(i.name, i.open, i.end - T0) for i in first.items] == [("A1", True, 5), ("B1", True, 5)]


def _recorded_gate(directory: Path) -> Timeline:
    """The recorded sandbox gate (tests/ui/record_fixtures.py) as a session: checks, then scenarios."""
    store = EvidenceStore(directory / STORE_FILE)
    recorded = json.loads(RECORDING.read_text())
    first = float(recorded[0][2])
    store.record_event(SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "plan"), ts=first - 7)
    result = CheckResult(
        "host.os", "host", "OS", Status.PASS, "Ubuntu 24.04", "Ubuntu 24.04", "prod-vps", duration_s=5
    )
    store.record_event(CheckFinished(result), ts=first - 1)
    for kind, payload, ts in recorded:
        store.append(kind, payload, ts=ts)
    last = float(recorded[-1][2])
    store.record_event(RunFinished(False, ("scenario A3 FAIL",)), ts=last + 0.02)
    store.flush()
    return build_timeline(store.records())


def test_the_report_has_the_timeline_section_and_the_bundle_still_verifies(tmp_path: Path) -> None:
    session = tmp_path / "session"
    tl = _recorded_gate(session)
    export_bundle(session, tmp_path / "bundle")
    report = read_bundle(tmp_path / "bundle")["report.md"].decode()
    section = report[report.index("## Timeline") :]
    section = section[: section.index("\n## ", 1)]
    assert f"Gate wall time **{duration_text(tl.total)}**" in section
    chain = " → ".join(f"{p.item.label if p.item else 'idle'}" for p in tl.path)
    assert "preflight (1)" in chain and "L-revise" in chain
    for name in chain.split(" → "):
        assert name in section
    assert "| waiting on the platform |" in section
    assert "```text" in section and "* critical path" in section
    # every run the scenarios matched, with its phases as first seen
    runs = [r for i in tl.items for r in i.runs]
    assert runs and all(r.timed for r in runs) and all(f"`{r.run_id}`" in section for r in runs)
    assert "created +" in section
    # the report is rebuilt from the records by verify: the section is part of what it checks
    assert all(
        stage.status == "OK" for stage in verify_bundle(tmp_path / "bundle").stages if stage.name == "report"
    )
