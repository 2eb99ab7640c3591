# ruff: noqa: E501 - realistic log lines are long
"""The logs pane: snapshots of the merged, filtered, searched and gap views, and its keys.

The content is fixed (times from 2026-11-24T06:00:00Z, fixed texts) and fed straight into the gate's
log pipeline, so every snapshot is deterministic; no source is started (the settings name none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from backends.config import LogsSettings, Settings
from backends.events import LogExcerpt
from backends.evidence.logfiles import LogFiles, LogRef
from backends.gate import Gate, open_gate
from backends.logs.pipeline import LogPipeline
from backends.logs.record import GAP, NOTE, SOURCE, TEXT, level_of
from backends.logs.source import Chunk, Mark
from tests.ui.support import HEALTHY, fixed_settings, recorded_session
from tests.ui.test_app import wait_for_gate
from tests.unit.redaction_corpus import LOOKALIKES, SECRETS
from tests.unit.test_logs_corpus import SECRET_STREAM, feed_corpus, secret_values
from tui.app import GateRoomApp
from tui.panes.logs import LogLinesView, LogsPane, ShowLogs

T0 = 1_795_500_000.0  # 2026-11-24T06:00:00Z

K3S = "prod-vps:k3s"
SSH = "prod-vps:ssh"
WORKER = "kodex-prod/kodex-worker-5f7d9c6b8-x2x7q"
AGENT = "codex-issue-128/agent-run-4f2a1"


def demo_lines(pipeline: LogPipeline) -> None:
    """Four streams over one minute: the journal of k3s and sshd, the worker, an agent pod; one drop."""
    for i in range(40):
        t = T0 + i * 1.5
        klog = f"1124 06:{int(t - T0) // 60:02d}:{int(t - T0) % 60:02d}"
        if i % 3 == 0:
            pipeline.ingest(
                Chunk(
                    K3S,
                    [
                        f'I{klog}.120000    2211 controller.go:132] "Successfully synced" key="kodex-prod/kodex-worker"'
                    ],
                    t,
                    ["info"],
                )
            )
        if i % 5 == 1:
            pipeline.ingest(
                Chunk(
                    K3S,
                    [
                        f'W{klog}.220000    2211 reflector.go:561] watch of *v1.PartialObjectMetadata ended with: an error on the server ("unable to decode an event from the watch stream: context canceled")'
                    ],
                    t + 0.1,
                    ["warn"],
                )
            )
        if i % 4 == 2:
            level = "error" if i % 12 == 10 else "info"
            msg = (
                "run namespace lease extended"
                if level == "info"
                else "lease extension failed: namespace not found"
            )
            pipeline.ingest(
                Chunk(
                    WORKER,
                    [
                        f'{{"ts":"2026-11-24T06:00:{i:02d}Z","level":"{level}","logger":"worker","msg":"{msg}","namespace":"codex-issue-128","run_id":"r-7c1{i:02d}"}}'
                    ],
                    t + 0.2,
                )
            )
        if i % 2 == 1:
            pipeline.ingest(
                Chunk(
                    AGENT,
                    [
                        f"codex> run_status_report: phase=implementation progress={i * 2}% next=open pull request"
                    ],
                    t + 0.3,
                )
            )
        if i == 12:
            pipeline.ingest(
                Chunk(
                    SSH,
                    [
                        "Accepted publickey for codex from 198.51.100.7 port 53122 ssh2: ED25519 SHA256:Qm9vZ2xlIGlzIG5vdCBhIGtleQ"
                    ],
                    t + 0.4,
                    ["info"],
                )
            )
        if i == 20:
            pipeline.ingest(
                Mark(K3S, NOTE, "reconnecting (attempt 1): prod-vps: SSH connection dropped (ConnectionLost)")
            )
            pipeline.ingest(
                Mark(SSH, NOTE, "reconnecting (attempt 1): prod-vps: SSH connection dropped (ConnectionLost)")
            )
        if i == 23:
            pipeline.ingest(
                Mark(
                    K3S,
                    GAP,
                    "connection lost for 4.2 s; resumed after the last entry seen (journal cursor): nothing the journal still holds is lost or repeated",
                )
            )
            pipeline.ingest(
                Mark(
                    SSH,
                    GAP,
                    "connection lost for 4.2 s; resumed after the last entry seen (journal cursor): nothing the journal still holds is lost or repeated",
                )
            )
    pipeline.flush()


Feeder = Callable[[LogPipeline], None]


def logs_opener(
    name: str, feed: Feeder = demo_lines, settings: Settings | None = None
) -> Callable[[], Awaitable[Gate]]:
    directory = recorded_session(name, HEALTHY, go=True)

    async def open_() -> Gate:
        gate = await open_gate(settings or fixed_settings(), directory)
        assert gate.logs is not None
        feed(gate.logs.pipeline)
        return gate

    return open_


def logs_app(name: str, feed: Feeder = demo_lines, settings: Settings | None = None) -> GateRoomApp:
    return GateRoomApp(logs_opener(name, feed, settings), autorun=False)


async def on_logs(pilot: Pilot[None]) -> None:
    await wait_for_gate(pilot)
    await pilot.press("3")
    await pilot.pause(0.15)


def pane(app: GateRoomApp) -> LogsPane:
    return app.query_one(LogsPane)


# -- snapshots -----------------------------------------------------------------------------------
def test_snapshot_merged_view_of_several_sources(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(logs_app("logs-merged"), terminal_size=(120, 34), run_before=on_logs)


def test_snapshot_filtered_view(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await on_logs(pilot)
        await pilot.press("f", *"level:warn", "enter")
        await pilot.pause(0.15)

    assert snap_compare(logs_app("logs-filtered"), terminal_size=(120, 34), run_before=run_before)


def test_snapshot_search_hits(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await on_logs(pilot)
        await pilot.press("slash", *"synced", "enter", "N", "N")
        await pilot.pause(0.15)

    assert snap_compare(logs_app("logs-search"), terminal_size=(120, 34), run_before=run_before)


def test_snapshot_gap_marker_in_the_journal_stream(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = logs_app("logs-gap")

    async def pick_k3s(pilot: Pilot[None]) -> None:
        await on_logs(pilot)
        for _ in range(6):  # s cycles merged → each stream (sorted by name)
            if pane(app).view is not None and pane(app).view.filter.exact_source == K3S:  # type: ignore[union-attr]
                break
            await pilot.press("s")
        await pilot.press("w")  # wrap: the whole gap message is readable
        await pilot.press("t", "ctrl+a", "ctrl+k", *"06:00:33", "enter")  # just after the drop
        await pilot.pause(0.15)

    assert snap_compare(app, terminal_size=(100, 30), run_before=pick_k3s)


# -- behaviour ----------------------------------------------------------------------------------------
async def test_pause_keeps_the_screen_still_and_end_follows_again() -> None:
    app = logs_app("logs-pause")
    async with app.run_test(size=(100, 30)) as pilot:
        await on_logs(pilot)
        lines = app.query_one(LogLinesView)
        assert lines.cursor is None  # following
        await pilot.press("up", "up")
        cursor = lines.cursor
        assert cursor is not None
        assert app.gate is not None and app.gate.logs is not None
        for i in range(50):
            app.gate.logs.pipeline.ingest(Chunk(AGENT, [f"codex> later line {i}"], T0 + 100 + i))
        app.gate.logs.pipeline.flush()
        await pilot.pause(0.15)
        assert lines.cursor == cursor  # new lines arrived below; the screen did not move
        await pilot.press("end")
        await pilot.pause(0.15)
        assert lines.cursor is None
        view = pane(app).view
        assert view is not None and view.rows[-1][TEXT] == "codex> later line 49"


async def test_copy_a_range_into_evidence(tmp_path: Path) -> None:
    app = logs_app("logs-copy")
    async with app.run_test(size=(100, 30)) as pilot:
        await on_logs(pilot)
        await pilot.press("up", "v", "up", "up", "c")
        await pilot.pause(0.05)
        await pilot.press("ctrl+a", "ctrl+k", *"scenario:A1", "enter")
        await pilot.pause(0.3)
        gate = app.gate
        assert gate is not None
        gate.session.store.flush()
        records = [r for r in gate.session.store.records() if r["kind"] == LogExcerpt.kind]
        assert len(records) == 1
        payload = records[0]["payload"]
        assert payload["attach_to"] == "scenario:A1" and payload["lines"] == 3
        data = LogFiles(gate.session.dir).read(
            LogRef(payload["file"], payload["start"], payload["end"], payload["sha256"])
        )
        assert len(data.decode().splitlines()) == 3


async def test_show_logs_prefilters_the_pane() -> None:
    app = logs_app("logs-show")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        app.post_message(ShowLogs("level:error", stream=WORKER, attach_to="check:prod-vps/host.os"))
        await pilot.pause(0.2)
        view = pane(app).view
        assert view is not None and view.rows
        assert all(r[SOURCE] == WORKER and level_of(r) == "error" for r in view.rows)
        assert pane(app).current_target() == "check:prod-vps/host.os"


def _many_lines(pipeline: LogPipeline) -> None:
    for i in range(3000):
        pipeline.ingest(Chunk(AGENT, [f"codex> line {i:04d}"], T0 + i))
        if i % 500 == 0:
            pipeline.flush()
    pipeline.flush()


async def test_scrolling_back_beyond_the_ring_reads_the_files() -> None:
    settings = fixed_settings().model_copy(update={"logs": LogsSettings(ring_lines=1000)})
    app = logs_app("logs-scrollback", _many_lines, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_logs(pilot)
        view = pane(app).view
        assert view is not None and len(view.rows) == 1000 and view.rows[0][TEXT] == "codex> line 2000"
        for _ in range(8):
            await pilot.press("home")
        assert view.rows[0][TEXT] == "codex> line 0000"
        await pilot.press("t", "ctrl+a", "ctrl+k", *"06:25:00", "enter")  # T0 + 1500 s
        await pilot.pause(0.1)
        lines = app.query_one(LogLinesView)
        index = lines.cursor_index()
        assert index is not None and view.rows[index][TEXT] == "codex> line 1500"


# -- the redaction corpus on screen ----------------------------------------------------------------
def test_snapshot_corpus_secrets_are_redacted_on_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Every secret shape of the corpus, as the agent's stream shows it (wrapped: nothing cut off)."""
    app = logs_app("logs-corpus", feed_corpus)

    async def secret_stream(pilot: Pilot[None]) -> None:
        await on_logs(pilot)
        for _ in range(4):
            view = pane(app).view
            if view is not None and view.filter.exact_source == SECRET_STREAM:
                break
            await pilot.press("s")
        await pilot.press("w", "home")
        await pilot.pause(0.15)

    assert snap_compare(app, terminal_size=(150, 82), run_before=secret_stream)


async def test_no_corpus_secret_reaches_any_rendered_line() -> None:
    app = logs_app("logs-corpus-scan", feed_corpus)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_logs(pilot)
        await pilot.press("w")
        lines = app.query_one(LogLinesView)
        view = pane(app).view
        assert view is not None and len(view.rows) > len(SECRETS)
        avail = lines.size.width - lines._prefix_width()
        screen = "\n".join(
            lines._prefix_strip(record, lines._prefix_width()).text
            + "".join(s.text for s in lines._body(record, avail))
            for record in view.rows
        )
        assert "[REDACTED:" in screen
        assert not [value for value in secret_values() if value in screen]
        for clean in LOOKALIKES:
            assert clean.replace("\n", "")[:40] in screen.replace("\n", "") or len(clean) > avail
