"""Bad input reaches a scenario step as one line, never a traceback or a hang: a malformed run-status
marker, a phase the platform does not have, and a staff API that refuses the token, fails or is slow.
Everything goes over the network to the sandbox through the real adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from backends.cluster import ClusterAdapter
from backends.config import PlatformSettings
from backends.github import GitHubAdapter
from backends.plan.steps import parse_step
from backends.platform_api import PlatformAdapter
from backends.redact import Redactor
from backends.sandbox.platform import BOT
from backends.sandbox.world import PLATFORM_REPO, SandboxWorld
from backends.scenarios.context import ScenarioContext
from backends.scenarios.steps_exec import StepFailed, execute
from backends.scenarios.world import GateWorld

SOURCE = "services/internal/control-plane/internal/domain/runstatus/helpers.go"


async def _rig(world: SandboxWorld, *, platform_timeout: float = 5.0) -> tuple[GateWorld, ScenarioContext]:
    settings = world.settings()
    assert settings.github is not None and settings.cluster is not None and settings.platform is not None
    redactor = Redactor(world.secret_values.values())
    github = GitHubAdapter(settings.github, redactor, token=world.github_token)
    cluster = ClusterAdapter(settings.cluster, redactor)
    platform_settings = PlatformSettings(api_url=settings.platform.api_url, timeout=platform_timeout)
    platform = PlatformAdapter(platform_settings, redactor, token=world.staff_token)
    gate_world = GateWorld(github, cluster, settings.github, redactor, poll_interval=0.05, platform=platform)
    number, url = await github.create_issue(PLATFORM_REPO, "bad input", "")
    ctx = ScenarioContext("T", repo=PLATFORM_REPO, issue=number, issue_url=url)
    return gate_world, ctx


async def _close(gate_world: GateWorld) -> None:
    await gate_world.github.aclose()
    await gate_world.cluster.aclose()
    await gate_world.platform.aclose()


async def _failure(gate_world: GateWorld, ctx: ScenarioContext, step: dict[str, object]) -> str:
    with pytest.raises(StepFailed) as info:
        await execute(parse_step(step), 1, ctx, gate_world, "s1")
    actual = info.value.actual
    assert "\n" not in actual and "Traceback" not in actual
    return actual


@pytest.fixture
async def world() -> AsyncIterator[SandboxWorld]:
    w = SandboxWorld.create()
    await w.start()
    try:
        yield w
    finally:
        await w.stop()


@pytest.mark.parametrize(
    ("marker", "said"),
    [
        ('<!-- kodex:run-status {"run_id": "r1", "phase": -->', "not JSON"),
        ('<!-- kodex:run-status {"run_id":"r1","phase":"waiting_mcp"} -->', "unknown phase 'waiting_mcp'"),
    ],
)
async def test_an_unreadable_marker_is_named_on_the_step(world: SandboxWorld, marker: str, said: str) -> None:
    gate_world, ctx = await _rig(world)
    try:
        assert world.github_state is not None and ctx.issue is not None
        world.github_state.add_comment(PLATFORM_REPO, ctx.issue, f"### run\n\n{marker}", actor=BOT)
        step = {"expect_run": {"trigger_kind": "intake", "within": "1s", "source": SOURCE}}
        actual = await _failure(gate_world, ctx, step)
        assert "not within 1s" in actual and "unreadable" in actual and said in actual
    finally:
        await _close(gate_world)


@pytest.mark.parametrize(
    ("fault", "said"),
    [("staff.unauthorized", "staff token"), ("staff.server-error", "500"), ("staff.slow", "no answer")],
)
async def test_a_failing_staff_api_is_one_line_on_the_step(fault: str, said: str) -> None:
    world = SandboxWorld.create([fault])
    await world.start()
    gate_world, ctx = await _rig(world, platform_timeout=0.5)
    try:
        ctx.run_id = "6f1c0c52-0000-4000-8000-000000000000"
        source = "libs/go/domain/flowevent/repository.go"
        step = {"expect_flow_event": {"event_type": "run.started", "within": "5s", "source": source}}
        actual = await _failure(gate_world, ctx, step)
        assert said in actual.lower() or said in actual, actual
    finally:
        await _close(gate_world)
        await world.stop()
