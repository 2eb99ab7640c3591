"""The attention hook as a real command: it gets each call as JSON on stdin, a hook that fails or hangs
is cut off and recorded, and the gate never waits for it (TUI and headless share the path)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from backends.attention_hook import AttentionHook
from backends.config import HostSettings, Settings, settings_from_dict
from backends.events import AttentionNeeded, Event, EventBus, HookFailed, HookRan
from backends.gate import open_gate
from backends.session import Session
from tests.integration.preflight_support import start_vps, vps_settings

#: an upper bound on waiting for something that happens in well under a second: never a measure
PATIENCE_S = 120.0
GATEROOM = [sys.executable, "-m", "tui.cli"]
TOKEN = "ghp_" + "T0kenOfTheGateItself" * 2


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def refused_port() -> int:
    """A loopback port nothing listens on: the SSH check fails at once, the gate runs to its end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_host(tmp_path: Path) -> dict[str, Any]:
    known = tmp_path / "known_hosts"
    known.write_text("")
    return {"name": "gone", "address": "127.0.0.1", "port": refused_port(), "known_hosts": str(known)}


def settings(hosts: list[dict[str, Any]], command: list[str], timeout_s: float = 10.0) -> Settings:
    return settings_from_dict({"hosts": hosts, "attention": {"command": command, "timeout_s": timeout_s}})


class Heard:
    """Collects the bus's events; `until` waits for a condition over them (no sleeps)."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        bus.subscribe(self._hear)

    def _hear(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(PATIENCE_S):
            while not done():
                self._changed.clear()
                await self._changed.wait()


def kinds(session_dir: Path) -> list[str]:
    return [r["kind"] for r in Session(session_dir).store.records()]


async def wait_gone(pid: int) -> None:
    """The process is dead (a zombie no one has reaped yet counts: it runs nothing)."""
    async with asyncio.timeout(PATIENCE_S):
        while True:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            await asyncio.sleep(0.05)


async def test_the_hook_gets_each_call_as_json_without_a_secret(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("GATEROOM_GITHUB_TOKEN", TOKEN)  # the gate's own token: never the hook's
    received, env_seen = tmp_path / "received.jsonl", tmp_path / "env.txt"
    hook = script(tmp_path / "hook.sh", f'cat >> "{received}"\nenv > "{env_seen}"\n')
    # a host on the wrong OS whose env file also copies a token into an ordinary key
    vps, secrets = await start_vps(tmp_path / "vps", ["vps.wrong-os", "env.secret-echo"])
    try:
        host: HostSettings = vps_settings(vps)
        gate = await open_gate(settings([host.model_dump(mode="json")], [str(hook)]), tmp_path / "s")
        heard = Heard(gate.bus)
        try:
            await gate.engine.run()
            calls = heard.of(AttentionNeeded)
            await heard.until(lambda: len(heard.of(HookRan)) + len(heard.of(HookFailed)) >= len(calls))
        finally:
            await gate.aclose()
    finally:
        await vps.stop()

    assert heard.of(HookFailed) == []
    documents = [json.loads(line) for line in received.read_text().splitlines()]
    by_check = {d["check"]: d for d in documents if d["kind"] == "failure"}
    assert {"sandbox-vps/host.os", "sandbox-vps/config.secrets"} <= set(by_check)
    wrong_os = by_check["sandbox-vps/host.os"]
    assert wrong_os["status"] == "FAIL" and wrong_os["title"] == "OS is Ubuntu 24.04"
    assert wrong_os["message"].startswith("Check sandbox-vps/host.os FAIL: ")
    assert wrong_os["session"] == gate.session.session_id and wrong_os["scenario"] is None
    assert wrong_os["target"] == gate.settings.target_label and wrong_os["ts"] > 0
    assert documents[-1]["kind"] == "verdict" and documents[-1]["status"] == "NO-GO"
    assert [d["kind"] for d in documents] == [c.need for c in calls], "one document per call, in order"
    text = received.read_text()
    for key, value in secrets.items():
        assert value not in text, f"{key} reached the hook"
    assert "GATEROOM_GITHUB_TOKEN" not in env_seen.read_text() and TOKEN not in env_seen.read_text()
    # every call and every delivery is in the evidence, and the chain still verifies
    recorded = kinds(tmp_path / "s")
    assert recorded.count("attention") == len(calls) == recorded.count("attention.hook")
    assert Session(tmp_path / "s").store.verify().ok


async def test_a_hanging_hook_is_stopped_and_recorded_after_the_gate_has_moved_on(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    hook = script(tmp_path / "hang.sh", f'echo $$ >> "{pids}"\nsleep 3600 &\necho $! >> "{pids}"\nwait\n')
    gate = await open_gate(settings([unreachable_host(tmp_path)], [str(hook)], timeout_s=4), tmp_path / "s")
    heard = Heard(gate.bus)
    try:
        await gate.engine.run()
        # the gate is done while the hook for its first failure still hangs: nothing waited for it
        assert heard.of(HookFailed) == [] and heard.of(HookRan) == []
        await heard.until(lambda: bool(heard.of(HookFailed)))
    finally:
        await gate.aclose()  # the end-of-gate call hangs too: cut off within its timeout, recorded

    failed = heard.of(HookFailed)
    assert [(f.need, f.item) for f in failed] == [("failure", "check:gone/host.ssh"), ("verdict", "gate")]
    assert all(f.reason == "no exit within 4s: stopped" for f in failed)
    recorded = kinds(tmp_path / "s")
    assert recorded.index("run.finished") < recorded.index("attention.hook-failed")
    assert recorded.count("attention.hook-failed") == 2
    for pid in map(int, pids.read_text().split()):  # the shell and the sleep it started
        await wait_gone(pid)


async def test_closing_stops_the_hook_and_accounts_for_every_call(tmp_path: Path) -> None:
    """A closing gate gives its queue one hook's timeout (and a moment): hooks past that are
    stopped, calls still waiting are counted; every call ends up in a record."""
    pids = tmp_path / "pids"
    hanging = script(tmp_path / "hang.sh", f'echo $$ >> "{pids}"\nexec sleep 3600\n')
    bus = EventBus()
    heard = Heard(bus)
    hook = AttentionHook([str(hanging)], 1, bus, lambda text: text)
    for n in range(6):
        hook.submit(AttentionNeeded("failure", f"call {n}", check_key=f"h/c{n}"), "s1")
    await hook.aclose()
    timed_out = [f for f in heard.of(HookFailed) if f.reason == "no exit within 1s: stopped"]
    stopped = [f for f in heard.of(HookFailed) if f.reason.startswith("stopped: the gate closed")]
    counted = [f for f in heard.of(HookFailed) if f.reason.endswith("not sent: the gate closed first")]
    assert timed_out and len(counted) == 1 and heard.of(HookRan) == []
    waiting = int(counted[0].reason.split()[0])
    assert len(timed_out) + len(stopped) + waiting == 6
    hook.submit(AttentionNeeded("verdict", "late"), "s1")  # after closing: counted, never run
    assert hook.dropped == 1
    for pid in map(int, pids.read_text().split()):
        await wait_gone(pid)


async def test_a_missing_program_is_recorded_in_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-notifier")
    gate = await open_gate(settings([unreachable_host(tmp_path)], [missing]), tmp_path / "s")
    heard = Heard(gate.bus)
    try:
        await gate.engine.run()
        await heard.until(lambda: len(heard.of(HookFailed)) >= len(heard.of(AttentionNeeded)))
    finally:
        await gate.aclose()
    assert {f.reason for f in heard.of(HookFailed)} == {f"{missing}: no such program"}


def test_headless_runs_the_hook_and_says_when_it_fails(tmp_path: Path) -> None:
    """`gateroom run --headless`: the same path as the control room, minus the bell. The script is
    named relative to the config file, copies what it got and exits 3."""
    received = tmp_path / "received.jsonl"
    script(tmp_path / "notify.sh", f'cat >> "{received}"\necho "webhook refused: 403" >&2\nexit 3\n')
    host = unreachable_host(tmp_path)
    config = tmp_path / "gateroom.toml"
    config.write_text(
        f"""
