"""TLS failures reaching the Kubernetes API, each named in one line: against the sandbox API server
(HTTPS with its own CA and client certificates) through the real client, and headless exit 2."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from backends.cluster import ClusterAdapter
from backends.cluster_errors import describe_failure
from backends.errors import AdapterError, ErrorKind
from tests.integration.kube_fixtures import start_kube
from tests.patience import PATIENCE_S

CASES = [
    ("cluster.wrong-ca", ErrorKind.TLS, "the API server's certificate is not signed by the kubeconfig's CA"),
    ("cluster.server-cert-name", ErrorKind.TLS, "the API server's certificate is for another name"),
    ("cluster.client-cert-expired", ErrorKind.AUTH, "the kubeconfig's client certificate expired on "),
    ("cluster.client-cert-refused", ErrorKind.AUTH, "the API server refused the client certificate"),
]


@pytest.mark.parametrize(("fault", "kind", "reason"), CASES)
async def test_each_tls_failure_is_named(tmp_path: Path, fault: str, kind: ErrorKind, reason: str) -> None:
    kube = await start_kube(tmp_path, [fault])
    try:
        with pytest.raises(AdapterError) as info:
            await ClusterAdapter(kube.settings(timeout=3.0)).connect()
    finally:
        await kube.api.stop()
    text = str(info.value)
    assert info.value.kind is kind, text
    assert reason in text and "\n" not in text and "Traceback" not in text
    assert text.startswith("cluster sandbox: GET /version: ")


async def test_the_token_user_is_unaffected_by_certificate_faults(tmp_path: Path) -> None:
    kube = await start_kube(tmp_path, ["cluster.client-cert-expired"])
    try:
        async with ClusterAdapter(kube.settings(context="sandbox-token")) as cluster:
            assert (await cluster.version()).startswith("v1.31")
    finally:
        await kube.api.stop()


def test_a_401_with_a_client_certificate_names_it() -> None:
    # k3s answers a bad client certificate with 401 after the handshake: the expiry is known locally
    exc = ApiException(status=401, reason="Unauthorized")
    past = dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)
    kind, text = describe_failure(exc, server="https://x", timeout=1, client_cert_expiry=past)
    assert (
        kind is ErrorKind.AUTH
        and text == "the kubeconfig's client certificate expired on 2025-01-02 03:04 UTC (HTTP 401)"
    )
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    kind, text = describe_failure(exc, server="https://x", timeout=1, client_cert_expiry=future)
    assert text == "the API server refused the client certificate (HTTP 401)"
    assert describe_failure(exc, server="https://x", timeout=1)[1] == "Unauthorized (HTTP 401)"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [(c[0], c[2]) for c in CASES if c[0] in {"cluster.wrong-ca", "cluster.client-cert-expired"}],
)
def test_headless_exits_2_when_the_cluster_cannot_be_reached(tmp_path: Path, fault: str, reason: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "demo",
            "--headless",
            "--session-dir",
            str(tmp_path / "s"),
            "--fault",
            fault,
        ],
        capture_output=True,
        text=True,
        timeout=PATIENCE_S,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("gateroom: could not run against ")]
    assert len(lines) == 1 and reason in lines[0], proc.stderr
