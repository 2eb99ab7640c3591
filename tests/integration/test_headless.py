"""`gateroom demo --headless` and `gateroom run --headless` end to end, as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from backends.plan.loader import load_plan
from tests.conftest import DemoRun
from tests.patience import PATIENCE_S
from tests.sshd import Sshd

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first


def gateroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=PATIENCE_S,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_demo_headless_unhealthy_host_is_no_go_naming_checks(tmp_path: Path) -> None:
    proc = gateroom(
        "demo",
        "--headless",
        "--session-dir",
        str(tmp_path / "s"),
        "--fault",
        "vps.wrong-os",
        "--fault",
        "vps.low-memory",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "NO-GO" in out
    assert "check sandbox-vps/host.os FAIL" in out
    assert "check sandbox-vps/host.memory FAIL" in out
    assert "host.cpu FAIL" not in out


def test_unknown_fault_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = gateroom("demo", "--headless", "--fault", "no.such-fault")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown fault 'no.such-fault'" in proc.stderr


def _config(tmp_path: Path, sshd: Sshd, **host: object) -> Path:
    values = {
        "name": "debian",
        "address": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "key": str(sshd.client_key),
        "known_hosts": str(sshd.known_hosts),
        "connect_timeout": 2,
        **host,
    }
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
    path = tmp_path / "gateroom.toml"
    path.write_text(f"[[hosts]]\n{body}\n")
    return path


def test_malformed_config_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "gateroom.toml"
    bad.write_text("[[hosts]]\nname = 'x'\nport = 'twenty-two'\n")
    proc = gateroom("run", "--headless", "--config", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"gateroom: {bad}: hosts[0]")
    assert proc.stderr.count("\n") == 1


def test_missing_key_file_exit_2(tmp_path: Path, sshd: Sshd) -> None:
    config = _config(tmp_path, sshd, key=str(tmp_path / "missing_key"))
    proc = gateroom("run", "--headless", "--config", str(config), "--session-dir", str(tmp_path / "s"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "missing_key not found" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_host_key_exit_2(tmp_path: Path, sshd: Sshd) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = _config(tmp_path, sshd, known_hosts=str(empty))
    proc = gateroom("run", "--headless", "--config", str(config), "--session-dir", str(tmp_path / "s"))
    assert proc.returncode == 2
    assert "host key" in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_host_exit_2(tmp_path: Path, sshd: Sshd) -> None:
    from tests.sshd import free_port

    config = _config(tmp_path, sshd, port=free_port())
    proc = gateroom("run", "--headless", "--config", str(config), "--session-dir", str(tmp_path / "s"))
    assert proc.returncode == 2
    assert "refused" in proc.stderr and "Traceback" not in proc.stderr


def test_real_debian_sshd_reports_honestly(tmp_path: Path, sshd: Sshd) -> None:
    config = _config(tmp_path, sshd)
    proc = gateroom("run", "--headless", "--config", str(config), "--session-dir", str(tmp_path / "s"))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    os_line = next(line for line in proc.stdout.splitlines() if "host.os" in line)
    release = Path("/etc/os-release").read_text()
    if "ID=ubuntu" in release and 'VERSION_ID="24.04"' in release:
        assert "PASS" in os_line
    else:
        assert "FAIL" in os_line and "expected Ubuntu 24.04" in os_line


# last in the module: the session's demo gate, started with the first test, has had time to finish
def test_demo_headless_is_go(demo_run: DemoRun) -> None:
    # `gateroom demo --headless --verbose --junit --json`, run once for the whole test session
    proc, junit, report = demo_run, demo_run.junit, demo_run.report
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # --verbose: where each sandbox server listens, so kubectl, curl or ssh can be pointed at it
    for prefix in ("ssh host   127.0.0.1:", "kubernetes https://127.0.0.1:", "github api http://127.0.0.1:"):
        assert any(line.startswith(prefix) for line in proc.stdout.splitlines()), prefix
    # the demo's cluster is HTTPS with the sandbox's CA and a client certificate, as k3s serves it
    kube_line = next(line for line in proc.stdout.splitlines() if line.startswith("kubernetes "))
    kubeconfig = Path(kube_line.split("--kubeconfig ", 1)[1].split()[0]).read_text()
    assert "certificate-authority-data" in kubeconfig and "client-certificate-data" in kubeconfig
    assert proc.stdout.strip().splitlines()[-1] == "GO"
    assert "Traceback" not in proc.stderr
    data = json.loads(report.read_text())
    assert data["verdict"] == "GO" and data["checks"]
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == len(data["checks"]) + len(data["scenarios"])
    scenario_cases = {c.get("name") for c in cases if str(c.get("classname")).startswith("scenarios.")}
    plan = load_plan(None)
    assert scenario_cases == {s.id for s in plan.scenarios}, "one JUnit case per scenario of the plan"
    statuses = {s["id"]: s["status"] for s in data["scenarios"]}
    manual = {s.id for s in plan.scenarios if s.mode == "manual"}
    assert all(statuses[sid] == "MANUAL" for sid in manual)  # headless: waiting for the operator
    assert all(st == "PASS" for sid, st in statuses.items() if sid not in manual), statuses
    cov = data["coverage"]
    assert cov["labels"] == len(plan.labels) and cov["labels"] > 50
    assert cov["uncovered"] == [] and cov["planned_only"] == [], cov
    assert cov["exercised"] == cov["labels"]


def test_resume_keeps_results_and_does_not_rerun(demo_run: DemoRun, tmp_path: Path) -> None:
    assert demo_run.returncode == 0
    session = demo_run.copy_session(tmp_path / "s")
    second = gateroom("demo", "--headless", "--session-dir", str(session))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "[ PASS]" not in second.stdout, "finished checks must not run again on resume"
    assert second.stdout.strip().splitlines()[-1] == "GO"


def test_the_demo_gate_witnesses_its_head_after_each_phase(demo_run: DemoRun) -> None:
    """Checks, scenarios and the end each post the chain head as it stood, on one issue of the session."""
    from backends.evidence.store import EvidenceStore
    from backends.session import STORE_FILE

    records = EvidenceStore(demo_run.session / STORE_FILE).records()
    witnesses = [r["payload"] for r in records if r["kind"] == "witness"]
    assert [w["phase"] for w in witnesses] == ["checks", "scenarios", "finished"], witnesses
    assert len({w["issue"] for w in witnesses}) == 1 and all(w["url"] and not w["reason"] for w in witnesses)
    for w in witnesses:
        assert records[w["records"] - 1]["hash"] == w["head"], w
    assert witnesses[0]["records"] < witnesses[1]["records"] < witnesses[2]["records"]
