"""A served terminal follows the operator's evidence and never runs anything itself: re-runs and
scenario actions are refused with a note, and a viewer cannot waive."""

from __future__ import annotations

from backends.decision import Actor
from backends.serve.watch import open_watch_gate
from tests.ui.support import MIXED, recorded_session
from tests.ui.test_app import wait_for_gate
from tui.remote import RemoteGateRoomApp


def _app(name: str, role: str) -> RemoteGateRoomApp:
    directory = recorded_session(name, MIXED, go=False, reasons=("x",))
    return RemoteGateRoomApp(
        lambda: open_watch_gate(directory, f"{role}:SHA256:test"), Actor("SHA256:test", role)
    )


def _notes(app: RemoteGateRoomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_served_terminal_refuses_runs_and_records_nothing() -> None:
    app = _app("remote-runs", "owner")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        before = len(app.gate.session.store.records())
        await pilot.press("1", "R")  # re-run every check
        await pilot.press("2", "r")  # run the selected scenario
        await pilot.pause(0.3)
        notes = _notes(app)
        assert any("Checks run in the operator's terminal" in n for n in notes), notes
        assert any("Scenarios run in the operator's terminal" in n for n in notes), notes
        assert not app.gate.session.state.running
        app.gate.session.store.flush()
        kinds = [r["kind"] for r in app.gate.session.store.records()[before:]]
        assert "check.finished" not in kinds and not any(k.startswith("scenario") for k in kinds)


async def test_viewer_cannot_waive() -> None:
    app = _app("remote-viewer", "viewer")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        from tui.panes.security import WaiveCheck

        app.post_message(WaiveCheck("sandbox-vps/host.os", "because"))
        await pilot.pause(0.3)
        assert app.gate is not None and not app.gate.session.state.waivers
        assert any("A viewer cannot waive" in n for n in _notes(app))
