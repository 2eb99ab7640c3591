"""The security checks on the sandbox, through the real adapters: on the healthy world every one
passes but the stock finding (the agent's tokens are literal env values, as on every real install);
each security fault fails exactly the checks it names, on top of that finding, and no other check.

Every world runs the gate's checks (not the scenarios) against its own sandbox; the worlds run side
by side, started once for the module. Faults that name different checks share a world
(fault_worlds.py): a world fails exactly the union of what its faults name.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends.checks.registry import REGISTRY
from backends.gate import open_demo_gate
from backends.results import CheckResult, Status, Verdict
from backends.sandbox.faults import CATALOGUE
from backends.signoff import pane_of
from tests.integration.fault_worlds import breaks, group, label

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first

SECURITY_IDS = {cid for cid, spec in REGISTRY.items() if pane_of(spec.area) == "security"}
SECURITY_FAULTS = sorted(n for n, f in CATALOGUE.items() if set(f.breaks) & SECURITY_IDS)
OK = {Status.PASS, Status.WARN}
#: what the gate reports on a stock platform: the launcher sets the agent's tokens as literal env
#: values (libs/go/k8s/joblauncher/launcher.go buildRunContainerEnv), for the owner to fix or waive
STOCK_FINDINGS = {"sec.secret-env"}
LAUNCHER = "libs/go/k8s/joblauncher/launcher.go"
AGENT_TOKENS = (
    "KODEX_MCP_BEARER_TOKEN",
    "KODEX_OPENAI_API_KEY",
    "KODEX_CONTEXT7_API_KEY",
    "KODEX_GIT_BOT_TOKEN",
)

#: the healthy world, then the faults shared out over a few worlds
HEALTHY: tuple[str, ...] = ()
#: sweeps-active deletes a live run's namespace, which other checks read: it gets a world of its own
WORLDS = group(SECURITY_FAULTS, 4, alone=frozenset({"platform.sweeps-active"}))
WORLD_OF = {fault: world for world in WORLDS for fault in world}

Outcome = tuple[dict[str, CheckResult], Verdict]


async def _checks_with(faults: tuple[str, ...], root: Path) -> Outcome:
    gate = await open_demo_gate(root / (faults[0] if faults else "healthy"), faults)
    try:
        await gate.engine.run_checks()
        return dict(gate.session.state.checks), gate.engine.verdict()
    finally:
        await gate.aclose()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Outcome]:
    root = tmp_path_factory.mktemp("security")
    wanted = [HEALTHY, *WORLDS]

    async def all_of_them() -> list[Outcome]:
        return await asyncio.gather(*(_checks_with(f, root) for f in wanted))

    return dict(zip(wanted, asyncio.run(all_of_them()), strict=True))


# the scenarios are not run here: only the checks' share of the verdict is asserted
def _failing(results: dict[str, CheckResult]) -> set[str]:
    return {r.check_id for r in results.values() if r.status not in OK}


def test_the_relevant_faults_are_all_there() -> None:
    wanted = {
        "platform.agent-reads-secrets",
        "platform.secret-in-log",
        "platform.secret-in-comment",
        "github.no-branch-protection",
        "platform.duplicate-run-on-redelivery",
        "platform.namespace-not-cleaned",
        "cluster.netpol-missing",
    }
    assert wanted <= set(SECURITY_FAULTS)
    for fault in SECURITY_FAULTS:
        assert set(CATALOGUE[fault].breaks) & SECURITY_IDS <= set(REGISTRY), fault


def test_healthy_sandbox_passes_every_security_check_but_the_stock_finding(
    outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    results, verdict = outcomes[HEALTHY]
    security = {r.check_id: r for r in results.values() if r.check_id in SECURITY_IDS}
    assert set(security) == SECURITY_IDS
    assert {
        cid: (str(r.status), r.reason)
        for cid, r in security.items()
        if r.status is not Status.PASS and cid not in STOCK_FINDINGS
    } == {}
    blocking = {r.split()[1].split("/", 1)[1] for r in verdict.reasons if r.startswith("check ")}
    assert blocking == STOCK_FINDINGS


def test_the_stock_finding_names_the_launcher_and_the_agent_tokens(
    outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    results, _ = outcomes[HEALTHY]
    env = next(r for r in results.values() if r.check_id == "sec.secret-env")
    assert env.status is Status.FAIL
    assert LAUNCHER in env.reason and LAUNCHER in env.expected and "\n" not in env.reason
    lines = env.output.splitlines()
    for token in AGENT_TOKENS:
        line = next(x for x in lines if f"[run] env {token} " in x)
        # full-env runs' agent pods live in their run namespace, code-only runs' in the production one
        assert "kodex-prod" in line and "codex-issue-" in line, line


def test_no_check_is_named_by_two_faults_of_one_world() -> None:
    assert sorted(WORLD_OF) == SECURITY_FAULTS
    for world in WORLDS:
        named = [item for fault in world for item in CATALOGUE[fault].breaks]
        assert len(named) == len(set(named)), world


@pytest.mark.parametrize("world", WORLDS, ids=label)
def test_world_fails_exactly_what_its_faults_name(
    outcomes: dict[tuple[str, ...], Outcome], world: tuple[str, ...]
) -> None:
    results, verdict = outcomes[world]
    named = breaks(world) & set(REGISTRY)
    assert _failing(results) == named | STOCK_FINDINGS, {
        r.check_id: r.reason for r in results.values() if r.status not in OK
    }
    blocking = {r.split()[1].split("/", 1)[1] for r in verdict.reasons if r.startswith("check ")}
    assert blocking == named | STOCK_FINDINGS


@pytest.mark.parametrize("fault", SECURITY_FAULTS)
def test_fault_fails_its_checks_in_one_line(outcomes: dict[tuple[str, ...], Outcome], fault: str) -> None:
    results, _ = outcomes[WORLD_OF[fault]]
    named = set(CATALOGUE[fault].breaks) & set(REGISTRY)
    for result in results.values():
        if result.check_id in named:
            assert result.status is Status.FAIL, (result.check_id, result.status, result.reason)
            assert result.reason and "\n" not in result.reason


def test_rbac_matrix_names_the_secret_answers(outcomes: dict[tuple[str, ...], Outcome]) -> None:
    results, _ = outcomes[WORLD_OF["platform.agent-reads-secrets"]]
    matrix = next(r for r in results.values() if r.check_id == "sec.rbac-agents")
    wrong = [line for line in matrix.output.splitlines() if line.endswith("WRONG")]
    assert wrong and all(" secrets " in line and "answer=allowed" in line for line in wrong)
    assert "codex-runner may get secrets" in matrix.reason


def test_leak_findings_carry_kind_place_and_fingerprint_only(
    outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    for fault, check_id in (
        ("platform.secret-in-log", "sec.leaks-logs"),
        ("platform.secret-in-comment", "sec.leaks-comments"),
        ("cluster.secret-in-configmap", "sec.leaks-cluster"),
        ("cluster.secret-in-event", "sec.leaks-cluster"),
        ("cluster.secret-env-plain", "sec.secret-env"),
    ):
        results, _ = outcomes[WORLD_OF[fault]]
        result = next(r for r in results.values() if r.check_id == check_id)
        lines = result.output.splitlines()
        assert lines and all("sha256:" in line for line in lines), (fault, result.output)
        assert "secret(s) found" in result.reason


def test_a_plain_platform_secret_is_reported_beside_the_stock_finding(
    outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    results, _ = outcomes[WORLD_OF["cluster.secret-env-plain"]]
    env = next(r for r in results.values() if r.check_id == "sec.secret-env")
    assert any("kodex-worker" in line and "KODEX_OPENAI_API_KEY" in line for line in env.output.splitlines())
