"""Deterministic gates for UI tests: a session recorded beforehand, a target that is never contacted."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from textual.app import App

from backends.config import Settings, settings_from_dict
from backends.events import CheckFinished, Event, SessionOpened, VerdictChanged, event_from_record
from backends.evidence.store import EvidenceStore
from backends.gate import Gate, open_gate
from backends.results import CheckResult, Status
from backends.session import STORE_FILE

SNAP_ROOT = Path("/tmp/gateroom-ui-tests")
RECORDED_AT = 1_795_500_000.0  # 2026-11-24, when the recordings were made
#: the recorded scenario events' times start here (after the checks a recorded session holds)
SCENARIOS_AT = RECORDED_AT + 7


def fixed_settings() -> Settings:
    return settings_from_dict(
        {
            "hosts": [
                {
                    "name": "prod-vps",
                    "address": "203.0.113.10",
                    "user": "codex",
                    "key": "/nonexistent/id_ed25519",
                    "env_file": "/opt/codex-k8s/bootstrap/host/config.env",
                }
            ]
        }
    )


def result(
    check_id: str, title: str, status: Status, observed: str = "", expected: str = "", reason: str = ""
) -> CheckResult:
    area = "config" if check_id.startswith("config.") else "host"
    return CheckResult(check_id, area, title, status, observed, expected, "prod-vps", reason=reason)


HEALTHY = [
    result("host.ssh", "SSH reachable", Status.PASS, "codex@203.0.113.10:22", "key login, known host key"),
    result("host.os", "OS is Ubuntu 24.04", Status.PASS, "Ubuntu 24.04.1 LTS", "Ubuntu 24.04"),
    result("host.cpu", "CPU count", Status.PASS, "8 CPUs", ">= 4"),
    result("host.memory", "Memory", Status.PASS, "32.0 GiB", ">= 8 GiB"),
    result("host.disk", "Free disk", Status.PASS, "/ 150 GiB free", ">= 40 GiB free"),
    result(
        "config.required-keys",
        "Bootstrap env: required keys",
        Status.PASS,
        "15/15 set",
        "all 15 required keys set",
    ),
]

MIXED = [
    HEALTHY[0],
    result(
        "host.os",
        "OS is Ubuntu 24.04",
        Status.FAIL,
        "Debian GNU/Linux 12 (bookworm)",
        "Ubuntu 24.04",
        "Debian GNU/Linux 12 (bookworm), expected Ubuntu 24.04",
    ),
    HEALTHY[2],
    result("host.memory", "Memory", Status.FAIL, "2.0 GiB", ">= 8 GiB", "2.0 GiB RAM, need at least 8 GiB"),
    HEALTHY[4],
    result(
        "config.required-keys",
        "Bootstrap env: required keys",
        Status.WARN,
        "15/15 set",
        "all 15 required keys set",
        "KODEX_OPENAI_API_KEY is empty (the platform warns too)",
    ),
]


def scenario_events(fraction: float = 1.0) -> list[Event]:
    """Scenario events recorded from a sandbox gate run with two platform faults (three scenarios
    fail; tests/ui/record_fixtures.py); `fraction` keeps the first part, as the matrix looks mid-run."""
    records = json.loads((Path(__file__).parent / "scenario_events.json").read_text())
    events = [event_from_record(kind, payload) for kind, payload, *_ in records]
    kept = [e for e in events if e is not None]
    return kept[: int(len(kept) * fraction)]


def recorded_session(
    name: str,
    results: Iterable[CheckResult],
    *,
    go: bool | None,
    reasons: tuple[str, ...] = (),
    extra: Iterable[Event] = (),
) -> Path:
    directory = SNAP_ROOT / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    store = EvidenceStore(directory / STORE_FILE)
    events: list[Event] = [
        SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "codex-k8s MVP e2e regression gate")
    ]
    events += [CheckFinished(r) for r in results]
    events += list(extra)
    if go is not None:
        events.append(VerdictChanged(go, reasons))
    # fixed times: the chain head (shown on the sign-off) is then the same on every run
    for index, event in enumerate(events):
        store.record_event(event, ts=RECORDED_AT + index)
    store.flush()
    return directory


def opener_for(
    directory: Path,
    settings: Settings | None = None,
    *,
    operator: str = "local:operator",
    feed: Callable[[Gate], None] | None = None,
) -> Callable[[], Awaitable[Gate]]:
    """Opens the recorded session as the app would; `feed` may push log lines into the opened gate."""
    ticks = itertools.count(RECORDED_AT + 10_000)  # what the app records: fixed times, fixed hashes

    async def opener() -> Gate:
        gate = await open_gate(settings or fixed_settings(), directory, clock=lambda: float(next(ticks)))
        gate.operator = operator  # not whoever runs the tests: the screen shows it
        if feed is not None:
            feed(gate)
        return gate

    return opener


def screen_lines(app: App[object]) -> list[str]:
    """The characters on the app's screen now, line by line (modals and toasts included)."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


def terminal_output(app: App[object]) -> str:
    """What a full redraw of the screen sends to the terminal."""
    return app.screen._compositor.render_update(full=True).render_segments(app.console)


#: what the app itself writes: cursor moves and colours (SGR)
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")
#: characters a terminal acts on instead of showing: C0 but newline, DEL, C1
TERMINAL_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def raw_controls(output: str) -> list[str]:
    """Control characters in terminal output that the app did not write as its own sequences."""
    return TERMINAL_CONTROLS.findall(OWN_SEQUENCES.sub("", output))
