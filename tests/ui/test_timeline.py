"""The timeline screen (`t` on the scenarios pane): snapshots mid-gate and finished at 80x24 and
160x48, and its keys.

The session holds the recorded sandbox gate (tests/ui/record_fixtures.py) at the times it was
recorded, moved to fixed dates: six preflight checks, then the scenarios, with each run's phases as
the gate first saw them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from backends.events import (
    CheckFinished,
    RunFinished,
    ScenarioFinished,
    ScenarioStepChanged,
    SessionOpened,
    VerdictChanged,
)
from backends.evidence.store import EvidenceStore
from backends.session import STORE_FILE
from backends.timeline.model import Timeline
from tests.ui.support import HEALTHY, RECORDED_AT, SNAP_ROOT, opener_for
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.timeline import TimelineScreen

FIXTURE = Path(__file__).parent / "scenario_events.json"
REASONS = tuple(f"scenario {sid} FAIL" for sid in ("A3", "D2", "L-revise"))


def timeline_session(name: str, fraction: float) -> Path:
    """A session of the recorded gate cut at `fraction` of its scenario records; at 1.0 the gate
    also finished (verdict and run.finished recorded)."""
    directory = SNAP_ROOT / f"timeline-{name}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    store = EvidenceStore(directory / STORE_FILE)
    store.record_event(
        SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "codex-k8s MVP e2e regression gate"),
        ts=RECORDED_AT,
    )
    for index, result in enumerate(HEALTHY):
        store.record_event(CheckFinished(result), ts=RECORDED_AT + 1 + index)
    recorded = json.loads(FIXTURE.read_text())
    kept = recorded[: int(len(recorded) * fraction)]
    for kind, payload, ts in kept:
        store.append(kind, payload, ts=ts)
    if fraction >= 1:
        last = float(kept[-1][2])
        store.record_event(VerdictChanged(False, REASONS), ts=last + 0.01)
        store.record_event(RunFinished(False, REASONS), ts=last + 0.02)
    store.flush()
    return directory


def _app(name: str, fraction: float) -> GateRoomApp:
    return GateRoomApp(opener_for(timeline_session(name, fraction)), autorun=False)


async def open_timeline(pilot: Pilot[None]) -> TimelineScreen:
    """Open the gate, then the timeline from the scenarios pane, and wait until it has been read."""
    await wait_for_gate(pilot)
    await pilot.press("2", "t")
    screen = pilot.app.screen
    assert isinstance(screen, TimelineScreen)
    for _ in range(300):
        if screen.timeline is not None and screen.table.row_count:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    return screen


def _timeline(screen: TimelineScreen) -> Timeline:
    assert screen.timeline is not None
    return screen.timeline


async def test_t_opens_the_timeline_with_every_scenario_and_the_critical_path() -> None:
    app = _app("keys", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_timeline(pilot)
        tl = _timeline(screen)
        assert tl.finished and not tl.running()
        keys = {str(k.value) for k in screen.table.rows}
        assert "path" in keys and "checks:preflight" in keys
        assert {f"scenario:{sid}" for sid in ("A1", "A3", "L-revise")} <= keys
        assert any("/run:" in k for k in keys)
        head = str(screen.query_one("#timeline-head", Static).render())
        assert "Critical path" in head and "L-revise" in head


async def test_r_hides_and_shows_the_runs_and_the_detail_follows_the_cursor() -> None:
    app = _app("runs", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_timeline(pilot)
        with_runs = screen.table.row_count
        await pilot.press("r")
        assert screen.table.row_count < with_runs
        assert not any("/run:" in str(k.value) for k in screen.table.rows)
        await pilot.press("r")
        assert screen.table.row_count == with_runs
        # the first run row: its detail names the run and its phases with their times
        table = screen.table
        run_index = next(i for i, k in enumerate(table.rows) if "/run:" in str(k.value))
        table.move_cursor(row=run_index)
        await pilot.pause()
        detail = str(screen.query_one("#timeline-detail", Static).render())
        assert "phases as first seen: created +" in detail


async def test_escape_closes_the_timeline() -> None:
    app = _app("close", 0.4)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_timeline(pilot)
        assert not _timeline(screen).finished and _timeline(screen).running()
        await pilot.press("escape")
        assert not isinstance(app.screen, TimelineScreen)


async def test_plan_text_is_shown_as_text_and_an_empty_gate_says_so() -> None:
    directory = timeline_session("markup", 0.0)
    store = EvidenceStore(directory / STORE_FILE)
    shown = "[bold]labels[/bold] like [ai-model-gpt-5.4]"
    title = shown + "\x1b[2J"  # a terminal instruction in a plan's title: removed, never obeyed
    running = ScenarioStepChanged("Z9", 0, "RUNNING", "add_label label=[ai-model-gpt-5.4]", title=title)
    store.record_event(running, ts=RECORDED_AT + 20)
    store.record_event(ScenarioFinished("Z9", "PASS", title=title), ts=RECORDED_AT + 25)
    store.flush()
    app = GateRoomApp(opener_for(directory), autorun=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_timeline(pilot)
        screen.table.move_cursor(row=screen.table.get_row_index("scenario:Z9"))
        await pilot.pause()
        detail = str(screen.query_one("#timeline-detail", Static).render())
        assert shown in detail and "[ai-model-gpt-5.4]" in detail and "\x1b" not in detail

    nothing = SNAP_ROOT / "timeline-nothing"
    shutil.rmtree(nothing, ignore_errors=True)
    store = EvidenceStore(nothing / STORE_FILE)
    store.record_event(SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "plan"), ts=RECORDED_AT)
    store.flush()
    empty = GateRoomApp(opener_for(nothing), autorun=False)
    async with empty.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("2", "t")
        screen = empty.screen
        assert isinstance(screen, TimelineScreen)
        for _ in range(300):
            if screen.timeline is not None:
                break
            await pilot.pause(0.02)
        await pilot.pause()
        assert _timeline(screen).empty and screen.table.row_count == 0
        assert "nothing has run yet" in str(screen.query_one("#timeline-head", Static).render())


def test_snapshot_mid_gate_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("mid-80", 0.4), terminal_size=(80, 24), run_before=open_timeline)


def test_snapshot_mid_gate_160x48(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("mid-160", 0.4), terminal_size=(160, 48), run_before=open_timeline)


def test_snapshot_finished_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("done-80", 1.0), terminal_size=(80, 24), run_before=open_timeline)


def test_snapshot_finished_160x48(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("done-160", 1.0), terminal_size=(160, 48), run_before=open_timeline)
