"""Pilot-driven tests of the control room and snapshots of every pane."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from backends.gate import open_demo_gate
from tests.patience import PATIENCE_S, NeverCame
from tests.ui.support import HEALTHY, MIXED, opener_for, recorded_session
from tui.app import GateRoomApp
from tui.header import GateHeader


async def wait_until_app(pilot: Pilot[None], ready: Callable[[GateRoomApp], bool], what: str) -> None:
    """Let the app run until `ready` (or until it could not open its gate), within the tests' patience."""
    app = pilot.app
    assert isinstance(app, GateRoomApp)
    deadline = time.monotonic() + PATIENCE_S
    while not ready(app) and not app.exit_error:
        if time.monotonic() > deadline:
            raise NeverCame(f"{what}: not within {PATIENCE_S:g}s")
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_for_gate(pilot: Pilot[None]) -> None:
    await wait_until_app(pilot, lambda app: app.gate is not None, "the gate opened")


async def test_keys_1_to_5_switch_panes() -> None:
    app = GateRoomApp(opener_for(recorded_session("keys", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_gate(pilot)
        tabs = app.query_one(TabbedContent)
        for key, pane in [
            ("2", "scenarios"),
            ("3", "logs"),
            ("4", "security"),
            ("5", "signoff"),
            ("1", "preflight"),
        ]:
            await pilot.press(key)
            assert tabs.active == pane


async def test_help_opens_and_closes() -> None:
    app = GateRoomApp(opener_for(recorded_session("help", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("question_mark")
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        assert app.screen.__class__.__name__ != "HelpScreen"


async def test_command_palette_switches_pane() -> None:
    app = GateRoomApp(opener_for(recorded_session("palette", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to Sign-off")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "signoff"


async def test_demo_run_fills_preflight_and_verdict(tmp_path: Path) -> None:
    app = GateRoomApp(lambda: open_demo_gate(tmp_path / "s", ["vps.low-cpu"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_gate(pilot)
        # the security checks wait out a run lease (~10s on the sandbox), then the scenarios run
        await wait_until_app(pilot, lambda a: a.query_one(GateHeader).verdict in {"GO", "NO-GO"}, "a verdict")
        assert app.query_one(GateHeader).verdict == "NO-GO"
        assert app.gate is not None
        statuses = {k: str(r.status) for k, r in app.gate.session.state.checks.items()}
        assert statuses["sandbox-vps/host.cpu"] == "FAIL"
        assert statuses["sandbox-vps/host.os"] == "PASS"


async def test_resumed_session_restores_preflight() -> None:
    app = GateRoomApp(opener_for(recorded_session("resume", MIXED, go=False, reasons=("x",))), autorun=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_gate(pilot)
        table = app.query_one("#preflight-table")
        assert app.gate is not None
        assert table.row_count == len(app.gate.engine.planned_checks())  # type: ignore[attr-defined]
        recorded = app.gate.session.state.checks
        assert len(recorded) == len(MIXED)
        for key, result in recorded.items():  # each recorded result is back on its row
            row = table.get_row(key)  # type: ignore[attr-defined]
            assert any(str(result.status) in str(cell) for cell in row), (key, row)
        assert app.query_one(GateHeader).verdict == "NO-GO"


def _snap(name: str, results: list, go: bool | None, reasons: tuple[str, ...] = ()) -> GateRoomApp:  # type: ignore[type-arg]
    return GateRoomApp(opener_for(recorded_session(name, results, go=go, reasons=reasons)), autorun=False)


NO_GO_REASONS = (
    "check prod-vps/host.memory FAIL: 2.0 GiB RAM, need at least 8 GiB",
    "check prod-vps/host.os FAIL: Debian GNU/Linux 12 (bookworm), expected Ubuntu 24.04",
)


@pytest.mark.parametrize(
    ("key", "name"),
    [("1", "preflight"), ("2", "scenarios"), ("3", "logs"), ("4", "security"), ("5", "signoff")],
)
def test_snapshot_each_pane_80x24(snap_compare, key: str, name: str) -> None:  # type: ignore[no-untyped-def]
    app = _snap(f"pane-{name}", MIXED, go=False, reasons=NO_GO_REASONS)
    assert snap_compare(app, press=[key], terminal_size=(80, 24), run_before=wait_for_gate)


def test_snapshot_preflight_healthy_160x48(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _snap("large", HEALTHY, go=True)
    assert snap_compare(app, terminal_size=(160, 48), run_before=wait_for_gate)
