"""`gateroom serve` over real SSH on loopback: the owner decides by keystrokes, roles hold."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import asyncssh
import psutil
import pytest

from backends.decision import AUDIT_KINDS, digest_at
from backends.events import ActionRecorded, DecisionRecorded, LoginRecorded, ScenarioFinished
from backends.evidence.store import EvidenceStore
from backends.serve.hostkey import HOST_KEY_FILE
from backends.serve.keys import fingerprint
from backends.session import STORE_FILE
from backends.signing import decision_statement
from backends.sshsig import DECISION_NAMESPACE, verify
from tests.integration.serve_support import (
    connect,
    listening_port,
    make_keys,
    open_terminal,
    running_server,
    serve_argv,
    ssh_agent,
)
from tests.patience import PATIENCE_S, eventually, until
from tests.unit.bundle_support import make_session

pytestmark = pytest.mark.heavy  # app processes over SSH: scheduled first


async def records_where(store: EvidenceStore, kind: str, **match: object) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        records = await asyncio.to_thread(store.records)
        return [r for r in records if r["kind"] == kind and match.items() <= r["payload"].items()]

    return await eventually(found, f"a {kind} record")


async def test_owner_decides_go_by_keystrokes_and_roles_hold(tmp_path: Path) -> None:
    session_dir = tmp_path / "session"
    operator_store = make_session(session_dir)
    keys = make_keys(tmp_path)
    owner_fp = fingerprint(keys.owner)
    async with (
        running_server(session_dir, keys.file) as (runner, port),
        ssh_agent(tmp_path, keys.owner) as agent,
    ):
        # the owner (ssh -A: their agent signs): sign-off pane, a comment, GO, confirm
        conn = await connect(runner, port, keys.owner, agent_path=agent, agent_forwarding=True)
        term = await open_terminal(conn)
        await term.wait_for("Gate Room", PATIENCE_S)
        term.type("5")
        await term.wait_for("Deciding as", PATIENCE_S)
        term.type("c")
        await asyncio.sleep(0.3)
        term.type("bundle reviewed\r")
        await asyncio.sleep(0.3)
        term.type("g")
        await term.wait_for("final for this evidence", PATIENCE_S)
        term.type("y")
        decisions = await records_where(operator_store, DecisionRecorded.kind)
        term.clear()
        await term.wait_for("bound to chain head", PATIENCE_S)  # the form gave way to the recorded decision
        await term.close()
        conn.close()

        records = operator_store.records()
        payload = decisions[0]["payload"]
        assert (payload["decision"], payload["by"], payload["role"]) == ("GO", owner_fp, "owner")
        assert payload["comment"] == "bundle reviewed"
        index = next(i for i, r in enumerate(records) if r["hash"] == payload["chain_head"])
        assert all(r["kind"] in AUDIT_KINDS for r in records[index + 1 :])
        assert payload["bundle_digest"] == digest_at(session_dir, records[: index + 1])
        statement = decision_statement(DecisionRecorded(**payload), index + 1)
        signed = verify(payload["signature"], DECISION_NAMESPACE, statement)
        assert signed.fingerprint == owner_fp, "signed by the owner's own key, through their agent"
        logins = [r["payload"] for r in records if r["kind"] == LoginRecorded.kind]
        assert {"fingerprint": owner_fp, "role": "owner", "accepted": True}.items() <= logins[0].items()
        assert operator_store.verify().ok

        # the operator's app keeps writing; a viewer sees the form-less pane and cannot decide
        operator_store.append(ScenarioFinished.kind, ScenarioFinished("C3", "PASS", "P0").to_payload())
        operator_store.flush()
        viewer_conn = await connect(runner, port, keys.viewer)
        viewer = await open_terminal(viewer_conn, size=(80, 24))
        await viewer.wait_for("Gate Room", PATIENCE_S)
        viewer.type("5")
        await viewer.wait_for("STALE", PATIENCE_S)  # new evidence after the owner's GO
        assert "Deciding as" not in viewer.text()
        viewer.type("g")
        refusals = await records_where(operator_store, ActionRecorded.kind, action="decide GO")
        await viewer.close()
        viewer_conn.close()
        refusal = refusals[0]["payload"]
        assert (refusal["role"], refusal["allowed"], refusal["fingerprint"]) == (
            "viewer",
            False,
            fingerprint(keys.viewer),
        )
        assert len([r for r in operator_store.records() if r["kind"] == DecisionRecorded.kind]) == 1

        # an unknown key and a password are both refused, and the refusal is on record
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(runner, port, keys.stranger)
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(runner, port, None, password="owner", preferred_auth="password")
        await records_where(
            operator_store, LoginRecorded.kind, accepted=False, fingerprint=fingerprint(keys.stranger)
        )
    assert operator_store.verify().ok


async def test_host_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    session_dir = tmp_path / "session"
    make_session(session_dir)
    keys = make_keys(tmp_path)
    async with running_server(session_dir, keys.file) as (first, _):
        key = first.host_key_fingerprint()
    async with running_server(session_dir, keys.file) as (second, _):
        assert second.host_key_fingerprint() == key
    assert (session_dir / HOST_KEY_FILE).stat().st_mode & 0o077 == 0
    assert (session_dir / STORE_FILE).is_file()


async def test_session_apps_end_when_the_server_dies(tmp_path: Path) -> None:
    """A served session must not outlive its server: the PTY's hang-up ends it (no orphan left
    redrawing a terminal nobody reads)."""
    session_dir = tmp_path / "session"
    make_session(session_dir)
    keys = make_keys(tmp_path)
    server = await asyncio.create_subprocess_exec(
        *serve_argv(session_dir, keys.file), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        port = listening_port((await asyncio.wait_for(server.stdout.readline(), PATIENCE_S)).decode())
        conn = await asyncssh.connect(
            "127.0.0.1",
            port,
            username="viewer",
            client_keys=[keys.viewer],
            known_hosts=None,
            connect_timeout=10,
            agent_path=None,
        )
        term = await open_terminal(conn, size=(80, 24))
        await term.wait_for("Gate Room", PATIENCE_S)
        apps = psutil.Process(server.pid).children(recursive=True)
        assert apps, "the session runs in a child process of the server"
        server.kill()
        await server.wait()

        def gone() -> bool:
            return not [p for p in apps if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

        await until(gone, f"the session apps {apps} ending after the server died")
        with contextlib.suppress(asyncssh.Error, OSError):
            await term.close()
        conn.close()
        await conn.wait_closed()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


async def test_closing_the_server_ends_open_terminals_and_records_their_logout(tmp_path: Path) -> None:
    session_dir = tmp_path / "session"
    store = make_session(session_dir)
    keys = make_keys(tmp_path)
    async with running_server(session_dir, keys.file) as (runner, port):
        conn = await connect(runner, port, keys.viewer)
        term = await open_terminal(conn, size=(80, 24))
        await term.wait_for("Gate Room", PATIENCE_S)
    # the context closed the server with the terminal still open: the logout is on record at once
    logouts = [
        r["payload"]
        for r in store.records()
        if r["kind"] == ActionRecorded.kind and r["payload"]["action"] == "logout"
    ]
    assert [p["fingerprint"] for p in logouts] == [fingerprint(keys.viewer)], logouts
    with contextlib.suppress(asyncssh.Error, OSError):
        await term.close()
    conn.close()


async def test_a_go_without_the_owners_agent_is_refused_and_says_why(tmp_path: Path) -> None:
    session_dir = tmp_path / "session"
    operator_store = make_session(session_dir)
    keys = make_keys(tmp_path)
    async with running_server(session_dir, keys.file) as (runner, port):
        conn = await connect(runner, port, keys.owner)  # no -A: nothing can sign
        term = await open_terminal(conn)
        await term.wait_for("Gate Room", PATIENCE_S)
        term.type("5")
        await term.wait_for("Deciding as", PATIENCE_S)
        term.type("g")
        await term.wait_for("final for this evidence", PATIENCE_S)
        term.type("y")
        await term.wait_for("GO not recorded", PATIENCE_S)
        await term.wait_for("ssh -A", PATIENCE_S)
        await term.close()
        conn.close()
    assert not [r for r in operator_store.records() if r["kind"] == DecisionRecorded.kind]
