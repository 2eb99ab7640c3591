"""A served terminal's follower reads the store only when it changed, and looks less often while
nobody writes to it."""

from __future__ import annotations

from pathlib import Path

from backends.events import CheckFinished, Event
from backends.evidence.store import EvidenceStore
from backends.results import Status
from backends.serve.watch import IDLE_INTERVAL_S, open_watch_gate
from backends.session import STORE_FILE
from tests.unit.bundle_support import check, make_session


async def test_follower_backs_off_while_idle_and_reads_what_is_appended(tmp_path: Path) -> None:
    directory = tmp_path / "session"
    make_session(directory)
    gate = await open_watch_gate(directory, "viewer:SHA256:test")
    follower = gate.follower
    assert follower is not None
    await follower.aclose()  # polled by hand below, not by its own loop
    seen: list[Event] = []
    gate.bus.subscribe(seen.append)
    try:
        await follower.poll()  # the first look notes the file as it is
        base = follower.base_interval
        intervals = []
        for _ in range(6):
            await follower.poll()
            intervals.append(follower.interval)
        assert intervals[0] == min(2 * base, IDLE_INTERVAL_S)
        assert intervals == sorted(intervals) and intervals[-1] == IDLE_INTERVAL_S
        assert not seen

        operator = EvidenceStore(directory / STORE_FILE)
        operator.record_event(
            CheckFinished(check("host.os", Status.PASS, "Ubuntu 24.04.2 LTS", "Ubuntu 24.04"))
        )
        operator.flush()
        await follower.poll()
        assert follower.interval == base
        assert [e.result.observed for e in seen if isinstance(e, CheckFinished)] == ["Ubuntu 24.04.2 LTS"]
        assert gate.session.state.checks["prod-vps/host.os"].observed == "Ubuntu 24.04.2 LTS"
    finally:
        await gate.aclose()
