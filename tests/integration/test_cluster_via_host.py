"""The cluster as a real VPS allows it: k3s.yaml read over SSH with sudo (kept in memory only), the
API through a port forward over the host's SSH connection, re-made when that connection drops."""

from __future__ import annotations

import base64
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh
import pytest
import yaml

from backends.bundle.export import export_bundle
from backends.cluster import ClusterAdapter
from backends.config import settings_from_dict
from backends.gate import Gate, open_demo_gate
from backends.host import HostAdapter
from backends.results import Status
from backends.sandbox.vps_model import KUBECONFIG as K3S_YAML
from backends.sandbox.world import SandboxWorld
from tests.patience import until

CLUSTER_KEYS = {"cluster/cluster.api", "cluster/cluster.nodes"}
RBAC_KEYS = {"rbac/sec.rbac-cluster-admin", "rbac/sec.operator-access"}


@pytest.fixture
async def gate(tmp_path: Path) -> AsyncIterator[Gate]:
    g = await open_demo_gate(tmp_path / "session", via_host=True)
    yield g
    await g.aclose()


async def _until(predicate: Callable[[], bool]) -> None:
    await until(predicate, "the forward's state")


def _key_material(gate: Gate) -> list[str]:
    assert gate.world is not None and gate.world.vps is not None
    doc = yaml.safe_load(gate.world.vps.facts.files[K3S_YAML].content)
    user = doc["users"][0]["user"]
    key_b64 = user["client-key-data"]
    key_pem = base64.b64decode(key_b64).decode()
    body = "".join(line for line in key_pem.splitlines() if "-----" not in line)
    return [key_b64, body[:40], body[-40:]]


async def test_cluster_through_the_hosts_ssh_connection(gate: Gate, tmp_path: Path) -> None:
    settings = gate.settings.cluster
    assert settings is not None and settings.kubeconfig_on_host and settings.via_host == "sandbox-vps"
    engine = gate.engine
    wanted = CLUSTER_KEYS | RBAC_KEYS
    await engine.run_checks(only=wanted)
    checks = gate.session.state.checks
    for key in wanted:
        assert checks[key].status is Status.PASS, (key, checks[key].reason)
    assert "SSH port forward over sandbox-vps" in checks["cluster/cluster.api"].expected
    assert "k3s.yaml read over SSH" in checks["cluster/cluster.api"].expected
    cluster = engine.cluster
    assert cluster is not None and cluster.forward is not None
    assert cluster.describe().startswith("https://127.0.0.1:")
    port = cluster.forward.port

    # pod logs flow through the forward into the logs pane's files
    assert gate.world is not None and gate.world.vps is not None and gate.world.kube_state is not None
    logs = gate.session.dir / "logs"

    def logged(text: str) -> bool:
        return any(text in p.read_text(errors="replace") for p in logs.glob("*.log"))

    state = gate.world.kube_state
    state.append_pod_log("kodex-prod", "postgres-0", "before the drop: checkpoint complete")
    await _until(lambda: logged("before the drop: checkpoint complete"))

    # the SSH connection dies mid-gate: the forward is re-made on the same port, the gap is logged
    gate.world.vps.drop_connections()
    forward = cluster.forward
    await _until(lambda: forward.drops >= 1)
    assert (await cluster.nodes())[0].ready
    assert forward.port == port
    await engine.run_checks(only=CLUSTER_KEYS)
    assert all(checks[k].status is Status.PASS for k in CLUSTER_KEYS)
    await _until(lambda: logged("cluster port forward over sandbox-vps re-made"))
    state.append_pod_log("kodex-prod", "postgres-0", "after the drop: checkpoint complete")
    await _until(lambda: logged("after the drop: checkpoint complete"))

    # k3s.yaml's key never reached the session, its logs or the bundle
    gate.session.store.flush()
    bundle = tmp_path / "gate.tar.gz"
    export_bundle(gate.session.dir, bundle)
    blobs = [p.read_bytes() for p in gate.session.dir.rglob("*") if p.is_file()]
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                blobs.append(f.read())
    key_b64 = _key_material(gate)[0]
    assert key_b64 not in engine.redactor.redact(f"client-key-data: {key_b64}")  # redacted from here on
    assert blobs and len(blobs) > 3
    for secret in _key_material(gate):
        assert not any(secret.encode() in blob for blob in blobs), secret[:8]


async def test_a_kubeconfig_file_through_the_forward(tmp_path: Path) -> None:
    # k3s.yaml copied to the operator's machine: its server (127.0.0.1:6443) is the host's own loopback
    world = SandboxWorld.create(workdir=tmp_path / "sandbox")
    await world.start()
    try:
        assert world.vps is not None
        path = tmp_path / "k3s.yaml"
        path.write_text(world.vps.facts.files[K3S_YAML].content)
        data = world.settings_dict()
        data["cluster"] = {"kubeconfig": str(path), "via_host": "sandbox-vps", "timeout": 5.0}
        settings = settings_from_dict(data)
        assert settings.cluster is not None
        host = HostAdapter(settings.hosts[0])
        cluster = ClusterAdapter(settings.cluster, host=host)
        try:
            await cluster.connect()
            assert (await cluster.nodes())[0].ready
            assert cluster.route == "SSH port forward over sandbox-vps"
            assert cluster.forward is not None and cluster.forward.dest == ("127.0.0.1", 6443)
        finally:
            await cluster.aclose()
            await host.close()
    finally:
        await world.stop()


async def test_the_vps_forwards_only_to_its_kubernetes_api(tmp_path: Path) -> None:
    world = SandboxWorld.create(workdir=tmp_path / "sandbox")
    await world.start()
    try:
        assert world.vps is not None and world.vps.endpoint is not None and world.kube_api is not None
        ep = world.vps.endpoint
        async with asyncssh.connect(
            ep.host,
            ep.port,
            username=ep.user,
            client_keys=[str(ep.client_key)],
            known_hosts=str(ep.known_hosts),
        ) as conn:
            with pytest.raises(asyncssh.ChannelOpenError, match="not permitted"):
                await conn.open_connection("127.0.0.1", world.kube_api.port)
            _, writer = await conn.open_connection("127.0.0.1", 6443)
            writer.close()
    finally:
        await world.stop()
