"""The scenario matrix pane: filters, the detail view, the coverage view, and snapshots (at start,
mid-run, finished with failures, a scenario's detail, the coverage view).

The scenario events are a recording of a real sandbox gate run (see `scenario_events` in support).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from backends.plan.loader import load_plan
from tests.ui.support import HEALTHY, opener_for, recorded_session, scenario_events
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.coverage import CoverageView
from tui.panes.scenario_detail import ScenarioDetail

FAILED = ("A3", "D2", "L-revise")  # what the recorded faults broke
REASONS = tuple(f"scenario {sid} FAIL" for sid in FAILED)


def _app(name: str, fraction: float | None) -> GateRoomApp:
    extra = scenario_events(fraction) if fraction is not None else []
    go = None if fraction is None or fraction < 1 else False
    directory = recorded_session(f"scen-{name}", HEALTHY, go=go, reasons=REASONS, extra=extra)
    return GateRoomApp(opener_for(directory), autorun=False)


def _table(app: GateRoomApp) -> DataTable:  # type: ignore[type-arg]
    return app.query_one("#scenario-table", DataTable)


def _status_of(app: GateRoomApp, sid: str) -> str:
    return str(_table(app).get_row(sid)[0]).strip()


async def test_finished_matrix_shows_every_scenario_and_the_failures() -> None:
    app = _app("finished", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("2")
        plan = load_plan(None)
        assert _table(app).row_count == len(plan.scenarios)
        for sid in FAILED:
            assert _status_of(app, sid) == "FAIL"
        assert _status_of(app, "A1") == "PASS"
        assert _status_of(app, "E2") == "MANUAL"


async def test_status_filter_cycles_and_narrows_the_rows() -> None:
    app = _app("filter", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("2", "f")  # all → PASS
        assert all(_status_of(app, str(k.value)) == "PASS" for k in _table(app).rows)
        await pilot.press("f")  # PASS → FAIL
        assert sorted(str(k.value) for k in _table(app).rows) == sorted(FAILED)
        await pilot.press("p", "p")  # and priority P1
        assert [str(k.value) for k in _table(app).rows] == ["L-revise"]


async def test_detail_shows_expected_against_actual_of_the_failed_step() -> None:
    app = _app("detail", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("2", "f", "f")  # only the failures: A3, D2, L-revise
        await pilot.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, ScenarioDetail)
        text = "\n".join(str(w.render()) for w in screen.query("Static"))
        assert "D2" in text and "expect_same_namespace" in text and "2 run(s) (plan, plan_revise)" in text


async def test_coverage_view_lists_every_catalogue_label() -> None:
    app = _app("coverage", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        await pilot.press("2", "c")
        screen = app.screen
        assert isinstance(screen, CoverageView)
        labels = {row.label for row in screen.rows}
        assert labels == set(load_plan(None).labels)
        # "[ai-model-gpt-5.4]" is a label, shown as written (as markup it would render empty)
        table = screen.query_one(DataTable)
        shown = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert all(isinstance(cell, Text) for cell in shown)
        assert "[ai-model-gpt-5.4]" in [cell.plain for cell in shown]
        assert all(row.status != "UNCOVERED" for row in screen.rows)


def test_snapshot_matrix_at_start(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("start", None), press=["2"], terminal_size=(100, 30), run_before=wait_for_gate)


def test_snapshot_matrix_mid_run(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app("mid", 0.4), press=["2"], terminal_size=(100, 30), run_before=wait_for_gate)


def test_snapshot_matrix_finished_with_failures(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("done", 1.0)
    assert snap_compare(app, press=["2"], terminal_size=(100, 30), run_before=wait_for_gate)


def test_snapshot_matrix_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("narrow", 1.0)
    assert snap_compare(app, press=["2"], terminal_size=(80, 24), run_before=wait_for_gate)


def test_snapshot_scenario_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("detail-snap", 1.0)
    keys = ["2", "f", "f", "down", "enter"]
    assert snap_compare(app, press=keys, terminal_size=(120, 40), run_before=wait_for_gate)


def test_snapshot_coverage_view(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("coverage-snap", 1.0)
    assert snap_compare(app, press=["2", "c"], terminal_size=(100, 30), run_before=wait_for_gate)
