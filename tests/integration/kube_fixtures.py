"""The sandbox Kubernetes API server on loopback, and settings that point the cluster adapter at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.config import ClusterSettings
from backends.sandbox.faults import FaultSet
from backends.sandbox.kube_api import SandboxKubeApi
from backends.sandbox.kube_state import KubeState


@dataclass
class KubeSandbox:
    state: KubeState
    api: SandboxKubeApi
    faults: FaultSet
    kubeconfig: Path

    def settings(self, **overrides: object) -> ClusterSettings:
        values: dict[str, object] = {"kubeconfig": self.kubeconfig, "context": "sandbox", "timeout": 1.0}
        values.update(overrides)
        return ClusterSettings.model_validate(values)


async def start_kube(workdir: Path, faults: Iterable[str] = ()) -> KubeSandbox:
    fault_set = FaultSet(faults)
    state = KubeState(fault_set)
    # Slow answers need only outlast the short test timeouts.
    api = SandboxKubeApi(state, fault_set, slow_s=5.0)
    await api.start()
    return KubeSandbox(state, api, fault_set, api.write_kubeconfig(workdir / "kubeconfig"))


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[KubeSandbox]:
    sandbox = await start_kube(tmp_path)
    yield sandbox
    await sandbox.api.stop()
