"""Deterministic gates for UI tests: a session recorded beforehand, a target that is never contacted."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from backends.config import Settings, settings_from_dict
from backends.events import CheckFinished, Event, SessionOpened, VerdictChanged
from backends.evidence.store import EvidenceStore
from backends.gate import Gate, open_gate
from backends.results import CheckResult, Status
from backends.session import STORE_FILE

SNAP_ROOT = Path("/tmp/gateroom-ui-tests")


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


def recorded_session(
    name: str, results: Iterable[CheckResult], *, go: bool | None, reasons: tuple[str, ...] = ()
) -> Path:
    directory = SNAP_ROOT / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    store = EvidenceStore(directory / STORE_FILE)
    events: list[Event] = [
        SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "codex-k8s MVP e2e regression gate")
    ]
    events += [CheckFinished(r) for r in results]
    if go is not None:
        events.append(VerdictChanged(go, reasons))
    for event in events:
        store.record_event(event)
    store.flush()
    return directory


def opener_for(directory: Path) -> Callable[[], Awaitable[Gate]]:
    return lambda: open_gate(fixed_settings(), directory)
