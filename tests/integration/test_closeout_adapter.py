"""The staff API paths the closeout groups read, through the real adapter against the sandbox staff
API: the runtime deploy tasks list (its realtime WebSocket's first snapshot), a project's GitHub
token status, docset import and sync; each refusal a typed one-line error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from backends.errors import AdapterError, ErrorKind
from backends.platform_api import PlatformAdapter
from backends.sandbox.faults import FaultSet
from backends.sandbox.github_state import GitHubState
from backends.sandbox.staff_directory import ProjectTokens
from backends.sandbox.staff_docset import SandboxDocset
from tests.integration.staff_support import PLATFORM_REPO, PROJECT_REPO, StaffRig, start_staff


@pytest.fixture
async def rig() -> AsyncIterator[StaffRig]:
    staff = await start_staff()
    yield staff
    await staff.stop()


@pytest.fixture
async def adapter(rig: StaffRig) -> AsyncIterator[PlatformAdapter]:
    platform = rig.adapter()
    yield platform
    await platform.aclose()


async def _fails(call: object) -> AdapterError:
    with pytest.raises(AdapterError) as info:
        await call  # type: ignore[misc]
    assert "\n" not in str(info.value)
    return info.value


def _task(rig: StaffRig, run_id: str, repo: str, env: str, status: str) -> None:
    rig.state.set_deploy_task(
        run_id, repository_full_name=repo, target_env=env, status=status, build_ref=f"ref-{run_id}"
    )


async def test_deploy_tasks_list_newest_first_and_filtered(rig: StaffRig, adapter: PlatformAdapter) -> None:
    _task(rig, "deploy-1", PLATFORM_REPO, "production", "succeeded")
    await asyncio.sleep(0.01)  # updated_at orders the list
    _task(rig, "run-2", PROJECT_REPO, "ai", "running")
    assert [t.run_id for t in await adapter.runtime_deploy_tasks()] == ["run-2", "deploy-1"]
    production = await adapter.runtime_deploy_tasks(target_env="production")
    assert [(t.run_id, t.repository_full_name, t.build_ref) for t in production] == [
        ("deploy-1", PLATFORM_REPO, "ref-deploy-1")
    ]
    assert [t.run_id for t in await adapter.runtime_deploy_tasks(status="running")] == ["run-2"]
    assert [t.run_id for t in await adapter.runtime_deploy_tasks(page_size=1)] == ["run-2"]


async def test_deploy_tasks_list_refusals_are_typed(rig: StaffRig) -> None:
    member = rig.adapter(token=rig.state.issue_token("dev-member"))
    stranger = rig.adapter(token="not-a-jwt")
    try:
        # the stream opens, then says the principal may not list tasks (an error message, then close)
        err = await _fails(member.runtime_deploy_tasks())
        assert err.kind is ErrorKind.FORBIDDEN and "platform admin required" in str(err)
        # staff auth refuses before the upgrade
        assert (await _fails(stranger.runtime_deploy_tasks())).kind is ErrorKind.AUTH
        err = await _fails(rig.adapter().runtime_deploy_tasks(status="done"))
        assert err.kind is ErrorKind.CONFLICT  # the request validator's 400
    finally:
        await member.aclose()
        await stranger.aclose()


async def test_project_tokens_say_only_whether_they_are_set(rig: StaffRig, adapter: PlatformAdapter) -> None:
    rig.state.set_project_tokens("p-example", ProjectTokens(True, True, "example-bot", ""))
    own = await adapter.project_github_tokens("p-example")
    assert (own.has_platform_token, own.has_bot_token, own.bot_username) == (True, True, "example-bot")
    shared = await adapter.project_github_tokens("p-kodex")
    assert (shared.has_platform_token, shared.has_bot_token) == (False, False)
    outsider = rig.adapter(token=rig.state.issue_token("outsider"))
    try:
        assert (await _fails(outsider.project_github_tokens("p-example"))).kind is ErrorKind.FORBIDDEN
    finally:
        await outsider.aclose()


async def test_docset_import_and_sync_open_pull_requests_in_the_bound_repository(
    rig: StaffRig, adapter: PlatformAdapter
) -> None:
    # without GitHub the staff service fails plainly: the gateway hides the text behind 500
    assert (await _fails(adapter.docset_sync("p-example", "r-example", "main"))).kind is ErrorKind.SERVER
    github = GitHubState(rig.faults, PLATFORM_REPO, [PROJECT_REPO], token="ghp_" + "x" * 36)
    rig.state.docset = SandboxDocset(github, rig.faults, fault_repo=PROJECT_REPO, actor="kodex-bot")
    imported = await adapter.docset_import("p-example", "r-example", "main", "en", [])
    assert imported.repository_full_name == PROJECT_REPO and imported.files_total == 3
    assert imported.branch.startswith("kodex-docset-import/")
    assert github.issue(PROJECT_REPO, imported.pr_number).head == imported.branch
    # sync reads the lock an earlier import left on the default branch: none yet
    err = await _fails(adapter.docset_sync("p-example", "r-example", "main"))
    assert err.kind is ErrorKind.SERVER and "internal error" in str(err)
    rig.state.docset.seed_lock(PROJECT_REPO, ["core"], edited=("docs/product/brief.md",))
    synced = await adapter.docset_sync("p-example", "r-example", "main")
    assert (synced.files_updated, synced.files_drift) == (1, 1)
    assert (await _fails(adapter.docset_import("p-example", "r-example", "main", "en", ["nope"]))).kind is (
        ErrorKind.SERVER
    )
    assert (await _fails(adapter.docset_sync("p-example", "r-nope", "main"))).kind is ErrorKind.NOT_FOUND


async def test_docset_sync_fault_answers_500_for_the_project_repository_only(rig: StaffRig) -> None:
    faults = FaultSet(["platform.docset-sync-fails"])
    github = GitHubState(faults, PLATFORM_REPO, [PROJECT_REPO], token="ghp_" + "y" * 36)
    rig.state.docset = SandboxDocset(github, faults, fault_repo=PROJECT_REPO, actor="kodex-bot")
    for repo in (PLATFORM_REPO, PROJECT_REPO):
        rig.state.docset.seed_lock(repo, ["core"])
    adapter = rig.adapter()
    try:
        assert (await adapter.docset_sync("p-kodex", "r-kodex", "main")).repository_full_name == PLATFORM_REPO
        assert (await _fails(adapter.docset_sync("p-example", "r-example", "main"))).kind is ErrorKind.SERVER
    finally:
        await adapter.aclose()