[[hosts]]
name = "gone"
address = "127.0.0.1"
port = {host["port"]}
known_hosts = "{host["known_hosts"]}"

[attention]
command = ["./notify.sh"]
timeout_s = 30
"""
    )
    proc = subprocess.run(
        [*GATEROOM, "run", "--headless", "--config", str(config), "--session-dir", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=PATIENCE_S,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the host could not be reached
    assert "Traceback" not in proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.startswith("gateroom: attention hook: ")]
    assert said == [f"gateroom: attention hook: {tmp_path / 'notify.sh'}: exit 3: webhook refused: 403"] * 2
    documents = [json.loads(line) for line in received.read_text().splitlines()]
    assert [(d["kind"], d["check"]) for d in documents] == [("failure", "gone/host.ssh"), ("verdict", None)]
    assert kinds(tmp_path / "s").count("attention.hook-failed") == 2


async def test_calls_beyond_the_queue_are_dropped_and_counted(tmp_path: Path) -> None:
    received = tmp_path / "received.jsonl"
    hook_script = script(tmp_path / "copy.sh", f'cat >> "{received}"\n')
    bus = EventBus()
    heard = Heard(bus)
    hook = AttentionHook([str(hook_script)], 600, bus, lambda text: text, queue_size=2)
    for n in range(6):  # a burst, all at once: submit never waits, so two fit and four do not
        hook.submit(AttentionNeeded("failure", f"call {n}", check_key=f"h/c{n}"), "s1")
    assert hook.dropped == 4
    await heard.until(lambda: bool(heard.of(HookFailed)))
    await hook.aclose()
    assert [r.item for r in heard.of(HookRan)] == ["check:h/c0", "check:h/c1"]
    (dropped,) = heard.of(HookFailed)
    assert dropped.reason == "4 attention event(s) not sent: the hook was still busy with earlier ones"
    assert [json.loads(line)["message"] for line in received.read_text().splitlines()] == ["call 0", "call 1"]
