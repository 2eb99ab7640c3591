"""A served terminal follows the operator's evidence and never runs anything itself: re-runs and
scenario actions are refused with a note, and a viewer cannot waive."""

from __future__ import annotations

from dataclasses import replace

from backends.decision import Actor
from backends.results import CheckResult, Status
from backends.serve.watch import open_watch_gate
from tests.ui.support import MIXED, recorded_session, result
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


async def test_served_preflight_plans_only_the_recorded_hosts() -> None:
    """Security, GitHub and cluster checks name groups, repos and contexts, not hosts: the served
    view must not plan host checks for them."""
    results = [
        *MIXED,
        result("host.ssh", "SSH reachable", Status.PASS, "codex@203.0.113.20:2222", "key login"),
        CheckResult(
            "sec.branch-protection",
            "approvals",
            "Default branch needs a review",
            Status.PASS,
            target="approvals",
        ),
        CheckResult("sec.rbac-agents", "rbac", "Agent access matrix", Status.PASS, target="rbac"),
        CheckResult("github.token", "github", "GitHub token valid", Status.PASS, target="github"),
    ]
    results[-4] = replace(results[-4], target="staging-vps")
    directory = recorded_session("remote-hosts", results, go=False, reasons=("x",))
    gate = await open_watch_gate(directory, "viewer:SHA256:test")
    try:
        hosts = {h.name: (h.user, h.address, h.port) for h in gate.settings.hosts}
        assert hosts == {
            "prod-vps": ("codex", "203.0.113.10", 22),
            "staging-vps": ("codex", "203.0.113.20", 2222),
        }
        planned = {p.target for p in gate.engine.planned_checks() if p.area == "host"}
        assert planned == {"prod-vps", "staging-vps"}
    finally:
        await gate.aclose()
