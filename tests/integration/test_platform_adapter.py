"""The platform adapter over real HTTP: the staff API paths of api.yaml, served by the sandbox staff API
on loopback, read back as typed, redacted records; every failure a typed one-line error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from backends.errors import AdapterError, ErrorKind
from backends.platform_api import PlatformAdapter
from backends.sandbox.faults import CATALOGUE
from backends.sandbox.github_state import OPERATOR
from tests.integration.staff_support import PLATFORM_REPO, PROJECT_REPO, StaffRig, start_staff

LEAKED = "ghp_" + "L3akedT0kenValue" * 2 + "abcd"


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


def _run(rig: StaffRig, run_id: str = "run-1", **fields: object) -> None:
    values: dict[str, object] = {
        "repository_full_name": PROJECT_REPO,
        "status": "running",
        "issue_number": 7,
        "trigger_kind": "dev",
        "trigger_label": "run:dev",
        "agent_key": "dev",
        "job_name": f"job-{run_id}",
    }
    rig.state.upsert_run(run_id, **{**values, **fields})


async def _fails(call: object) -> AdapterError:
    with pytest.raises(AdapterError) as info:
        await call  # type: ignore[misc]
    err = info.value
    assert "\n" not in str(err)
    return err


# -- identity, projects, members, bindings ----------------------------------------------------------
async def test_me_users_and_projects(rig: StaffRig, adapter: PlatformAdapter) -> None:
    me = await adapter.connect()
    assert (me.github_login, me.is_platform_admin, me.is_platform_owner) == (OPERATOR, True, False)
    (user,) = await adapter.users()
    assert user.id == me.id and user.github_login == OPERATOR and user.is_platform_admin
    projects = {p.slug: p for p in await adapter.projects()}
    assert set(projects) == {"kodex", "project-example"} and projects["kodex"].role == "admin"
    (member,) = await adapter.project_members(projects["kodex"].id)
    assert (member.user_id, member.role) == (me.id, "read_write")
    (binding,) = await adapter.project_repositories(projects["project-example"].id)
    assert binding.full_name == PROJECT_REPO and binding.provider == "github" and binding.external_id > 0
    bound = {b.full_name: p.slug for p, b in await adapter.bound_repositories()}
    assert bound == {PLATFORM_REPO: "kodex", PROJECT_REPO: "project-example"}


async def test_cookie_authenticates_like_the_bearer_header(rig: StaffRig) -> None:
    async with aiohttp.ClientSession(cookies={"kodex_staff_jwt": rig.token}) as session:
        async with session.get(f"{rig.api.url}/api/v1/auth/me") as resp:
            assert resp.status == 200 and (await resp.json())["user"]["github_login"] == OPERATOR
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{rig.api.url}/api/v1/auth/me") as resp:
            assert resp.status == 401 and (await resp.json())["code"] == "unauthorized"


# -- runs, events, logs, waits ----------------------------------------------------------------------
async def test_run_namespace_events_logs_and_waits(rig: StaffRig, adapter: PlatformAdapter) -> None:
    _run(rig)
    _run(rig, "run-2", trigger_kind="qa", agent_key="qa")
    rig.state.set_namespace("run-1", "codex-issue-7-dev", exists=True)
    rig.state.add_flow_event(
        "run-1", "run.started", {"namespace": "codex-issue-7-dev", "job_name": "job-run-1"}
    )
    rig.state.add_flow_event("run-1", "run.agent.status_reported", {"status": "writing tests"})
    rig.state.add_run_log("run-1", "line one\n\n  line two  \nline three")

    run = await adapter.run("run-1")
    assert (run.status, run.issue_number, run.trigger_kind, run.project_slug) == (
        "running",
        7,
        "dev",
        "project-example",
    )
    assert run.started_at and not run.finished and run.pr_number is None
    ns = await adapter.run_namespace("run-1")
    assert (ns.namespace, ns.exists, ns.job_name) == ("codex-issue-7-dev", True, "job-run-1")
    events = await adapter.run_events("run-1")
    assert [e.event_type for e in events] == ["run.agent.status_reported", "run.started"]  # newest first
    assert events[1].payload == {"namespace": "codex-issue-7-dev", "job_name": "job-run-1"}
    assert events[0].correlation_id == run.correlation_id
    logs = await adapter.run_logs("run-1", tail_lines=2)
    assert logs.tail_lines == ("line two", "line three") and logs.status == "running"

    assert await adapter.run_waits() == []
    rig.state.request_approval("run-1", "secret.sync.k8s", "create", {"secret": "db"})
    rig.state.request_approval("run-2", "database.lifecycle", "create", {"database": "qa"})
    assert {r.id for r in await adapter.run_waits()} == {"run-1", "run-2"}
    (waiting,) = await adapter.run_waits(trigger_kind="dev")
    assert (waiting.id, waiting.wait_state, waiting.wait_reason) == ("run-1", "mcp", "approval_pending")
    assert await adapter.run_waits(status="succeeded") == []


async def test_secrets_come_back_redacted(rig: StaffRig, adapter: PlatformAdapter) -> None:
    _run(rig)
    rig.redactor.add_secret("hunter2-db-password")
    rig.state.add_run_log("run-1", f"git push with {LEAKED}\nDB_PASSWORD=hunter2-db-password")
    rig.state.add_flow_event("run-1", "mcp.tool.failed", {"error": f"token {LEAKED} refused", "n": 3})
    rig.state.add_runtime_error(
        "worker", "error", f"clone failed with {LEAKED}", details={"cmd": LEAKED}, run_id="run-1"
    )
    rig.state.set_deploy_task("run-1", status="failed", last_error=f"push: {LEAKED}")
    rig.state.add_deploy_log("run-1", "build", "error", f"auth {LEAKED}")

    texts = [
        repr(await adapter.run_logs("run-1")),
        repr(await adapter.run_events("run-1")),
        repr(await adapter.runtime_errors()),
        repr(await adapter.runtime_deploy_task("run-1")),
    ]
    for text in texts:
        assert LEAKED not in text and "hunter2-db-password" not in text and "[REDACTED" in text, text
    (event,) = await adapter.run_events("run-1")
    assert event.payload["n"] == 3 and event.payload["error"].startswith("token [REDACTED")


# -- approvals --------------------------------------------------------------------------------------
async def test_approval_pending_until_decided_through_the_api(
    rig: StaffRig, adapter: PlatformAdapter
) -> None:
    _run(rig)
    request_id = rig.state.request_approval("run-1", "secret.sync.k8s", "create", {"secret": "db"})
    decided = asyncio.create_task(rig.state.wait_decision(request_id))

    (pending,) = await adapter.approvals()
    assert (pending.id, pending.run_id, pending.tool_name, pending.requested_by) == (
        request_id,
        "run-1",
        "secret.sync.k8s",
        "agent:dev",
    )
    assert pending.approval_mode == "owner" and pending.issue_number == 7
    assert await adapter.approvals(run_id="run-other") == []
    assert not decided.done()  # the agent still waits: nothing was decided yet

    resolution = await adapter.decide_approval(request_id, "approved", "gate: expected request")
    assert (resolution.id, resolution.approval_state, resolution.run_id) == (request_id, "approved", "run-1")
    assert await decided == "approved"
    assert await adapter.approvals() == []
    newest = (await adapter.run_events("run-1"))[0]
    assert newest.event_type == "approval.approved"
    assert (
        newest.payload["actor_id"] == f"staff:{OPERATOR}"
        and newest.payload["reason"] == "gate: expected request"
    )

    # a decided request stays decided, as on the platform
    again = await adapter.decide_approval(request_id, "denied")
    assert again.approval_state == "approved"
    with pytest.raises(ValueError):
        await adapter.decide_approval(request_id, "maybe")
    missing = await _fails(adapter.decide_approval(999, "denied"))
    assert missing.kind is ErrorKind.NOT_FOUND


# -- build/deploy, errors journal, docsets, preflight -----------------------------------------------
async def test_deploy_task_runtime_errors_docsets_and_preflight(
    rig: StaffRig, adapter: PlatformAdapter
) -> None:
    _run(rig)
    rig.state.set_deploy_task("run-1", status="running", attempts=1, namespace="codex-issue-7-dev")
    rig.state.add_deploy_log("run-1", "build", "info", "image built")
    task = await adapter.runtime_deploy_task("run-1")
    assert (task.status, task.attempts, task.repository_full_name, task.target_env) == (
        "running",
        1,
        PROJECT_REPO,
        "ai",
    )
    assert [(log.stage, log.message) for log in task.logs] == [("build", "image built")]

    first = rig.state.add_runtime_error("worker", "warning", "slow clone", run_id="run-1")
    rig.state.add_runtime_error("control-plane", "critical", "db down")
    assert {e.id for e in await adapter.runtime_errors(run_id="run-1")} == {first}
    assert [e.level for e in await adapter.runtime_errors(level="critical")] == ["critical"]

    groups = await adapter.docset_groups(locale="en")
    assert groups and any(g.default_selected for g in groups)

    project_id, repository_id = next((p.id, b.id) for p, b in await adapter.bound_repositories())
    report = await adapter.repository_preflight(project_id, repository_id)
    assert report.status == "ok" and report.checks and report.failed_checks == ()
    rig.state.fail_preflight(PLATFORM_REPO, "services_yaml:get", "services.yaml not found on main")
    failing = await adapter.repository_preflight(project_id, repository_id)
    assert failing.status == "failed" and [c.name for c in failing.failed_checks] == ["services_yaml:get"]


# -- failures as typed one-line errors --------------------------------------------------------------
async def test_expired_bad_and_revoked_tokens_are_auth_without_the_token(rig: StaffRig) -> None:
    expired = rig.state.issue_token(OPERATOR, ttl_s=-1)
    revoked = rig.state.issue_token(OPERATOR)
    rig.state.tokens.revoke(revoked)
    forged = rig.token[:-4] + ("AAAA" if not rig.token.endswith("AAAA") else "BBBB")
    for token in (expired, revoked, forged, "not-a-jwt"):
        platform = rig.adapter(token=token)
        err = await _fails(platform.me())
        await platform.aclose()
        assert err.kind is ErrorKind.AUTH and "staff token refused or expired" in str(err)
        assert token not in str(err)


async def test_missing_token_names_the_env_var(rig: StaffRig, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = rig.settings()
    monkeypatch.delenv(settings.token_env, raising=False)
    platform = PlatformAdapter(settings)
    err = await _fails(platform.me())
    assert err.kind is ErrorKind.AUTH and settings.token_env in str(err)
    monkeypatch.setenv(settings.token_env, rig.token)
    assert (await platform.me()).github_login == OPERATOR
    await platform.aclose()


async def test_non_admin_is_forbidden_where_the_platform_says_so(rig: StaffRig) -> None:
    rig.state.add_member("p-example", "dev-member", "read")
    _run(rig, "run-own")
    _run(rig, "run-platform", repository_full_name=PLATFORM_REPO)
    platform = rig.adapter(token=rig.state.issue_token("dev-member"))
    try:
        assert not (await platform.me()).is_platform_admin
        assert [(p.slug, p.role) for p in await platform.projects()] == [("project-example", "read")]
        assert (await platform.run("run-own")).id == "run-own"
        for call in (
            platform.users(),
            platform.approvals(),
            platform.run("run-platform"),
            platform.docset_groups(),
        ):
            err = await _fails(call)
            assert err.kind is ErrorKind.FORBIDDEN, err
    finally:
        await platform.aclose()


async def test_unknown_ids_are_not_found(adapter: PlatformAdapter) -> None:
    for call in (adapter.run("nope"), adapter.run_events("nope"), adapter.runtime_deploy_task("nope")):
        err = await _fails(call)
        assert err.kind is ErrorKind.NOT_FOUND and "not found" in str(err)


async def test_server_error_is_retried_on_reads_only(rig: StaffRig, adapter: PlatformAdapter) -> None:
    _run(rig)
    request_id = rig.state.request_approval("run-1", "secret.sync.k8s", "create", {})
    rig.faults.add("staff.server-error")
    err = await _fails(adapter.run("run-1"))
    assert err.kind is ErrorKind.SERVER and "500" in str(err)
    assert rig.api.calls.count(("GET", "/api/v1/staff/runs/run-1")) == 3
    rig.api.calls.clear()
    err = await _fails(adapter.decide_approval(request_id, "approved"))
    assert err.kind is ErrorKind.SERVER
    assert rig.api.calls == [
        ("POST", f"/api/v1/staff/approvals/{request_id}/decision")
    ]  # a decision is sent once
    rig.faults.remove("staff.server-error")
    assert (await adapter.run("run-1")).id == "run-1"


async def test_slow_answer_is_a_timeout(rig: StaffRig) -> None:
    rig.faults.add("staff.slow")
    platform = rig.adapter(timeout=0.5)
    err = await _fails(platform.me())
    await platform.aclose()
    assert err.kind is ErrorKind.TIMEOUT and "no answer in time" in str(err)
    assert rig.api.calls == [("GET", "/api/v1/auth/me")]  # a read that used its whole timeout is not repeated


async def test_dropped_connection(rig: StaffRig, adapter: PlatformAdapter) -> None:
    rig.faults.add("staff.connection-drop")
    err = await _fails(adapter.projects())
    assert err.kind is ErrorKind.DROPPED and "connection lost" in str(err)
    assert rig.api.calls.count(("GET", "/api/v1/staff/projects")) == 3


async def test_malformed_json_and_wrong_shape_are_bad_responses(
    rig: StaffRig, adapter: PlatformAdapter
) -> None:
    _run(rig, issue_number="7")  # a string where the schema has an integer
    err = await _fails(adapter.run("run-1"))
    assert err.kind is ErrorKind.BAD_RESPONSE and "run.issue_number" in str(err)
    rig.faults.add("staff.malformed-json")
    err = await _fails(adapter.projects())
    assert err.kind is ErrorKind.BAD_RESPONSE and "not JSON" in str(err)


async def test_unreachable_staff_api(rig: StaffRig) -> None:
    settings = rig.settings()
    await rig.api.stop()
    platform = PlatformAdapter(settings, token=rig.token)
    err = await _fails(platform.me())
    await platform.aclose()
    assert err.kind is ErrorKind.UNREACHABLE and rig.token not in str(err)


def test_staff_faults_registered() -> None:
    for name in (
        "staff.unauthorized",
        "staff.server-error",
        "staff.slow",
        "staff.connection-drop",
        "staff.malformed-json",
    ):
        fault = CATALOGUE[name]
        assert fault.component == "platform" and "platform.api" in fault.breaks
