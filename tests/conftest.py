"""Shared fixtures: a real OpenSSH sshd on loopback, the sandbox VPS, and the snapshot folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_textual_snapshot

from backends.config import HostSettings
from backends.sandbox.faults import FaultSet
from backends.sandbox.vps import SandboxVps, VpsEndpoint
from tests.sshd import Sshd, start_sshd

ROOT = Path(__file__).resolve().parent.parent


# pytest-textual-snapshot keeps SVGs beside each test module; the project keeps them in snapshots/.
def _snapshot_dirname(cls: type, *, test_location: object) -> str:
    return str(ROOT / "snapshots" / test_location.basename)  # type: ignore[attr-defined]


pytest_textual_snapshot.SVGImageExtension.dirname = classmethod(_snapshot_dirname)  # type: ignore[assignment,method-assign]


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def sshd_host(server: Sshd, **overrides: object) -> HostSettings:
    values: dict[str, object] = {
        "name": "debian-sshd",
        "address": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "key": server.client_key,
        "known_hosts": server.known_hosts,
        "connect_timeout": 5.0,
        "command_timeout": 10.0,
    }
    values.update(overrides)
    return HostSettings.model_validate(values)


def vps_host(ep: VpsEndpoint, **overrides: object) -> HostSettings:
    values: dict[str, object] = {
        "name": "sandbox-vps",
        "address": ep.host,
        "port": ep.port,
        "user": ep.user,
        "key": ep.client_key,
        "known_hosts": ep.known_hosts,
        "connect_timeout": 5.0,
        "command_timeout": 10.0,
    }
    values.update(overrides)
    return HostSettings.model_validate(values)


@pytest.fixture
async def sandbox_vps(tmp_path: Path) -> AsyncIterator[SandboxVps]:
    vps = SandboxVps(tmp_path / "vps", FaultSet(), env_file_text="")
    await vps.start()
    yield vps
    await vps.stop()
