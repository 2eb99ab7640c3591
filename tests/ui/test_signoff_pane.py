"""The sign-off pane: recommendation, blockers, waivers, the decision form and a recorded decision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.decision import Actor, prepare
from backends.events import CheckFinished, Event, ScenarioFinished, SessionOpened, VerdictChanged
from backends.results import Status
from backends.serve.watch import open_watch_gate
from backends.session import Session
from tests.ui.support import SNAP_ROOT
from tests.unit.bundle_support import check, gate_events, recorded
from tui.panes.signoff import SignoffPane
from tui.remote import RemoteGateRoomApp

OWNER = Actor("SHA256:Zm9yIHRoZSBvd25lcidzIGtleSBpbiB0ZXN0cw", "owner")
VIEWER = Actor("SHA256:dmlld2VyIGtleSBpbiB0aGUgdGVzdHMgb25seQ", "viewer")
OPENED = SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "codex-k8s MVP e2e regression gate")


def go_events(directory: Path) -> list[Event]:
    return [
        OPENED,
        CheckFinished(check("host.os", Status.PASS, "Ubuntu 24.04.1 LTS", "Ubuntu 24.04")),
        CheckFinished(check("host.memory", Status.PASS, "32.0 GiB", ">= 8 GiB")),
        CheckFinished(check("rbac.prod-namespace", Status.PASS, "no cluster-admin", "least privilege")),
        ScenarioFinished("A1", "PASS", "P0", "Label run:dev starts a dev run", duration_s=41.2),
        VerdictChanged(True),
    ]


def nogo_events(directory: Path) -> list[Event]:
    return [
        OPENED,
        CheckFinished(check("host.os", Status.FAIL, "Debian 12", "Ubuntu 24.04", "Debian 12, need 24.04")),
        CheckFinished(check("host.memory", Status.FAIL, "2.0 GiB", ">= 8 GiB", "2.0 GiB RAM, need 8 GiB")),
        ScenarioFinished("A1", "PASS", "P0", "Label run:dev starts a dev run"),
        ScenarioFinished("B2", "FAIL", "P1", "Review comment reaches the agent", "no comment within 120s"),
        ScenarioFinished("C3", "FAIL", "P0", "Run namespace is created", "namespace not created in 60s"),
        VerdictChanged(
            False,
            (
                "scenario B2 (P1) FAIL: no comment within 120s",
                "check prod-vps/host.memory FAIL: 2.0 GiB RAM, need 8 GiB",
                "check prod-vps/host.os FAIL: Debian 12, need 24.04",
                "scenario C3 (P0) FAIL: namespace not created in 60s",
            ),
        ),
    ]


def session_dir(name: str, events: list[Event] | None = None, *, decided: bool = False) -> Path:
    directory = SNAP_ROOT / f"signoff-{name}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    recorded(directory, events if events is not None else gate_events(directory))
    if decided:
        event = prepare(Session(directory), OWNER, "GO", "B2 waived, memory fixed; ship it")
        recorded(directory, [event])
    return directory


def app_for(directory: Path, actor: Actor = OWNER) -> RemoteGateRoomApp:
    return RemoteGateRoomApp(lambda: open_watch_gate(directory, actor.who), actor)


async def show_signoff(pilot: Pilot[None]) -> None:
    app = pilot.app
    for _ in range(300):
        if getattr(app, "gate", None) is not None:
            break
        await pilot.pause(0.02)
    await pilot.press("5")
    pane = app.query_one(SignoffPane)
    for _ in range(300):
        if pane.snap is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.1)


SIZE = (100, 32)


def test_snapshot_go(snap_compare) -> None:  # type: ignore[no-untyped-def]
    directory = SNAP_ROOT / "signoff-go"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    recorded(directory, go_events(directory))
    assert snap_compare(app_for(directory), terminal_size=SIZE, run_before=show_signoff)


def test_snapshot_no_go_with_blockers_by_priority(snap_compare) -> None:  # type: ignore[no-untyped-def]
    directory = session_dir("nogo", nogo_events(SNAP_ROOT))
    assert snap_compare(app_for(directory), terminal_size=SIZE, run_before=show_signoff)


def test_snapshot_with_waivers_and_deviations(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_for(session_dir("waivers")), terminal_size=SIZE, run_before=show_signoff)


def test_snapshot_after_a_decision(snap_compare) -> None:  # type: ignore[no-untyped-def]
    directory = session_dir("decided", decided=True)
    assert snap_compare(app_for(directory), terminal_size=SIZE, run_before=show_signoff)


def test_snapshot_as_a_viewer_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    directory = session_dir("viewer", nogo_events(SNAP_ROOT))
    assert snap_compare(app_for(directory, VIEWER), terminal_size=(80, 24), run_before=show_signoff)


@pytest.mark.parametrize("decision", ["GO", "NO-GO"])
async def test_deciding_by_keys_records_and_replaces_the_form(tmp_path: Path, decision: str) -> None:
    directory = tmp_path / "s"
    directory.mkdir()
    recorded(directory, gate_events(directory))
    app = app_for(directory)
    async with app.run_test(size=SIZE) as pilot:
        await show_signoff(pilot)
        pane = app.query_one(SignoffPane)
        assert not pane.query_one("#signoff-form").has_class("hidden")
        await pilot.press("c", *"looks right", "enter", "g" if decision == "GO" else "n", "y")
        for _ in range(300):
            if pane.snap is not None and pane.snap.status.final:
                break
            await pilot.pause(0.02)
        assert pane.snap is not None and pane.snap.status.decision is not None
        d = pane.snap.status.decision
        assert (d.decision, d.by, d.comment, d.role) == (decision, OWNER.who, "looks right", "owner")
        assert pane.query_one("#signoff-form").has_class("hidden")


async def test_escape_cancels_and_nothing_is_recorded(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    directory.mkdir()
    recorded(directory, gate_events(directory))
    app = app_for(directory)
    async with app.run_test(size=SIZE) as pilot:
        await show_signoff(pilot)
        await pilot.press("g", "escape")
        await pilot.pause(0.5)
    assert not [r for r in Session(directory).store.records() if r["kind"] == "decision"]


async def _note(pilot: Pilot[None], needle: str) -> list[str]:
    for _ in range(300):
        notes = [str(n.message) for n in pilot.app._notifications]
        if any(needle in n for n in notes):
            return notes
        await pilot.pause(0.02)
    raise AssertionError(f"no notification saying {needle!r}: {notes}")


async def test_publish_key_needs_a_decider_a_current_decision_and_a_publish_section(tmp_path: Path) -> None:
    undecided = tmp_path / "undecided"
    undecided.mkdir()
    recorded(undecided, gate_events(undecided))
    async with app_for(undecided).run_test(size=SIZE) as pilot:
        await show_signoff(pilot)
        await pilot.press("p")
        await _note(pilot, "Publishing needs a current decision")
    async with app_for(undecided, VIEWER).run_test(size=SIZE) as pilot:
        await show_signoff(pilot)
        await pilot.press("p")
        await _note(pilot, "A viewer cannot publish")
    refused = [r["payload"] for r in Session(undecided).store.records() if r["kind"] == "serve.action"]
    assert any(p["action"] == "publish" and not p["allowed"] for p in refused), refused
    decided = tmp_path / "decided"
    decided.mkdir()
    recorded(decided, gate_events(decided))
    recorded(decided, [prepare(Session(decided), OWNER, "GO", "ship it")])
    async with app_for(decided).run_test(size=SIZE) as pilot:
        await show_signoff(pilot)
        await pilot.press("p")
        # a served terminal has no configuration: the operator's terminal publishes
        await _note(pilot, "no [publish] section in the configuration")
