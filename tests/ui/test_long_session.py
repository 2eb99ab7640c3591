"""A long session stays quick: what the app keeps does not grow with pane switches, and the start-up
heap is out of the collector's way. (The figures are in tests/bench/bench_logs_app.py.)"""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from tests.ui.support import HEALTHY, opener_for, recorded_session
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp


def _dropped_keys() -> int:
    """Footer keys no longer on any screen that something still keeps alive."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey) and not o.is_attached)


async def test_pane_switches_leave_no_footer_keys_behind() -> None:
    """Textual's footer kept every key it ever drew (Textualize/textual#6666): after an hour of pane
    switches, hundreds of thousands of dead objects for each full collection to walk."""
    app = GateRoomApp(opener_for(recorded_session("long-switches", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_gate(pilot)
        for _ in range(20):
            await pilot.press("1", "2", "3", "4", "5")
        await pilot.pause()
        assert _dropped_keys() == 0


async def test_the_start_up_heap_is_frozen_while_the_app_runs() -> None:
    app = GateRoomApp(opener_for(recorded_session("long-freeze", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_gate(pilot)
        for _ in range(100):
            if gc.get_freeze_count():
                break
            await pilot.pause(0.02)
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0  # released at unmount: tests run many apps in one process
