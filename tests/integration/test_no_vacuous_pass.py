"""No security or reliability check passes having examined nothing.

Two sandbox worlds where the checks' subjects are absent, reached through the real adapters over the
network: one whose platform never hears a webhook (so no run, no run namespace, no agent pod, no
run-status comment, no approval ever appears), and an empty one (a cluster with nothing in it, read as
k3s's admin; repositories without webhook or branch protection; no platform at all). A check may
FAIL, ERROR, SKIP or WARN there, with a one-line reason; it may not PASS. The lease judgement of
sec.sweep, which once passed on namespaces it had not read, is pinned down on its own, on namespaces
put into the empty cluster.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from backends.checks import probe_runs
from backends.checks.registry import REGISTRY, CheckContext, Outcome
from backends.checks.security_reliability import NOTHING_TO_EXAMINE, judge_standing
from backends.cluster import ClusterAdapter
from backends.config import settings_from_dict
from backends.gate import Gate, open_demo_gate, open_gate
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.results import CheckResult, Status
from backends.sandbox.platform import BOT
from backends.sandbox.world import PLATFORM_REPO, SandboxWorld
from backends.signals import kodex
from backends.signoff import pane_of

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first

SECURITY_IDS = {cid for cid, spec in REGISTRY.items() if pane_of(spec.area) == "security"}
SECURITY_KEYS = {f"{REGISTRY[cid].area}/{cid}" for cid in SECURITY_IDS}
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
#: the gate's own credentials: the one subject every world has, an empty one too
OWN_ACCESS = {"sec.operator-access"}
#: the probes' waits are `[timing] scale` times a real run's length, at least probe_runs.STEP_WITHIN_S:
#: a scale this small leaves the floor, since in the empty world nothing ever answers
EMPTY_SCALE = 0.0001


def test_every_security_check_is_classified() -> None:
    assert RUN_SUBJECTS | STANDING_SUBJECTS == SECURITY_IDS
    assert not RUN_SUBJECTS & STANDING_SUBJECTS


@asynccontextmanager
async def empty_world() -> AsyncIterator[SandboxWorld]:
    world = SandboxWorld.create(empty=True)
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def _security_results(gate: Gate) -> dict[str, CheckResult]:
    try:
        await gate.engine.run_checks(only=SECURITY_KEYS)
        return {r.check_id: r for r in gate.session.state.checks.values() if r.check_id in SECURITY_IDS}
    finally:
        await gate.aclose()


async def _silent(session: Path) -> dict[str, CheckResult]:
    return await _security_results(await open_demo_gate(session, ["github.webhook-missing"]))


async def _empty(session: Path) -> dict[str, CheckResult]:
    world = SandboxWorld.create(empty=True)
    await world.start()
    try:
        data = world.settings_dict()
        data["timing"] = {"scale": EMPTY_SCALE}
        gate = await open_gate(
            settings_from_dict(data),
            session,
            world=world,
            secrets=world.secret_values.values(),
            github_token=world.github_token,
            platform_token=world.staff_token,
        )
    except BaseException:
        await world.stop()
        raise
    return await _security_results(gate)  # closing the gate stops its world


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, CheckResult]]:
    """Both worlds side by side: their probes spend their time waiting for answers that never come."""
    root = tmp_path_factory.mktemp("nothing")

    async def both() -> list[dict[str, CheckResult]]:
        return await asyncio.gather(_silent(root / "silent"), _empty(root / "empty"))

    silent, empty = asyncio.run(both())
    return {"silent": silent, "empty": empty}


# -- the sandbox whose platform never runs -----------------------------------------------------------
def test_no_run_means_no_pass(worlds: dict[str, dict[str, CheckResult]]) -> None:
    silent = worlds["silent"]
    assert set(silent) == SECURITY_IDS
    passing = {
        cid: r.observed for cid, r in silent.items() if cid in RUN_SUBJECTS and r.status is Status.PASS
    }
    assert passing == {}
    for cid in RUN_SUBJECTS:
        reason = silent[cid].reason
        assert reason and "\n" not in reason, (cid, reason)


# -- a cluster, a GitHub and a staff API with nothing in them ---------------------------------------
def test_nothing_to_examine_is_never_a_pass(worlds: dict[str, dict[str, CheckResult]]) -> None:
    empty = worlds["empty"]
    assert set(empty) == SECURITY_IDS
    passing = {
        cid: r.observed for cid, r in empty.items() if r.status is Status.PASS and cid not in OWN_ACCESS
    }
    assert passing == {}
    for cid, result in empty.items():
        if cid not in OWN_ACCESS:
            assert result.status is not Status.PASS
            assert result.reason and "\n" not in result.reason, (cid, result)
    # nothing to look at is said as such, not dressed up as a finding
    assert empty["sec.secret-env"].status is Status.SKIP
    assert empty["sec.leaks-cluster"].status is Status.SKIP
    assert empty["sec.rbac-cluster-admin"].status is Status.SKIP


# -- sec.sweep's judgement of standing namespaces ----------------------------------------------------
RUN_LABELS = {kodex.MANAGED_BY: kodex.MANAGED_BY_WORKER, kodex.PURPOSE: kodex.PURPOSE_RUN}


def _ago(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _judge(*spaces: tuple[str, dict[str, str]]) -> Outcome:
    """judge_standing over the network, on run namespaces (name, annotations) in an empty cluster."""

    async def run() -> Outcome:
        async with empty_world() as world:
            assert world.kube_state is not None
            for name, annotations in spaces:
                world.kube_state.create_namespace(name, dict(RUN_LABELS), annotations)
            settings = world.settings()
            assert settings.cluster is not None
            async with ClusterAdapter(settings.cluster, Redactor(world.secret_values.values())) as cluster:
                return await judge_standing(CheckContext(settings, cluster=cluster), "expected", "command")

    return asyncio.run(run())


def test_no_run_namespace_is_a_skip() -> None:
    outcome = _judge()
    assert outcome.status is Status.SKIP and outcome.reason.startswith(NOTHING_TO_EXAMINE)


def test_a_lease_under_another_key_is_not_read_as_a_lease() -> None:
    # the key the gate once read: the platform writes kodex.works/namespace-lease-expires-at
    outcome = _judge(("codex-issue-a-i1-r1", {"kodex.works/lease-expires-at": _ago(48)}))
    assert outcome.status is Status.SKIP and outcome.reason.startswith(NOTHING_TO_EXAMINE)


def test_a_namespace_long_past_its_lease_fails() -> None:
    outcome = _judge(
        ("codex-issue-a-i1-r1", {kodex.LEASE_EXPIRES_AT: _ago(-20)}),
        ("codex-issue-a-i2-r2", {kodex.LEASE_EXPIRES_AT: _ago(3)}),
    )
    assert outcome.status is Status.FAIL and "codex-issue-a-i2-r2" in outcome.reason


def test_leases_in_the_future_pass_having_been_read() -> None:
    outcome = _judge(("codex-issue-a-i1-r1", {kodex.LEASE_EXPIRES_AT: _ago(-20)}))
    assert outcome.status is Status.PASS and "1 run namespace(s) with a lease examined" in outcome.observed


# -- a marker that cannot be read is said, not skipped ------------------------------------------------
GARBLED = '### Run\n\n<!-- kodex:run-status {"run_id":"r1","phase": -->'


async def _probe_issue(world: SandboxWorld, probe: asyncio.Task[probe_runs.Probe]) -> int:
    """The number of the issue the probe opened, once it exists in the sandbox's GitHub."""
    assert world.github_state is not None
    issues = world.github_state.repo(PLATFORM_REPO).issues
    while not issues:
        if probe.done():
            raise AssertionError(f"the probe ended before opening an issue: {probe.result()}")
        await asyncio.sleep(0.01)
    return max(issues)


def test_a_malformed_marker_ends_the_probe_with_one_line() -> None:
    async def run() -> tuple[str, int]:
        async with empty_world() as world:
            settings = world.settings()
            assert settings.github is not None and world.github_state is not None
            redactor = Redactor(world.secret_values.values())
            github = GitHubAdapter(settings.github, redactor, token=world.github_token)
            try:
                probe = asyncio.create_task(probe_runs.start(CheckContext(settings, github=github), "marker"))
                number = await _probe_issue(world, probe)
                said = world.github_state.add_comment(PLATFORM_REPO, number, GARBLED, actor=BOT)
                with pytest.raises(probe_runs.ProbeFailed) as caught:
                    await probe
                return str(caught.value), said.id
            finally:
                await github.aclose()

    message, comment = asyncio.run(run())
    assert f"comment {comment}" in message and "not JSON" in message and "\n" not in message
