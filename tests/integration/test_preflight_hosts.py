"""Many hosts at once: unreachable, silent, re-keyed and key-refusing hosts each fail their SSH check
with one line, within their own timeout, while the healthy hosts finish all their checks."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from backends.checks.registry import REGISTRY, Scope
from backends.results import Status
from tests.conftest import sshd_host
from tests.integration.preflight_support import run_preflight, start_vps, vps_settings
from tests.sshd import Sshd, free_port

BLACK_HOLE_TIMEOUT = 2.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP and never speaks SSH: only the connect timeout ends the wait."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def _other_known_hosts(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "known_hosts_changed"
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    path.write_text(f"[127.0.0.1]:{port} {key}\n")
    return path


def _wrong_user_key(tmp_path: Path) -> Path:
    path = tmp_path / "wrong_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(path))
    return path


async def test_bad_hosts_fail_alone_and_fast(tmp_path: Path, sshd: Sshd, silent_port: int) -> None:
    vps_a, secrets_a = await start_vps(tmp_path / "a")
    vps_b, secrets_b = await start_vps(tmp_path / "b", ["vps.swap-on"])
    short = {"connect_timeout": 1.0, "command_timeout": 5.0}
    hosts = [
        vps_settings(vps_a, "vps-a"),
        vps_settings(vps_b, "vps-b"),
        sshd_host(sshd, name="debian"),
        sshd_host(sshd, name="dead", port=free_port(), **short),
        sshd_host(sshd, name="black-hole", port=silent_port, connect_timeout=BLACK_HOLE_TIMEOUT),
        sshd_host(sshd, name="rekeyed", known_hosts=_other_known_hosts(tmp_path, sshd.port), **short),
        sshd_host(sshd, name="wrong-key", key=_wrong_user_key(tmp_path), **short),
    ]
    started = time.monotonic()
    try:
        results = await run_preflight(
            hosts, tmp_path / "s", secrets=[*secrets_a.values(), *secrets_b.values()], concurrency=8
        )
    finally:
        await vps_a.stop()
        await vps_b.stop()
    elapsed = time.monotonic() - started

    expected_reason = {
        "dead": "refused",
        "black-hole": f"within {BLACK_HOLE_TIMEOUT:g}s",
        "rekeyed": "host key",
        "wrong-key": "refused our key",
    }
    for name, words in expected_reason.items():
        ssh = results[f"{name}/host.ssh"]
        assert ssh.status in {Status.FAIL, Status.ERROR}, (name, ssh)
        assert words in ssh.reason and "\n" not in ssh.reason and ssh.reason.startswith(name), ssh.reason
        skipped = [r for r in results.values() if r.target == name and r.check_id != "host.ssh"]
        assert skipped and all(r.status is Status.SKIP for r in skipped)

    host_checks = [s.check_id for s in REGISTRY.values() if s.scope is Scope.HOST]
    for name in ("vps-a", "vps-b", "debian"):
        assert results[f"{name}/host.ssh"].status is Status.PASS
        assert all(f"{name}/{c}" in results for c in host_checks), name
    assert all(r.status is Status.PASS for r in results.values() if r.target == "vps-a" and r.area == "host")
    assert results["vps-b/host.swap"].status is Status.FAIL
    assert results["debian/host.os"].status in {Status.FAIL, Status.PASS}
    # hosts run side by side: the silent host costs its own timeout once, not on top of the others
    assert elapsed < BLACK_HOLE_TIMEOUT + 8, elapsed


async def test_bounded_pool_still_finishes_every_host(tmp_path: Path) -> None:
    vpses = [await start_vps(tmp_path / f"v{i}") for i in range(5)]
    try:
        hosts = [vps_settings(v, f"vps-{i}") for i, (v, _) in enumerate(vpses)]
        secrets = [s for _, found in vpses for s in found.values()]
        results = await run_preflight(hosts, tmp_path / "s", secrets=secrets, concurrency=2)
    finally:
        for vps, _ in vpses:
            await vps.stop()
    for i in range(5):
        assert results[f"vps-{i}/host.tls"].status is Status.PASS
        assert results[f"vps-{i}/config.required-keys"].status is Status.PASS
