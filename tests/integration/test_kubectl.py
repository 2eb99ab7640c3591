"""The real kubectl against the sandbox's Kubernetes API, with the kubeconfig `gateroom sandbox`
writes: HTTPS with the sandbox's CA, a client certificate, discovery, Tables, logs, impersonation."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends.sandbox.world import KUBE_CONTEXT, SandboxWorld

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (scripts/test installs it)")
RUN_NS = "codex-issue-0123456789ab-i7-rabcdef012345"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SandboxWorld]:
    w = SandboxWorld.create(workdir=tmp_path / "sandbox")
    await w.start()
    yield w
    await w.stop()


async def _kubectl(world: SandboxWorld, home: Path, *args: str) -> tuple[int, str, str]:
    assert KUBECTL is not None and world.kubeconfig is not None
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": ""}
    proc = await asyncio.create_subprocess_exec(
        KUBECTL,
        "--kubeconfig",
        str(world.kubeconfig),
        "--context",
        KUBE_CONTEXT,
        "--cache-dir",
        str(home / "cache"),
        "--request-timeout",
        "20s",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_kubectl_reads_the_sandbox(world: SandboxWorld, tmp_path: Path) -> None:
    state = world.kube_state
    assert state is not None and world.kubeconfig is not None
    kubeconfig = world.kubeconfig.read_text()
    assert "client-certificate-data" in kubeconfig and "certificate-authority-data" in kubeconfig
    assert "server: https://127.0.0.1:" in kubeconfig
    state.create_namespace(RUN_NS, {"kodex.works/namespace-purpose": "run"}, {})
    state.seed_run_namespace(RUN_NS)
    pod = state.create_run_workload(
        RUN_NS,
        "kodex-run-abcdef012345",
        {"kodex.works/run-id": "abcdef012345"},
        {},
        sa="codex-runner",
        job=True,
    )
    state.append_pod_log(RUN_NS, pod, "agent started: reading the issue")

    code, out, err = await _kubectl(world, tmp_path, "get", "ns")
    assert code == 0, err
    assert out.split()[:3] == ["NAME", "STATUS", "AGE"] and RUN_NS in out and "kodex-prod" in out

    code, out, err = await _kubectl(world, tmp_path, "get", "pods", "-A")
    assert code == 0, err
    assert out.split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [RUN_NS, pod] for line in out.splitlines())

    code, out, err = await _kubectl(world, tmp_path, "logs", "-n", RUN_NS, pod, "-c", "run")
    assert code == 0, err
    assert "agent started: reading the issue" in out

    runner = f"system:serviceaccount:{RUN_NS}:codex-runner"
    code, out, err = await _kubectl(
        world, tmp_path, "auth", "can-i", "get", "secrets", "--as", runner, "-n", RUN_NS
    )
    assert (code, out.strip()) == (1, "no"), err
    code, out, err = await _kubectl(
        world, tmp_path, "auth", "can-i", "get", "pods", "--as", runner, "-n", RUN_NS
    )
    assert (code, out.strip()) == (0, "yes"), err
