"""The preflight against the sandbox VPS over real SSH: healthy passes, each fault fails its check only."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.checks.registry import REGISTRY, Scope
from backends.results import Status
from backends.sandbox.faults import CATALOGUE
from tests.integration.preflight_support import run_preflight, start_vps, statuses, vps_settings

HOST_AND_ENV_FAULTS = sorted(n for n in CATALOGUE if n.split(".")[0] in {"vps", "env"})


async def test_healthy_sandbox_passes_every_host_and_env_check(tmp_path: Path) -> None:
    vps, secrets = await start_vps(tmp_path / "vps")
    try:
        results = await run_preflight([vps_settings(vps)], tmp_path / "s", secrets=secrets.values())
    finally:
        await vps.stop()
    expected = [s.check_id for s in REGISTRY.values() if s.scope in {Scope.HOST, Scope.ENV}]
    assert {r.check_id for r in results.values()} >= set(expected)
    not_passed = {k: f"{r.status}: {r.reason}" for k, r in results.items() if r.status is not Status.PASS}
    assert not_passed == {}


def test_every_host_and_env_check_has_a_fault() -> None:
    targeted = {check for name in HOST_AND_ENV_FAULTS for check in CATALOGUE[name].breaks}
    wanted = {s.check_id for s in REGISTRY.values() if s.scope in {Scope.HOST, Scope.ENV}}
    assert wanted - targeted == set()


@pytest.mark.parametrize("fault", HOST_AND_ENV_FAULTS)
async def test_fault_fails_exactly_its_check(tmp_path: Path, fault: str) -> None:
    vps, secrets = await start_vps(tmp_path / "vps", [fault])
    try:
        results = await run_preflight([vps_settings(vps)], tmp_path / "s", secrets=secrets.values())
    finally:
        await vps.stop()
    targets = set(CATALOGUE[fault].breaks)
    failing = {r.check_id for r in results.values() if r.status is Status.FAIL}
    assert failing == targets, statuses(results)
    others = {
        r.check_id: str(r.status)
        for r in results.values()
        if r.check_id not in targets and r.status not in {Status.PASS, Status.SKIP}
    }
    assert others == {}
    for check_id in targets:
        result = results[f"sandbox-vps/{check_id}"]
        assert result.reason and "\n" not in result.reason
        assert result.command  # evidence names what was run


async def test_secrets_never_reach_results(tmp_path: Path) -> None:
    # the echo fault copies a token into an ordinary key: the reports must still name keys only
    vps, secrets = await start_vps(tmp_path / "vps", ["env.secret-echo"])
    try:  # no secrets handed to the redactor up front: the checks themselves must not echo values
        results = await run_preflight([vps_settings(vps)], tmp_path / "s")
    finally:
        await vps.stop()
    for result in results.values():
        text = " ".join([result.observed, result.expected, result.reason, result.command, result.output])
        for key, value in secrets.items():
            assert value not in text, f"{key} leaked into {result.key}"
    assert "KODEX_GIT_BOT_TOKEN" in results["sandbox-vps/config.secrets"].reason


async def test_results_carry_command_and_excerpt(tmp_path: Path) -> None:
    vps, secrets = await start_vps(tmp_path / "vps", ["vps.k3s-inactive"])
    try:
        results = await run_preflight([vps_settings(vps)], tmp_path / "s", secrets=secrets.values())
    finally:
        await vps.stop()
    k3s = results["sandbox-vps/host.k3s"]
    assert k3s.command == "systemctl is-active k3s"
    assert k3s.output.strip() == "inactive"
    assert k3s.observed == "inactive" and k3s.expected == "active"
    assert k3s.reason == "k3s service is inactive"


async def test_local_env_copy_is_checked_on_this_machine(tmp_path: Path) -> None:
    from backends.sandbox.envfile_template import healthy_env_file

    key = tmp_path / "id_ed25519"
    key.write_text("not really a key\n")
    text, _ = healthy_env_file(host="127.0.0.1")
    text = text.replace("${HOME}/.ssh/id_ed25519.pub", str(tmp_path / "absent.pub"))
    text = text.replace("${HOME}/.ssh/id_ed25519", str(key))
    local = tmp_path / "config.env"
    local.write_text(text)
    local.chmod(0o644)
    vps, _ = await start_vps(tmp_path / "vps")
    try:
        results = await run_preflight(
            [vps_settings(vps, env_file=None)], tmp_path / "s", codex={"env_file": str(local)}
        )
    finally:
        await vps.stop()
    mode = results["local/config.file-mode"]
    assert mode.status is Status.FAIL and "world-readable (mode 644)" in mode.reason
    keys = results["local/config.key-files"]
    assert keys.status is Status.FAIL
    assert keys.reason == f"OPERATOR_SSH_PUBKEY_PATH: {tmp_path / 'absent.pub'} is missing on this machine"
    assert results["local/config.required-keys"].status is Status.PASS
    # host checks compare against the local copy when the host names none
    assert results["sandbox-vps/host.dns"].status is Status.PASS
