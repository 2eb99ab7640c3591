"""A busy API server answers late, a dead one never: the cluster adapter asks a read again with more
patience, so a late answer is an answer, and a server that never answers is still a timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.cluster import RETRY_PATIENCE, ClusterAdapter
from backends.errors import AdapterError, ErrorKind
from tests.integration.kube_fixtures import start_kube

TIMEOUT_S = 0.5


async def test_a_late_answer_is_waited_for_on_the_retry(tmp_path: Path) -> None:
    kube = await start_kube(tmp_path, ["cluster.api-slow"])
    # later than one timeout, sooner than the retry's patience
    kube.api.slow_s = TIMEOUT_S * (1 + RETRY_PATIENCE) / 2
    try:
        async with ClusterAdapter(kube.settings(timeout=TIMEOUT_S)) as cluster:
            names = [n.name for n in await cluster.namespaces("kubernetes.io/metadata.name=kodex-prod")]
            allowed = await cluster.can_i("list", "namespaces", "")
    finally:
        await kube.api.stop()
    assert names == ["kodex-prod"]
    assert allowed.allowed


async def test_a_server_that_never_answers_is_a_timeout_naming_both_waits(tmp_path: Path) -> None:
    kube = await start_kube(tmp_path, ["cluster.api-slow"])  # its answers come after 5s
    try:
        with pytest.raises(AdapterError) as info:
            await ClusterAdapter(kube.settings(timeout=TIMEOUT_S)).connect()
    finally:
        await kube.api.stop()
    assert info.value.kind is ErrorKind.TIMEOUT
    message = str(info.value)
    assert f"within {TIMEOUT_S:g}s" in message and f"within {TIMEOUT_S * RETRY_PATIENCE:g}s" in message
    assert "\n" not in message
