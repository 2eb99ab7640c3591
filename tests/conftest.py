"""Shared fixtures: a real OpenSSH sshd on loopback, the sandbox VPS, the snapshot folder, and one
healthy demo gate per test session for the tests that only read what it recorded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_textual_snapshot
from filelock import FileLock

from backends.config import HostSettings
from backends.sandbox.faults import FaultSet
from backends.sandbox.vps import SandboxVps, VpsEndpoint
from tests import demo_gate
from tests.patience import PATIENCE_S, wait_until
from tests.sshd import Sshd, start_sshd

ROOT = Path(__file__).resolve().parent.parent


# pytest-textual-snapshot keeps SVGs beside each test module; the project keeps them in snapshots/.
def _snapshot_dirname(cls: type, *, test_location: object) -> str:
    return str(ROOT / "snapshots" / test_location.basename)  # type: ignore[attr-defined]


pytest_textual_snapshot.SVGImageExtension.dirname = classmethod(_snapshot_dirname)  # type: ignore[assignment,method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules marked `heavy` (whole sandbox gates, hundreds of kills) go first: pytest-xdist hands
    modules to its workers in this order, and the long ones starting early lets the workers end
    together instead of one finishing a long module alone."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


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


# -- one healthy demo gate per test session ----------------------------------------------------------
@dataclass(frozen=True)
class DemoRun:
    """`gateroom demo --headless --verbose --junit --json` on the healthy sandbox, as a user runs it."""

    returncode: int
    stdout: str
    stderr: str
    session: Path
    junit: Path
    report: Path

    def copy_session(self, to: Path) -> Path:
        """A copy of the finished session for a test that changes it (resumes, decides, signs)."""
        shutil.copytree(self.session, to)
        return to


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees (pytest-xdist gives each worker a temp dir of its own)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def _demo_gate_in_background(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Start the session's demo gate as soon as the first test of any worker runs, when a selected
    test reads it: the gate mostly waits on the sandbox, so by the time a reader asks, it is done."""
    proc = None
    if any("demo_run" in getattr(item, "fixturenames", ()) for item in request.session.items):
        root = shared_root(tmp_path_factory) / "demo"
        with FileLock(f"{root}.lock"):
            if not root.exists():
                root.mkdir()
                proc = subprocess.Popen([sys.executable, "-m", "tests.demo_gate", str(root)], cwd=ROOT)
    try:
        yield
    finally:
        if proc is not None:  # the gate this worker started ends before the run does
            try:
                proc.wait(timeout=PATIENCE_S)
            finally:
                proc.kill()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    root = shared_root(tmp_path_factory) / "demo"
    wait_until(lambda: (root / demo_gate.RETURNCODE).exists(), "the session's demo gate")
    return DemoRun(
        int((root / demo_gate.RETURNCODE).read_text()),
        (root / demo_gate.STDOUT).read_text(),
        (root / demo_gate.STDERR).read_text(),
        root / demo_gate.SESSION,
        root / demo_gate.JUNIT,
        root / demo_gate.REPORT,
    )
