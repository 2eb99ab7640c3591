"""No security or reliability check passes having examined nothing.

Two worlds where the checks' subjects are absent: the sandbox with a platform that never hears a
webhook (so no run, no run namespace, no agent pod, no run-status comment, no approval ever appears),
and adapters over a GitHub, a cluster and a staff API with nothing in them. A check may FAIL, ERROR,
SKIP or WARN there, with a one-line reason; it may not PASS. The lease judgement of sec.sweep, which
once passed on namespaces it had not read, is pinned down on its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from backends.checks import probe_runs
from backends.checks.registry import REGISTRY, CheckContext, Outcome
from backends.checks.security_reliability import NOTHING_TO_EXAMINE, judge_standing
from backends.cluster_models import Access, Namespace
from backends.config import Settings, settings_from_dict
from backends.gate import open_demo_gate
from backends.results import CheckResult, Status
from backends.signals import kodex
from backends.signoff import pane_of

SECURITY_IDS = {cid for cid, spec in REGISTRY.items() if pane_of(spec.area) == "security"}
#: checks about what the platform's runs leave behind: runs, run namespaces, agent pods, comments,
#: approvals, flow events
RUN_SUBJECTS = {
    "sec.mcp-approval",
    "sec.bot-trigger",
    "sec.idempotency",
    "sec.retry",
    "sec.sweep",
    "sec.waiting-mcp",
    "sec.secret-env",
    "sec.leaks-logs",
    "sec.leaks-comments",
    "sec.rbac-agents",
    "sec.netpol",
}
#: checks about what stands without any run (branch protection, bindings, the gate's own access,
#: the production namespace's objects): in the sandbox their subject exists even when no run does
STANDING_SUBJECTS = {
    "sec.branch-protection",
    "sec.operator-access",
    "sec.rbac-cluster-admin",
    "sec.leaks-cluster",
}


def test_every_security_check_is_classified() -> None:
    assert RUN_SUBJECTS | STANDING_SUBJECTS == SECURITY_IDS
    assert not RUN_SUBJECTS & STANDING_SUBJECTS


# -- the sandbox whose platform never runs -----------------------------------------------------------
@pytest.fixture(scope="module")
def silent_platform(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckResult]:
    async def run() -> dict[str, CheckResult]:
        gate = await open_demo_gate(tmp_path_factory.mktemp("silent"), ["github.webhook-missing"])
        try:
            await gate.engine.run_checks()
            return {r.check_id: r for r in gate.session.state.checks.values() if r.check_id in SECURITY_IDS}
        finally:
            await gate.aclose()

    return asyncio.run(run())


def test_no_run_means_no_pass(silent_platform: dict[str, CheckResult]) -> None:
    assert set(silent_platform) == SECURITY_IDS
    passing = {
        cid: r.observed
        for cid, r in silent_platform.items()
        if cid in RUN_SUBJECTS and r.status is Status.PASS
    }
    assert passing == {}
    for cid in RUN_SUBJECTS:
        reason = silent_platform[cid].reason
        assert reason and "\n" not in reason, (cid, reason)


# -- a GitHub, a cluster and a staff API with nothing in them ---------------------------------------
@dataclass
class EmptyGitHub:
    """Accepts issues and labels; nobody ever answers."""

    issues: int = 0
    labels: dict[int, list[str]] = field(default_factory=dict)

    async def connect(self) -> None: ...

    async def create_issue(self, repo: str, title: str, body: str) -> tuple[int, str]:
        self.issues += 1
        return self.issues, f"https://github.example/{repo}/issues/{self.issues}"

    async def issue_labels(self, repo: str, number: int) -> list[str]:
        return list(self.labels.get(number, []))

    async def add_label(self, repo: str, number: int, label: str) -> bool:
        self.labels.setdefault(number, []).append(label)
        return True

    async def remove_label(self, repo: str, number: int, label: str) -> bool:
        return True

    async def comments(self, repo: str, number: int) -> list[Any]:
        return []

    async def label_events(self, repo: str, number: int) -> list[Any]:
        return []

    async def hooks(self, repo: str) -> list[Any]:
        return []

    async def branch_protection(self, repo: str) -> Any:
        return None

    async def comment_leaks(self, repo: str, scan: Any) -> list[Any]:
        return []


class EmptyCluster:
    redactor = None

    async def connect(self) -> None: ...

    async def namespaces(self, label_selector: str = "") -> list[Namespace]:
        return []

    async def pods(self, namespace: str, label_selector: str | None = "") -> list[Any]:
        return []

    async def events(self, namespace: str) -> list[Any]:
        return []

    async def config_maps(self, namespace: str) -> list[Any]:
        return []

    async def network_policies(self, namespace: str) -> list[Any]:
        return []

    async def cluster_role_bindings(self) -> list[Any]:
        return []

    async def event_leaks(self, namespace: str, scan: Any) -> list[Any]:
        return []

    async def config_map_leaks(self, namespace: str, scan: Any) -> list[Any]:
        return []

    async def plain_env_leaks(self, namespace: str, scan: Any) -> list[Any]:
        return []

    async def pod_log_leaks(self, namespace: str, pod: Any, scan: Any) -> list[Any]:
        return []

    async def can(self, user: str, verb: str, resource: str, namespace: str, group: str = "") -> Access:
        return Access(False, "no such account")

    async def can_i(self, verb: str, resource: str, namespace: str, group: str = "") -> Access:
        return Access(False, "")


class EmptyPlatform:
    async def approvals(self, *, run_id: str | None = None, limit: int | None = None) -> list[Any]:
        return []

    async def run_events(self, run_id: str, limit: int | None = None) -> list[Any]:
        return []


def _settings() -> Settings:
    return settings_from_dict(
        {
            "hosts": [{"name": "empty", "address": "127.0.0.1"}],
            "github": {"platform_repo": "example/platform"},
            "cluster": {},
            "platform": {"api_url": "https://platform.example"},
            "timing": {"scale": 0.0001},
        }
    )


def test_nothing_to_examine_is_never_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_runs, "STEP_WITHIN_S", 0.3)
    ctx = CheckContext(_settings(), github=EmptyGitHub(), cluster=EmptyCluster(), platform=EmptyPlatform())

    async def run() -> dict[str, Outcome]:
        ids = sorted(SECURITY_IDS)
        outcomes = await asyncio.gather(*(REGISTRY[cid].fn(ctx) for cid in ids))
        return dict(zip(ids, outcomes, strict=True))

    outcomes = asyncio.run(run())
    assert {cid: o.observed for cid, o in outcomes.items() if o.status is Status.PASS} == {}
    for cid, outcome in outcomes.items():
        assert outcome.reason and "\n" not in outcome.reason, (cid, outcome)
    # nothing to look at is said as such, not dressed up as a finding
    assert outcomes["sec.secret-env"].status is Status.SKIP
    assert outcomes["sec.leaks-cluster"].status is Status.SKIP
    assert outcomes["sec.rbac-cluster-admin"].status is Status.SKIP


# -- sec.sweep's judgement of standing namespaces ----------------------------------------------------
class Standing(EmptyCluster):
    def __init__(self, *spaces: Namespace) -> None:
        self.spaces = list(spaces)

    async def namespaces(self, label_selector: str = "") -> list[Namespace]:
        return self.spaces


RUN_LABELS = {kodex.MANAGED_BY: kodex.MANAGED_BY_WORKER, kodex.PURPOSE: kodex.PURPOSE_RUN}


def _ns(name: str, **annotations: str) -> Namespace:
    return Namespace(name, dict(RUN_LABELS), annotations, "Active")


def _ago(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _judge(*spaces: Namespace) -> Outcome:
    ctx = CheckContext(_settings(), cluster=Standing(*spaces))
    return asyncio.run(judge_standing(ctx, "expected", "command"))


def test_no_run_namespace_is_a_skip() -> None:
    outcome = _judge()
    assert outcome.status is Status.SKIP and outcome.reason.startswith(NOTHING_TO_EXAMINE)


def test_a_lease_under_another_key_is_not_read_as_a_lease() -> None:
    # the key the gate once read: the platform writes kodex.works/namespace-lease-expires-at
    outcome = _judge(_ns("codex-issue-a-i1-r1", **{"kodex.works/lease-expires-at": _ago(48)}))
    assert outcome.status is Status.SKIP and outcome.reason.startswith(NOTHING_TO_EXAMINE)


def test_a_namespace_long_past_its_lease_fails() -> None:
    outcome = _judge(
        _ns("codex-issue-a-i1-r1", **{kodex.LEASE_EXPIRES_AT: _ago(-20)}),
        _ns("codex-issue-a-i2-r2", **{kodex.LEASE_EXPIRES_AT: _ago(3)}),
    )
    assert outcome.status is Status.FAIL and "codex-issue-a-i2-r2" in outcome.reason


def test_leases_in_the_future_pass_having_been_read() -> None:
    outcome = _judge(_ns("codex-issue-a-i1-r1", **{kodex.LEASE_EXPIRES_AT: _ago(-20)}))
    assert outcome.status is Status.PASS and "1 run namespace(s) with a lease examined" in outcome.observed


# -- a marker that cannot be read is said, not skipped ------------------------------------------------
@dataclass(frozen=True)
class Said:
    id: int
    body: str
    updated_at: str = ""


class Garbled(EmptyGitHub):
    async def comments(self, repo: str, number: int) -> list[Any]:
        return (
            [Said(7, '### Run\n\n<!-- kodex:run-status {"run_id":"r1","phase": -->')] if self.issues else []
        )


def test_a_malformed_marker_ends_the_probe_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_runs, "STEP_WITHIN_S", 5.0)
    ctx = CheckContext(_settings(), github=Garbled(), cluster=EmptyCluster(), platform=EmptyPlatform())
    with pytest.raises(probe_runs.ProbeFailed) as caught:
        asyncio.run(probe_runs.start(ctx, "malformed marker"))
    message = str(caught.value)
    assert "comment 7" in message and "not JSON" in message and "\n" not in message
