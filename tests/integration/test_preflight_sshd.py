"""The preflight against this machine's real OpenSSH sshd: it is Debian, not a bootstrapped host, and
every check must say so plainly (a FAIL with a reason), never crash or stay silent."""

from __future__ import annotations

import asyncio
import pwd
from pathlib import Path

import pytest

from backends.results import Status
from backends.sandbox.envfile_template import healthy_env_file
from tests.conftest import sshd_host
from tests.integration.preflight_support import run_preflight
from tests.sshd import Sshd


@pytest.fixture(scope="module")
def debian_results(sshd: Sshd, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One run for the whole module: the machine does not change between the assertions."""
    tmp_path = tmp_path_factory.mktemp("debian")
    text, _ = healthy_env_file(host="127.0.0.1")
    env_file = tmp_path / "config.env"  # on the "host", which is this machine
    env_file.write_text(text)
    env_file.chmod(0o640)
    host = sshd_host(sshd, name="debian", env_file=str(env_file))
    return dict(asyncio.run(run_preflight([host], tmp_path / "s")))


def _os_release() -> dict[str, str]:
    values = {}
    for line in Path("/etc/os-release").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value.strip('"')
    return values


def test_every_check_reports_without_crashing(debian_results: dict) -> None:
    assert debian_results["debian/host.ssh"].status is Status.PASS
    for key, result in debian_results.items():
        assert result.status is not Status.ERROR, f"{key}: {result.reason}"
        assert "Traceback" not in result.reason and "\n" not in result.reason
        if result.status in {Status.FAIL, Status.WARN, Status.SKIP}:
            assert result.reason, key


def test_os_is_reported_honestly(debian_results: dict) -> None:
    info = _os_release()
    result = debian_results["debian/host.os"]
    if info.get("ID") == "ubuntu" and info.get("VERSION_ID") == "24.04":
        assert result.status is Status.PASS
    else:
        assert result.status is Status.FAIL
        assert result.reason == f"{info['PRETTY_NAME']}, expected Ubuntu 24.04"


HAS_K3S = Path("/etc/rancher/k3s/k3s.yaml").exists()
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
HAS_BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists()


def test_no_k3s_here_is_a_clear_failure(debian_results: dict) -> None:
    if HAS_K3S:
        pytest.skip("this machine runs k3s")
    assert debian_results["debian/host.kubeconfig"].status is Status.FAIL
    assert "k3s.yaml is missing" in debian_results["debian/host.kubeconfig"].reason
    k3s = debian_results["debian/host.k3s"]
    assert k3s.status is Status.FAIL
    assert k3s.reason in {"k3s service is inactive", "k3s is not running: no systemd on the host"} or (
        k3s.reason.startswith("k3s service is ")
    )


def test_sysctl_observes_the_real_values(debian_results: dict) -> None:
    result = debian_results["debian/host.sysctl"]
    assert f"net.ipv4.ip_forward={IP_FORWARD}" in result.observed
    if IP_FORWARD != "1" or not HAS_BRIDGE_NF:
        assert result.status is Status.FAIL


def test_sandbox_domains_do_not_resolve_here(debian_results: dict) -> None:
    dns = debian_results["debian/host.dns"]
    assert dns.status is Status.FAIL
    assert "platform.gate.sandbox.test does not resolve on the host" in dns.reason
    tls = debian_results["debian/host.tls"]
    assert tls.status is Status.FAIL and "platform.gate.sandbox.test:443" in tls.reason


def test_env_file_group_readable_is_a_warning(debian_results: dict) -> None:
    result = debian_results["debian/config.file-mode"]
    assert result.status is Status.WARN and "mode 640" in result.reason


def test_operator_user_is_looked_up(debian_results: dict) -> None:
    result = debian_results["debian/host.operator"]
    try:
        pwd.getpwnam("codex")
    except KeyError:
        assert result.status is Status.FAIL and result.reason == "user codex does not exist"
    else:
        assert result.status in {Status.PASS, Status.FAIL}
