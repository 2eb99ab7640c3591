"""The preflight pane: grouping, the detail view, re-run intents, and snapshots (all passing, mixed
failures over several targets, a check's detail, 80x24)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

import tui.app
from backends.config import Settings, settings_from_dict
from backends.gate import Gate, open_gate
from backends.results import CheckResult, Status
from tests.ui.preflight_results import HEALTHY, MIXED, Row
from tests.ui.support import recorded_session
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.base import RerunChecks
from tui.panes.check_detail import CheckDetail

ENV_FILE = "/opt/codex-k8s/bootstrap/host/config.env"


def fleet_settings() -> Settings:
    """Two hosts (one with the env file) and GitHub: never contacted, the sessions are recorded."""
    host = {"user": "codex", "key": "/nonexistent/id_ed25519"}
    return settings_from_dict(
        {
            "hosts": [
                {"name": "prod-vps", "address": "203.0.113.10", "env_file": ENV_FILE, **host},
                {"name": "staging-vps", "address": "203.0.113.20", **host},
            ],
            "github": {"api_url": "http://127.0.0.1:9", "platform_repo": "codex-k8s/codex-k8s"},
        }
    )


def _results(rows: Iterable[Row], target: str) -> list[CheckResult]:
    out = []
    for check_id, title, status, observed, expected, reason, command, output in rows:
        area = "config" if check_id.startswith("config.") else "host"
        out.append(
            CheckResult(
                check_id,
                area,
                title,
                Status(status),
                observed,
                expected,
                target,
                command,
                output,
                reason,
                0.05,
            )
        )
    return out


def _github(status: dict[str, tuple[str, str, str, str]]) -> list[CheckResult]:
    return [
        CheckResult(cid, "github", title, Status(st), observed, "", "github", "GET /user", "", reason, 0.2)
        for cid, (title, st, observed, reason) in status.items()
    ]


GITHUB_OK = {
    "github.token": ("GitHub token valid", "PASS", "authenticated as kodex-operator", ""),
    "github.scopes": ("GitHub token permissions", "PASS", "admin:repo_hook, repo", ""),
    "github.webhook": ("Platform webhook", "PASS", "codex-k8s/codex-k8s: hook 1", ""),
    "github.labels": ("Label catalogue present", "PASS", "codex-k8s/codex-k8s: 54/54", ""),
    "github.rate-limit": ("API rate limit headroom", "PASS", "4987/5000 left", ""),
}
GITHUB_MIXED = {
    **GITHUB_OK,
    "github.labels": (
        "Label catalogue present",
        "FAIL",
        "codex-k8s/codex-k8s: 51/54",
        "codex-k8s/codex-k8s lacks run:rethink, need:km, [ai-reasoning-extra-high]",
    ),
    "github.rate-limit": (
        "API rate limit headroom",
        "WARN",
        "612/5000 left",
        "only 612/5000 left until 14:05 UTC",
    ),
}


def _unreachable(target: str) -> list[CheckResult]:
    first = CheckResult(
        "host.ssh",
        "host",
        "SSH reachable",
        Status.ERROR,
        "timeout",
        "",
        target,
        reason=f"{target}: no answer from 203.0.113.20:22 within 10s",
    )
    skipped = [
        CheckResult(cid, "host", title, Status.SKIP, target=target, reason="host not reachable")
        for cid, title, *_ in HEALTHY
        if cid.startswith("host.") and cid != "host.ssh"
    ]
    return [first, *skipped]


def healthy_results() -> list[CheckResult]:
    return (
        _results(HEALTHY, "prod-vps")
        + _results([r for r in HEALTHY if r[0].startswith("host.")], "staging-vps")
        + _github(GITHUB_OK)
    )


def mixed_results() -> list[CheckResult]:
    return _results(MIXED, "prod-vps") + _unreachable("staging-vps") + _github(GITHUB_MIXED)


def _opener(name: str, results: list[CheckResult], go: bool) -> Callable[[], Awaitable[Gate]]:
    directory = recorded_session(name, results, go=go, reasons=() if go else ("see preflight",))
    return lambda: open_gate(fleet_settings(), directory)


def _app(name: str, results: list[CheckResult], go: bool) -> GateRoomApp:
    return GateRoomApp(_opener(name, results, go), autorun=False)


def _table(app: GateRoomApp) -> DataTable:  # type: ignore[type-arg]
    return app.query_one("#preflight-table", DataTable)


async def test_rows_are_grouped_by_target_then_area() -> None:
    app = _app("pf-group", mixed_results(), go=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        table = _table(app)
        keys = [str(row.value) for row in table.rows]
        targets = [k.split("/")[0] for k in keys]
        # each target is one block, in plan order
        assert targets == sorted(targets, key=["prod-vps", "staging-vps", "github"].index)
        prod = [k for k in keys if k.startswith("prod-vps/")]
        areas = ["config" if "/config." in k else "host" for k in prod]
        assert areas == sorted(areas, key=["host", "config"].index)
        summary = str(app.query_one("#preflight-summary").render())
        assert "checks on 3 targets" in summary and "FAIL" in summary and "ERROR 1" in summary


class RecordingApp(GateRoomApp):
    """Keeps the re-run intents instead of carrying them to the engine."""

    CSS_PATH = str(Path(tui.app.__file__).parent / "app.tcss")  # relative paths resolve per module

    def __init__(self, opener: Callable[[], Awaitable[Gate]]) -> None:
        super().__init__(opener, autorun=False)
        self.intents: list[set[str] | None] = []

    def on_rerun_checks(self, message: RerunChecks) -> None:
        self.intents.append(message.keys)


async def test_enter_opens_the_detail_and_r_asks_for_a_rerun() -> None:
    app = RecordingApp(_opener("pf-detail-keys", mixed_results(), go=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        table = _table(app)
        table.focus()
        row = [str(r.value) for r in table.rows].index("prod-vps/host.k3s")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CheckDetail)
        assert app.screen.key == "prod-vps/host.k3s"
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, CheckDetail)
        await pilot.press("g")
        await pilot.press("R")
        await pilot.pause()
    seen = app.intents
    assert seen[0] == {"prod-vps/host.k3s"}
    assert seen[1] is not None and "prod-vps/host.os" in seen[1] and "prod-vps/config.values" not in seen[1]
    assert seen[2] is None


async def _open_detail(pilot: Pilot[None], key: str) -> None:
    await wait_for_gate(pilot)
    app = pilot.app
    assert isinstance(app, GateRoomApp)
    table = _table(app)
    table.focus()
    table.move_cursor(row=[str(r.value) for r in table.rows].index(key))
    await pilot.press("enter")
    await pilot.pause()


def test_snapshot_all_passing(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("pf-snap-healthy", healthy_results(), go=True)
    assert snap_compare(app, terminal_size=(140, 48), run_before=wait_for_gate)


def test_snapshot_mixed_failures(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("pf-snap-mixed", mixed_results(), go=False)
    assert snap_compare(app, terminal_size=(140, 48), run_before=wait_for_gate)


def test_snapshot_check_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("pf-snap-detail", mixed_results(), go=False)

    async def before(pilot: Pilot[None]) -> None:
        await _open_detail(pilot, "prod-vps/host.public-ports")

    assert snap_compare(app, terminal_size=(120, 36), run_before=before)


def test_snapshot_mixed_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("pf-snap-80", mixed_results(), go=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=wait_for_gate)


def test_snapshot_detail_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = _app("pf-snap-detail-80", mixed_results(), go=False)

    async def before(pilot: Pilot[None]) -> None:
        await _open_detail(pilot, "prod-vps/host.tls")

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_fixture_rows_cover_every_planned_check(tmp_path: Path) -> None:
    from backends.checks.registry import REGISTRY, Scope

    recorded = {row[0] for row in HEALTHY}
    wanted = {s.check_id for s in REGISTRY.values() if s.scope in {Scope.HOST, Scope.ENV}}
    assert wanted <= recorded
    assert {s.check_id for s in REGISTRY.values() if s.area == "github"} <= set(GITHUB_OK)
