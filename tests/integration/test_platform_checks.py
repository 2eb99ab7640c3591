"""The platform checks through the real adapters, against the sandbox GitHub and staff APIs on loopback:
a seeded platform passes all four, each platform fault fails exactly the checks it names, and a gate
without [platform] (or without repositories) skips them, having examined nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.checks.registry import REGISTRY, CheckContext, Outcome
from backends.config import Settings, settings_from_dict
from backends.gate import open_gate
from backends.github import GitHubAdapter
from backends.platform_api import PlatformAdapter
from backends.redact import Redactor
from backends.results import Status
from backends.sandbox.faults import CATALOGUE, FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import GitHubState
from tests.integration.staff_support import PLATFORM_REPO, PROJECT_REPO, StaffRig, start_staff

TOKEN = "ghp_" + "Pl4tf0rmCh3cks" * 3
PLATFORM_IDS = ("platform.api", "platform.trigger-rights", "platform.repos-bound", "platform.repo-preflight")
PLATFORM_FAULTS = sorted(n for n, f in CATALOGUE.items() if set(f.breaks) & set(PLATFORM_IDS))
OK = {Status.PASS, Status.WARN}
TIMEOUT_S = 2.0  # the staff.slow fault answers after 30 s


@dataclass
class Rig:
    staff: StaffRig
    settings: Settings
    github: GitHubAdapter
    platform: PlatformAdapter

    async def run(self, **ctx_overrides: object) -> dict[str, Outcome]:
        values: dict[str, object] = {"github": self.github, "platform": self.platform, **ctx_overrides}
        ctx = CheckContext(self.settings, **values)  # type: ignore[arg-type]
        outcomes = await asyncio.gather(*(REGISTRY[cid].fn(ctx) for cid in PLATFORM_IDS))
        return dict(zip(PLATFORM_IDS, outcomes, strict=True))


def _settings(github_url: str, staff_url: str, **extra: object) -> Settings:
    return settings_from_dict(
        {
            "hosts": [{"name": "unused", "address": "192.0.2.1"}],
            "github": {
                "api_url": github_url,
                "platform_repo": PLATFORM_REPO,
                "project_repos": [PROJECT_REPO],
            },
            "platform": {"api_url": staff_url, "timeout": TIMEOUT_S},
            **extra,
        }
    )


async def _rig(faults: list[str]) -> AsyncIterator[Rig]:
    fault_set = FaultSet(faults)
    github_api = SandboxGitHubApi(
        GitHubState(fault_set, PLATFORM_REPO, (PROJECT_REPO,), token=TOKEN), fault_set
    )
    await github_api.start()
    staff = await start_staff(fault_set)
    settings = _settings(github_api.url, staff.api.url)
    assert settings.github is not None and settings.platform is not None
    github = GitHubAdapter(settings.github, Redactor([TOKEN]), token=TOKEN)
    platform = PlatformAdapter(settings.platform, staff.redactor, token=staff.token)
    try:
        yield Rig(staff, settings, github, platform)
    finally:
        await platform.aclose()
        await github.aclose()
        await staff.stop()
        await github_api.stop()


@pytest.fixture
async def healthy() -> AsyncIterator[Rig]:
    async for rig in _rig([]):
        yield rig


async def test_seeded_platform_passes_all_four(healthy: Rig) -> None:
    results = await healthy.run()
    assert {cid: (str(o.status), o.reason) for cid, o in results.items() if o.status is not Status.PASS} == {}
    assert "gate-operator" in results["platform.api"].observed
    assert "platform_admin" in results["platform.trigger-rights"].observed
    assert f"{PROJECT_REPO} -> project-example" in results["platform.repos-bound"].observed
    assert results["platform.repo-preflight"].observed == f"{PLATFORM_REPO} ok; {PROJECT_REPO} ok"
    # each result names the platform source it relies on
    assert "staff_auth.go" in results["platform.api"].expected
    assert "webhook/service_helpers.go" in results["platform.trigger-rights"].expected
    assert "api.yaml" in results["platform.repos-bound"].expected
    assert "service_repository_management.go" in results["platform.repo-preflight"].expected


async def test_plain_member_may_trigger_by_role(healthy: Rig) -> None:
    healthy.staff.state.set_platform_admin("gate-operator", False)  # the token keeps its admin claims
    results = await healthy.run()
    trigger = results["platform.trigger-rights"]
    assert trigger.status is Status.PASS and "project_member_read_write" in trigger.observed
    healthy.staff.state.add_member("p-example", "gate-operator", "read")
    refused = (await healthy.run())["platform.trigger-rights"]
    assert (
        refused.status is Status.FAIL and f"{PROJECT_REPO} (sender_role_read_not_permitted)" in refused.reason
    )


def test_platform_faults_are_all_there() -> None:
    assert {
        "staff.unauthorized",
        "staff.server-error",
        "staff.slow",
        "platform.gate-not-member",
        "platform.repo-unbound",
        "platform.repo-preflight-fails",
    } <= set(PLATFORM_FAULTS)


@pytest.mark.parametrize("fault", PLATFORM_FAULTS)
async def test_fault_fails_exactly_its_checks(fault: str) -> None:
    async for rig in _rig([fault]):
        results = await rig.run()
    failing = {cid for cid, o in results.items() if o.status not in OK}
    assert failing == set(CATALOGUE[fault].breaks) & set(PLATFORM_IDS), {
        c: o.reason for c, o in results.items()
    }
    for cid in failing:
        assert results[cid].reason and "\n" not in results[cid].reason
        assert TOKEN not in results[cid].reason and rig.staff.token not in results[cid].reason


async def test_refusals_read_as_the_platform_would_say_them() -> None:
    async for rig in _rig(["staff.unauthorized"]):
        api = (await rig.run())["platform.api"]
    assert api.status is Status.FAIL and "staff token refused or expired" in api.reason
    async for rig in _rig(["platform.gate-not-member"]):
        trigger = (await rig.run())["platform.trigger-rights"]
    assert trigger.status is Status.FAIL and "sender_not_project_member" in trigger.reason
    async for rig in _rig(["platform.repo-unbound"]):
        results = await rig.run()
    assert results["platform.repos-bound"].reason.startswith(f"bound to no project: {PROJECT_REPO}")
    assert "not examined" in results["platform.trigger-rights"].observed
    async for rig in _rig(["staff.server-error"]):
        assert (await rig.run())["platform.api"].status is Status.ERROR


async def test_without_platform_every_check_skips(healthy: Rig) -> None:
    results = await healthy.run(platform=None)
    assert {cid: (o.status, o.reason) for cid, o in results.items()} == {
        cid: (Status.SKIP, "no [platform] configured") for cid in PLATFORM_IDS
    }


async def test_nothing_to_examine_is_a_skip_not_a_pass(healthy: Rig) -> None:
    no_github = healthy.settings.model_copy(update={"github": None})
    results = await Rig(healthy.staff, no_github, healthy.github, healthy.platform).run(github=None)
    assert results["platform.api"].status is Status.PASS
    assert {cid: o.status for cid, o in results.items() if cid != "platform.api"} == {
        "platform.trigger-rights": Status.SKIP,
        "platform.repos-bound": Status.SKIP,
        "platform.repo-preflight": Status.SKIP,
    }
    healthy.staff.state.bindings.clear()  # nothing bound: only repos-bound has something to say
    results = await healthy.run()
    assert results["platform.repos-bound"].status is Status.FAIL
    assert results["platform.trigger-rights"].status is Status.SKIP
    assert results["platform.repo-preflight"].status is Status.SKIP


async def test_engine_plans_platform_checks_only_with_platform(tmp_path: Path) -> None:
    for with_platform in (False, True):
        extra = {"platform": {"api_url": "http://127.0.0.1:9"}} if with_platform else {}
        settings = settings_from_dict({"hosts": [{"name": "unused", "address": "192.0.2.1"}], **extra})
        gate = await open_gate(settings, tmp_path / f"s-{with_platform}")
        try:
            planned = {p.check_id for p in gate.engine.planned_checks() if p.area == "platform"}
        finally:
            await gate.aclose()
        assert planned == (set(PLATFORM_IDS) if with_platform else set())
