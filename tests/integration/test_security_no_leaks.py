"""Show point 3 of the security issue: secrets planted in every source the gate reads (agent logs,
a platform comment, a ConfigMap, an event, a plain env value, plus the env file's own secrets) reach
neither the screen, nor the session store, nor the log files, nor an exported bundle — while the
leak checks do report them (by kind, place and fingerprint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from backends.bundle.export import export_bundle
from backends.gate import Gate, open_demo_gate
from backends.results import Status
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.security_detail import SecurityDetail

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first

LEAK_FAULTS = [
    "platform.secret-in-log",
    "platform.secret-in-comment",
    "cluster.secret-in-configmap",
    "cluster.secret-in-event",
    "cluster.secret-env-plain",
]
LEAK_CHECKS = {"sec.leaks-logs", "sec.leaks-comments", "sec.leaks-cluster", "sec.secret-env"}


async def test_planted_secrets_reach_no_output(tmp_path: Path) -> None:
    session = tmp_path / "session"
    gate: Gate = await open_demo_gate(session, LEAK_FAULTS)
    assert gate.world is not None and gate.world.kube_state is not None
    planted = [*gate.world.secret_values.values(), *gate.world.kube_state.planted.values()]
    screens: list[str] = []

    async def opener() -> Gate:
        return gate

    app = GateRoomApp(opener, autorun=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for_gate(pilot)
        await gate.engine.run_checks()
        await pilot.pause()
        for key in "12345":
            await pilot.press(key)
            await pilot.pause()
            screens.append(app.export_screenshot())
        await pilot.press("4")
        await pilot.pause()
        table = app.query_one("#security-table", DataTable)
        for row, row_key in enumerate(list(table.rows)):
            if str(row_key.value).split("/", 1)[1] not in LEAK_CHECKS:
                continue
            table.move_cursor(row=row)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, SecurityDetail)
            screens.append(app.export_screenshot())
            await pilot.press("escape")
            await pilot.pause()
        failing = {r.check_id for r in gate.session.state.checks.values() if r.status is Status.FAIL}
        assert LEAK_CHECKS <= failing  # the leaks were seen, and reported...
    bundle = tmp_path / "bundle"
    export_bundle(session, bundle)
    outputs = {f"screen {i}": text for i, text in enumerate(screens)}
    for root in (session, bundle):
        for path in root.rglob("*"):
            if path.is_file():
                outputs[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any(p.name.endswith(".log") for p in session.rglob("*.log"))
    # ...and not one value is anywhere a person or a file could see it
    leaked = [(where, value[:8]) for where, text in outputs.items() for value in planted if value in text]
    assert leaked == []
