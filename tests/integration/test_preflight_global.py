"""GitHub and cluster checks through the real adapters against the sandbox GitHub and Kubernetes API
servers on loopback: healthy passes, each targeted fault fails its check, no adapter means SKIP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.checks.registry import REGISTRY, CheckContext, Outcome, Scope
from backends.cluster import ClusterAdapter
from backends.config import Settings, settings_from_dict
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.results import Status
from backends.sandbox.faults import CATALOGUE, FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import GitHubState
from tests.integration.kube_fixtures import start_kube

TOKEN = "ghp_" + "Pr3fl1ghtT0ken" * 3
PLATFORM, PROJECT = "codex-k8s/codex-k8s", "codex-k8s/project-example"
# the security checks need the simulated platform too: tests/integration/test_security_checks.py
GLOBAL = [s for s in REGISTRY.values() if s.scope is Scope.GLOBAL and s.area in {"github", "cluster"}]
FAULTS = sorted(
    n
    for n, f in CATALOGUE.items()
    if n.split(".")[0] in {"github", "cluster"} and set(f.breaks) & {s.check_id for s in GLOBAL}
)


@dataclass
class Rig:
    settings: Settings
    github: GitHubAdapter
    cluster: ClusterAdapter

    async def run(self) -> dict[str, Outcome]:
        ctx = CheckContext(self.settings, github=self.github, cluster=self.cluster)
        return {s.check_id: await s.fn(ctx) for s in GLOBAL}


async def _rig(tmp_path: Path, faults: list[str]) -> AsyncIterator[Rig]:
    fault_set = FaultSet([f for f in faults if f.startswith("github.")])
    api = SandboxGitHubApi(GitHubState(fault_set, PLATFORM, (PROJECT,), token=TOKEN), fault_set)
    await api.start()
    kube = await start_kube(tmp_path, [f for f in faults if f.startswith("cluster.")])
    settings = settings_from_dict(
        {
            "hosts": [{"name": "unused", "address": "192.0.2.1"}],
            "github": {
                "api_url": api.url,
                "platform_repo": PLATFORM,
                "project_repos": [PROJECT],
                "timeout": 5,
            },
            "cluster": kube.settings().model_dump(mode="json"),
        }
    )
    assert settings.github is not None and settings.cluster is not None
    github = GitHubAdapter(settings.github, Redactor([TOKEN]), token=TOKEN, max_rate_wait_s=1)
    cluster = ClusterAdapter(settings.cluster, Redactor())
    try:
        yield Rig(settings, github, cluster)
    finally:
        await github.aclose()
        await cluster.aclose()
        await kube.api.stop()
        await api.stop()


@pytest.fixture
async def healthy(tmp_path: Path) -> AsyncIterator[Rig]:
    async for rig in _rig(tmp_path, []):
        yield rig


async def test_healthy_github_and_cluster_pass(healthy: Rig) -> None:
    outcomes = await healthy.run()
    assert {k: (str(o.status), o.reason) for k, o in outcomes.items() if o.status is not Status.PASS} == {}
    assert "1/1 Ready" in outcomes["cluster.nodes"].observed


@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_fails_its_check(tmp_path: Path, fault: str) -> None:
    async for rig in _rig(tmp_path, [fault]):
        outcomes = await rig.run()
        for check_id in CATALOGUE[fault].breaks:
            outcome = outcomes[check_id]
            assert outcome.status in {Status.FAIL, Status.ERROR}, (check_id, outcome)
            assert outcome.reason and "\n" not in outcome.reason
            assert TOKEN not in outcome.reason + outcome.output + outcome.observed


async def test_no_adapters_means_skip() -> None:
    settings = settings_from_dict({"hosts": [{"name": "h", "address": "192.0.2.1"}]})
    ctx = CheckContext(settings)
    for spec in GLOBAL:
        outcome = await spec.fn(ctx)
        assert outcome.status is Status.SKIP
        assert outcome.reason in {"no GitHub configured", "no cluster configured"}
