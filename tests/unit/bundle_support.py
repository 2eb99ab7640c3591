"""A recorded session with every kind of evidence a bundle carries, written through the real store."""

from __future__ import annotations

from pathlib import Path

from backends.events import (
    CheckFinished,
    Event,
    LogExcerpt,
    ScenarioFinished,
    SessionOpened,
    VerdictChanged,
    Waived,
)
from backends.evidence.logfiles import LogFiles
from backends.evidence.store import EvidenceStore
from backends.results import CheckResult, Status
from backends.session import STORE_FILE

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC: fixed so reports are byte-stable


def check(check_id: str, status: Status, observed: str, expected: str, reason: str = "") -> CheckResult:
    area = check_id.split(".")[0]
    return CheckResult(check_id, area, check_id, status, observed, expected, "prod-vps", reason=reason)


def gate_events(session_dir: Path, *, go: bool = True) -> list[Event]:
    logs = LogFiles(session_dir)
    lines = [
        "2026-01-01T00:01:02Z pod/kodex-worker-7 INFO run 41 picked up issue #12",
        "2026-01-01T00:01:03Z pod/kodex-worker-7 INFO using KODEX_GITHUB_PAT=[REDACTED:env-secret]",
        "2026-01-01T00:01:09Z pod/kodex-worker-7 INFO run 41 finished: label run:done added",
    ]
    ref = logs.append("excerpts", lines)
    logs.close()
    events: list[Event] = [
        SessionOpened("5e55100abcde", "codex@203.0.113.10:22", "codex-k8s MVP e2e regression gate"),
        CheckFinished(check("host.os", Status.PASS, "Ubuntu 24.04.1 LTS", "Ubuntu 24.04")),
        CheckFinished(check("host.memory", Status.FAIL, "6.0 GiB", ">= 8 GiB", "6.0 GiB RAM, need 8 GiB")),
        CheckFinished(check("host.memory", Status.PASS, "32.0 GiB", ">= 8 GiB")),
        CheckFinished(
            check("config.required-keys", Status.WARN, "15/15 set", "all set", "KODEX_OPENAI_API_KEY empty")
        ),
        CheckFinished(check("rbac.prod-namespace", Status.PASS, "no cluster-admin", "least privilege")),
        ScenarioFinished("A1", "PASS", "P0", "Label run:dev starts a dev run", duration_s=41.2),
        ScenarioFinished("B2", "FAIL", "P1", "Review comment reaches the agent", "no comment within 120s"),
        Waived("B2", "known flake in the sandbox webhook relay; tracked as #88", "owner@laptop"),
        LogExcerpt("scenario:A1", ref.file, ref.start, ref.end, ref.sha256, 3, T0 + 62, T0 + 69, ("pods",)),
        VerdictChanged(go, () if go else ("scenario C3 (P0) FAIL: namespace not created",)),
    ]
    return events


def recorded(session_dir: Path, events: list[Event]) -> EvidenceStore:
    store = EvidenceStore(session_dir / STORE_FILE)
    for i, event in enumerate(events):
        store.append(event.kind, event.to_payload())
        store._pending[-1] = (T0 + i, *store._pending[-1][1:])  # a fixed clock keeps reports stable
    store.flush()
    return store


def make_session(session_dir: Path, *, go: bool = True) -> EvidenceStore:
    session_dir.mkdir(parents=True, exist_ok=True)
    return recorded(session_dir, gate_events(session_dir, go=go))
