"""Preflight runs through the real engine against sandbox VPSes and sshd hosts, over real SSH."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from backends.config import HostSettings, settings_from_dict
from backends.gate import open_gate
from backends.results import CheckResult
from backends.sandbox.envfile_template import healthy_env_file
from backends.sandbox.faults import FaultSet
from backends.sandbox.vps import SandboxVps
from backends.sandbox.vps_model import ENV_FILE_PATH
from tests.conftest import vps_host


async def start_vps(
    workdir: Path, faults: Iterable[str] = (), *, env: bool = True
) -> tuple[SandboxVps, dict[str, str]]:
    text, secrets = healthy_env_file(host="127.0.0.1") if env else ("", {})
    vps = SandboxVps(workdir, FaultSet(faults), env_file_text=text)
    await vps.start()
    return vps, secrets


def vps_settings(vps: SandboxVps, name: str = "sandbox-vps", **overrides: object) -> HostSettings:
    assert vps.endpoint is not None
    values: dict[str, object] = {"name": name, "env_file": ENV_FILE_PATH}
    values.update(overrides)
    return vps_host(vps.endpoint, **values)


async def run_preflight(
    hosts: list[HostSettings], session_dir: Path, *, secrets: Iterable[str] = (), **extra: object
) -> dict[str, CheckResult]:
    """Every check of the default plan on these hosts; results by key (`host/check-id`)."""
    settings = settings_from_dict({"hosts": [h.model_dump(mode="json") for h in hosts], **extra})
    gate = await open_gate(settings, session_dir, secrets=secrets)
    try:
        await gate.engine.run_checks()
        return dict(gate.session.state.checks)
    finally:
        await gate.aclose()


def statuses(results: dict[str, CheckResult]) -> dict[str, str]:
    return {key: str(r.status) for key, r in results.items()}
