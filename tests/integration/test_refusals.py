"""Every way the platform refuses a trigger, through the sandbox over the network: a real GitHub
client applies the label (as a bot, a stranger, a member without rights, or the operator), and the
refusal is read back from the issue's comments by its reason code — the only machine-readable part
of a "run not created" warning (runstatus/i18n/trigger_warning.yaml)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from backends.config import GitHubSettings
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.sandbox.world import PLATFORM_REPO, PROJECT_REPO, SandboxWorld
from backends.signals.thread import ThreadSignals
from tests.patience import PATIENCE_S

WAIT_S = PATIENCE_S  # each wait ends when the refusal or run shows


async def _world(*faults: str) -> SandboxWorld:
    world = SandboxWorld.create(faults)
    await world.start()
    return world


@pytest.fixture
async def world() -> AsyncIterator[SandboxWorld]:
    w = await _world()
    try:
        yield w
    finally:
        await w.stop()


def _adapter(world: SandboxWorld, token: str) -> GitHubAdapter:
    assert world.github_api is not None
    settings = GitHubSettings(
        api_url=world.github_api.url, platform_repo=PLATFORM_REPO, project_repos=[PROJECT_REPO], timeout=5
    )
    return GitHubAdapter(settings, Redactor(), token=token)


async def _signals(gh: GitHubAdapter, repo: str, number: int, until: str) -> ThreadSignals:
    """Follow the thread until a refusal or a run shows up (a refusal comes at once)."""
    signals = ThreadSignals()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        signals.observe(await gh.comments(repo, number), number)
        if (until == "refusal" and signals.refusals) or (until == "run" and signals.runs):
            return signals
        await asyncio.sleep(0.1)
    return signals


def _codes(signals: ThreadSignals) -> list[str]:
    return [r.warning.reason_code for r in signals.refusals.values() if r.warning is not None]


async def _labelled(
    world: SandboxWorld, token: str, label: str, repo: str = PLATFORM_REPO
) -> tuple[ThreadSignals, list[str]]:
    operator = _adapter(world, world.github_token)
    actor = _adapter(world, token)
    try:
        number, _ = await operator.create_issue(repo, "refusal probe", "")
        await actor.add_label(repo, number, label)
        signals = await _signals(operator, repo, number, "refusal")
        return signals, await operator.issue_labels(repo, number)
    finally:
        await operator.aclose()
        await actor.aclose()


async def test_a_bot_sender_is_refused(world: SandboxWorld) -> None:
    assert world.github_state is not None
    token = world.github_state.add_user("helper-app[bot]", "Bot")
    signals, labels = await _labelled(world, token, "run:intake")
    assert _codes(signals) == ["sender_type_bot_not_permitted"]
    assert signals.runs == {}
    assert "need:input" not in labels  # only review and candidate refusals ask for input


async def test_a_stranger_is_refused(world: SandboxWorld) -> None:
    assert world.github_state is not None
    token = world.github_state.add_user("passer-by")
    signals, _ = await _labelled(world, token, "run:intake")
    assert _codes(signals) == ["sender_not_allowed"] and signals.runs == {}


async def test_a_known_user_outside_the_project_is_refused(world: SandboxWorld) -> None:
    assert world.github_state is not None and world.staff_state is not None
    token = world.github_state.add_user("outsider")
    world.staff_state.user("outsider")  # known to the platform, member of nothing
    signals, _ = await _labelled(world, token, "run:intake")
    assert _codes(signals) == ["sender_not_project_member"] and signals.runs == {}


async def test_a_member_with_read_rights_is_refused(world: SandboxWorld) -> None:
    assert world.github_state is not None and world.staff_state is not None
    token = world.github_state.add_user("reader")
    project = world.staff_state.project_of_repo(PLATFORM_REPO)
    assert project is not None
    world.staff_state.add_member(project.id, "reader", "read")
    signals, _ = await _labelled(world, token, "run:intake")
    assert _codes(signals) == ["sender_role_read_not_permitted"] and signals.runs == {}


async def test_an_unbound_repository_is_refused() -> None:
    world = await _world("platform.repo-unbound")
    try:
        signals, _ = await _labelled(world, world.github_token, "run:intake", PROJECT_REPO)
        assert _codes(signals) == ["repository_not_bound_for_issue_label"] and signals.runs == {}
    finally:
        await world.stop()


async def test_qa_without_a_dev_lineage_is_refused_and_asks_for_input(world: SandboxWorld) -> None:
    signals, labels = await _labelled(world, world.github_token, "run:qa")
    assert _codes(signals) == ["issue_trigger_candidate_not_found"]
    warning = next(iter(signals.refusals.values())).warning
    assert warning is not None and warning.labels == ("run:dev", "run:dev:revise")
    assert "need:input" in labels and signals.runs == {}


async def test_a_review_on_a_pr_with_two_stage_labels_is_refused(world: SandboxWorld) -> None:
    gh = _adapter(world, world.github_token)
    try:
        number, _ = await gh.create_issue(PLATFORM_REPO, "review probe", "")
        await gh.add_label(PLATFORM_REPO, number, "run:dev")
        deadline = time.monotonic() + WAIT_S
        pulls: list = []
        while not pulls and time.monotonic() < deadline:
            pulls = await gh.pulls_for_issue(PLATFORM_REPO, number)
            await asyncio.sleep(0.1)
        assert pulls, "run:dev opened no PR"
        pr = pulls[0].number
        await gh.add_label(PLATFORM_REPO, pr, "run:qa")
        await gh.review(PLATFORM_REPO, pr, "REQUEST_CHANGES", "which stage?")
        signals = await _signals(gh, PLATFORM_REPO, pr, "refusal")
        assert _codes(signals) == ["pull_request_review_stage_ambiguous"]
        assert "need:input" in await gh.issue_labels(PLATFORM_REPO, pr)
        assert [r for r in signals.runs.values() if r.latest.trigger_kind == "dev_revise"] == []
    finally:
        await gh.aclose()
