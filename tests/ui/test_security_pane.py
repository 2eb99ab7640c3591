"""The security pane: grouping, the detail view with the RBAC matrix, waivers (refused without a
reason, recorded as evidence, shown at sign-off, restored on resume), and snapshots (all green,
several findings, the RBAC matrix, a finding's detail, a waiver).

The results were recorded from sandbox gates (healthy, and with six security faults) and are replayed
from a session store: nothing is contacted."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from backends.config import Settings, settings_from_dict
from backends.events import Waived
from backends.gate import Gate, open_gate
from backends.results import CheckResult
from backends.signoff import summarise
from tests.ui.support import HEALTHY, recorded_session
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.security_detail import SecurityDetail
from tui.panes.waiver import WaiverPrompt

RECORDED = json.loads((Path(__file__).parent / "security_results.json").read_text())


def _settings() -> Settings:
    return settings_from_dict(
        {
            "hosts": [{"name": "prod-vps", "address": "203.0.113.10", "key": "/nonexistent/id_ed25519"}],
            "github": {"api_url": "http://127.0.0.1:9", "platform_repo": "codex-k8s/codex-k8s"},
            "cluster": {"kubeconfig": "/nonexistent/kubeconfig"},
        }
    )


def _results(which: str) -> list[CheckResult]:
    return [CheckResult.from_payload(p) for p in RECORDED[which]]


#: the healthy recording has the stock finding, which the owner waived
STOCK = Waived(
    "secrets/sec.secret-env",
    "agent tokens are literal env values upstream (joblauncher/launcher.go); fix tracked",
    "local:owner",
)


def _opener(name: str, which: str, *, waive: str = "") -> Callable[[], Awaitable[Gate]]:
    extra = (
        [Waived(waive, "accepted for the MVP: the deny-all policy ships in 0.21", "local:owner")]
        if waive
        else []
    )
    if which == "healthy":
        extra.append(STOCK)
    go = which == "healthy"
    directory = recorded_session(
        name, [*HEALTHY, *_results(which)], go=go, reasons=() if go else ("x",), extra=extra
    )
    return lambda: open_gate(_settings(), directory)


def _app(name: str, which: str, **kw: str) -> GateRoomApp:
    return GateRoomApp(_opener(name, which, **kw), autorun=False)


async def _show(pilot: Pilot[None]) -> None:
    await wait_for_gate(pilot)
    await pilot.press("4")
    # the pane's keys reach it once its table has the focus (given after the next refresh)
    for _ in range(100):
        if pilot.app.focused is _table(pilot.app):  # type: ignore[arg-type]
            return
        await pilot.pause(0.02)


def _table(app: GateRoomApp) -> DataTable:  # type: ignore[type-arg]
    return app.query_one("#security-table", DataTable)


async def _select(pilot: Pilot[None], key: str) -> None:
    app = pilot.app
    assert isinstance(app, GateRoomApp)
    table = _table(app)
    table.move_cursor(row=[str(r.value) for r in table.rows].index(key))
    await pilot.pause()


async def test_groups_and_preflight_keeps_only_its_own() -> None:
    app = _app("sec-groups", "findings")
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(pilot)
        keys = [str(r.value) for r in _table(app).rows]
        areas = [k.split("/")[0] for k in keys]
        order = ["rbac", "secrets", "approvals", "reliability", "network"]
        assert areas == sorted(areas, key=order.index) and set(areas) == set(order)
        preflight = [str(r.value) for r in app.query_one("#preflight-table", DataTable).rows]
        assert not any(k.split("/")[0] in order for k in preflight)


async def _until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Let the app work until `condition` holds (a loaded machine needs more than one pause)."""
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


async def test_waiver_needs_a_reason_and_reaches_signoff(tmp_path: Path) -> None:
    app = _app("sec-waive", "findings")
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(pilot)
        await _select(pilot, "network/sec.netpol")
        await pilot.press("w")
        await _until(pilot, lambda: isinstance(app.screen, WaiverPrompt))
        await pilot.press("enter")  # no reason: refused, the prompt stays
        await pilot.pause()
        assert isinstance(app.screen, WaiverPrompt)
        app.screen.query_one(Input).value = "deny-all ships in 0.21"
        await pilot.press("enter")
        assert app.gate is not None
        gate = app.gate
        await _until(pilot, lambda: "network/sec.netpol" in gate.session.state.waivers)
        waiver = app.gate.session.state.waivers["network/sec.netpol"]
        assert waiver.reason == "deny-all ships in 0.21" and waiver.by.startswith("local:")
        app.gate.session.store.flush()
        summary = summarise(app.gate.session.store.records())
        assert [w.item_key for w in summary.waivers] == ["network/sec.netpol"]
        directory = app.gate.session.dir
    # resumed: the waiver comes back from the evidence
    again = GateRoomApp(lambda: open_gate(_settings(), directory), autorun=False)
    async with again.run_test(size=(120, 40)) as pilot:
        await _show(pilot)
        assert again.gate is not None and "network/sec.netpol" in again.gate.session.state.waivers


async def test_passing_check_cannot_be_waived() -> None:
    app = _app("sec-nowaive", "healthy")
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(pilot)
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, WaiverPrompt)


async def test_matrix_key_opens_the_rbac_detail() -> None:
    app = _app("sec-matrix-key", "findings")
    async with app.run_test(size=(120, 40)) as pilot:
        await _show(pilot)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, SecurityDetail) and app.screen.key == "rbac/sec.rbac-agents"
        matrix = app.screen.query_one("#rbac-matrix", DataTable)
        assert matrix.row_count == 23


def test_snapshot_all_green(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("sec-snap-green", "healthy"), terminal_size=(140, 36), run_before=_show)


def test_snapshot_findings(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("sec-snap-findings", "findings"), terminal_size=(140, 36), run_before=_show)


def test_snapshot_rbac_matrix(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        await _show(pilot)
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(_app("sec-snap-matrix", "findings"), terminal_size=(120, 44), run_before=before)


def test_snapshot_finding_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        await _show(pilot)
        await _select(pilot, "secrets/sec.leaks-logs")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(_app("sec-snap-detail", "findings"), terminal_size=(120, 36), run_before=before)


def test_snapshot_waiver(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot[None]) -> None:
        await _show(pilot)
        await _select(pilot, "network/sec.netpol")

    app = _app("sec-snap-waiver", "findings", waive="network/sec.netpol")
    assert snap_compare(app, terminal_size=(140, 36), run_before=before)
