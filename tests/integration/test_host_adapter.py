"""The host adapter against a real OpenSSH sshd and against the sandbox VPS, over real sockets."""

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from backends.errors import AdapterError, ErrorKind
from backends.host import HostAdapter
from backends.sandbox.vps import SandboxVps
from tests.conftest import sshd_host, vps_host
from tests.patience import PATIENCE_S
from tests.sshd import Sshd, free_port


async def test_runs_commands_on_real_sshd(sshd: Sshd) -> None:
    async with HostAdapter(sshd_host(sshd)) as host:
        res = await host.run("cat /etc/os-release")
        assert res.ok and "ID=" in res.stdout
        res = await host.run("exit 3")
        assert res.exit_status == 3


async def test_output_is_redacted_at_the_source(sshd: Sshd) -> None:
    async with HostAdapter(sshd_host(sshd), redact=lambda t: t.replace("hunter22", "[REDACTED]")) as host:
        res = await host.run("echo password hunter22")
        assert "hunter22" not in res.stdout and "[REDACTED]" in res.stdout
        raw = await host.run("echo password hunter22", raw=True)
        assert "hunter22" in raw.stdout


async def test_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    other.write_text(f"[127.0.0.1]:{sshd.port} {key}\n")
    with pytest.raises(AdapterError) as info:
        await HostAdapter(sshd_host(sshd, known_hosts=other)).connect()
    assert info.value.kind is ErrorKind.HOST_KEY
    assert "\n" not in str(info.value)


async def test_wrong_user_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(wrong))
    with pytest.raises(AdapterError) as info:
        await HostAdapter(sshd_host(sshd, key=wrong)).connect()
    assert info.value.kind is ErrorKind.AUTH


async def test_missing_key_file(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"key file .* not found") as info:
        await HostAdapter(sshd_host(sshd, key=tmp_path / "nope")).connect()
    assert info.value.kind is ErrorKind.LOCAL


async def test_connection_refused(sshd: Sshd) -> None:
    with pytest.raises(AdapterError) as info:
        await HostAdapter(sshd_host(sshd, port=free_port())).connect()
    assert info.value.kind is ErrorKind.UNREACHABLE


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP but never speaks SSH: the connect timeout must fire."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


async def test_black_holed_host_times_out(sshd: Sshd, silent_port: int) -> None:
    host = HostAdapter(sshd_host(sshd, port=silent_port, connect_timeout=1.0))
    with pytest.raises(AdapterError) as info:
        await asyncio.wait_for(host.connect(), timeout=PATIENCE_S)
    assert info.value.kind is ErrorKind.TIMEOUT


async def test_command_timeout(sshd: Sshd) -> None:
    async with HostAdapter(sshd_host(sshd)) as host:
        with pytest.raises(AdapterError) as info:
            await host.run("sleep 5", timeout=0.5)
        assert info.value.kind is ErrorKind.TIMEOUT


async def test_sandbox_vps_answers_as_ubuntu(sandbox_vps: SandboxVps) -> None:
    assert sandbox_vps.endpoint is not None
    async with HostAdapter(vps_host(sandbox_vps.endpoint)) as host:
        res = await host.run("cat /etc/os-release")
        assert 'VERSION_ID="24.04"' in res.stdout
        assert (await host.run("nproc")).stdout.strip() == "8"
        missing = await host.run("no-such-tool --x")
        assert missing.exit_status == 127


async def test_dropped_connection_is_remade_once(sandbox_vps: SandboxVps) -> None:
    assert sandbox_vps.endpoint is not None
    async with HostAdapter(vps_host(sandbox_vps.endpoint)) as host:
        assert (await host.run("nproc")).ok
        sandbox_vps.drop_connections()
        await asyncio.sleep(0.05)
        assert (await host.run("nproc")).ok
