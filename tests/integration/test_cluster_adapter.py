"""The cluster adapter: the real kubernetes_asyncio client over HTTP against the sandbox API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from backends.cluster import ClusterAdapter
from backends.cluster_models import LogItem, WatchEvent
from backends.errors import AdapterError, ErrorKind
from backends.logs.pods import PodLogSource
from backends.logs.source import Chunk, Item
from backends.redact import Redactor
from backends.sandbox.kube_seed import VIEWER_USER
from tests.integration.kube_fixtures import KubeSandbox, kube, start_kube
from tests.patience import PATIENCE_S, until

__all__ = ["kube"]  # the fixture, imported to be found

RUN_LABELS = {"kodex.works/namespace-purpose": "run", "kodex.works/managed-by": "kodex"}
RUNNER = "system:serviceaccount:{ns}:codex-runner"


@pytest.fixture
async def cluster(kube: KubeSandbox) -> AsyncIterator[ClusterAdapter]:
    async with ClusterAdapter(kube.settings()) as adapter:
        yield adapter


def _run_pod(kube: KubeSandbox, ns: str = "codex-issue-demo-1-a1", pod: str = "agent-a1") -> tuple[str, str]:
    kube.state.create_namespace(ns, {**RUN_LABELS, "kodex.works/run-id": "run-a1"}, {})
    kube.state.seed_run_namespace(ns)
    kube.state.create_pod(ns, pod, {"app": "codex-agent"}, "Running")
    return ns, pod


async def _collect(stream: AsyncIterator[LogItem], out: list[LogItem]) -> None:
    async for item in stream:
        out.append(item)


async def _until(predicate: Callable[[], bool]) -> None:
    await until(predicate, "the stream's items", every=0.01)


async def test_reads_the_production_namespace(cluster: ClusterAdapter, kube: KubeSandbox) -> None:
    assert (await cluster.version()).startswith("v1.31")
    assert kube.api.url in cluster.describe() and "sandbox" in cluster.describe()
    nodes = await cluster.nodes()
    assert [(n.name, n.ready) for n in nodes] == [("sandbox-vps", True)]
    prod = await cluster.namespaces("kubernetes.io/metadata.name=kodex-prod")
    assert [(n.name, n.phase) for n in prod] == [("kodex-prod", "Active")]
    deployments = {d.name: d for d in await cluster.deployments("kodex-prod")}
    assert {"kodex", "kodex-control-plane", "kodex-worker", "oauth2-proxy"} <= set(deployments)
    assert deployments["kodex-worker"].ready == 1
    assert [s.name for s in await cluster.statefulsets("kodex-prod")] == ["postgres"]
    assert [(j.name, j.complete) for j in await cluster.jobs("kodex-prod")] == [("kodex-migrate", True)]
    assert any(e.reason == "Started" for e in await cluster.events("kodex-prod"))
    assert [c.name for c in await cluster.config_maps("kodex-prod")] == ["kodex-config"]
    policies = {p.name for p in await cluster.network_policies("kodex-prod")}
    assert policies == {"kodex-postgres-ingress-from-platform", "kodex-egress-baseline"}
    bindings = await cluster.cluster_role_bindings()
    admins = [s for b in bindings if b.role == "cluster-admin" for s in b.subjects]
    assert admins and all(s.kind != "ServiceAccount" for s in admins)
    pods = {p.name: p for p in await cluster.list_pods("kodex-prod", "app=kodex-worker")}
    (worker,) = pods.values()
    assert worker.phase == "Running" and worker.containers == ["kodex-worker"]
    names = [var for _, var, _ in worker.env_plain]
    assert "KODEX_WORKER_RUN_NAMESPACE_PREFIX" in names and "KODEX_OPENAI_API_KEY" not in names
    assert "ready to accept" in await cluster.read_pod_log("kodex-prod", "postgres-0", tail_lines=1)


async def test_watch_sees_namespaces_come_and_go(cluster: ClusterAdapter, kube: KubeSandbox) -> None:
    events: list[WatchEvent] = []

    async def watch() -> None:
        async for event in cluster.watch_namespaces("kodex.works/namespace-purpose=run"):
            events.append(event)

    task = asyncio.create_task(watch())
    try:
        await asyncio.sleep(0.1)
        kube.state.create_namespace("codex-issue-demo-7-b2", RUN_LABELS, {})
        kube.state.create_namespace("unrelated", {}, {})
        await _until(lambda: any(e.type == "ADDED" for e in events))
        kube.state.delete_namespace("codex-issue-demo-7-b2")
        await _until(lambda: any(e.type == "DELETED" for e in events))
    finally:
        task.cancel()
    kinds = [(kind, ns.name) for kind, ns in events]
    assert kinds[0] == ("ADDED", "codex-issue-demo-7-b2")
    assert ("MODIFIED", "codex-issue-demo-7-b2") in kinds  # Terminating
    assert kinds[-1] == ("DELETED", "codex-issue-demo-7-b2")
    assert all(name != "unrelated" for _, name in kinds)


async def test_quiet_streams_reopen_without_repeats(kube: KubeSandbox) -> None:
    """An idle watch or log is reopened from where it was: nothing twice, no gap."""
    ns, pod = _run_pod(kube)
    events: list[WatchEvent] = []
    items: list[LogItem] = []
    async with ClusterAdapter(kube.settings(), stream_idle=0.1) as cluster:

        async def watch() -> None:
            async for event in cluster.watch_namespaces("kodex.works/namespace-purpose=run"):
                events.append(event)

        tasks = [
            asyncio.create_task(watch()),
            asyncio.create_task(_collect(cluster.follow_pod_log(ns, pod), items)),
        ]
        try:
            for n in range(3):
                kube.state.append_pod_log(ns, pod, f"line {n}")
                await asyncio.sleep(0.3)
            kube.state.create_namespace("codex-issue-demo-2-c3", RUN_LABELS, {})
            await asyncio.sleep(0.3)
            kube.state.set_pod_phase(ns, pod, "Succeeded")
            await asyncio.wait_for(tasks[1], PATIENCE_S)
        finally:
            tasks[0].cancel()
    assert [(e.type, e.object.name) for e in events] == [("ADDED", ns), ("ADDED", "codex-issue-demo-2-c3")]
    assert [(i.line, i.gap) for i in items] == [(f"line {n}", False) for n in range(3)]


async def test_pod_log_source_follows_new_run_namespaces(cluster: ClusterAdapter, kube: KubeSandbox) -> None:
    """The logs pane's consumer reads this adapter's shapes as they are."""
    source = PodLogSource(cluster, namespace_selector="kodex.works/namespace-purpose=run", poll=0.05)
    got: list[Item] = []

    async def run() -> None:
        async for item in source.stream():
            got.append(item)

    task = asyncio.create_task(run())
    try:
        await asyncio.sleep(0.1)
        ns, pod = _run_pod(kube)
        kube.state.append_pod_log(ns, pod, "agent says hello")
        await _until(lambda: any(isinstance(i, Chunk) and "agent says hello" in i.texts for i in got))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    chunk = next(i for i in got if isinstance(i, Chunk))
    assert chunk.stream == f"{ns}/{pod}" and chunk.ts is not None


async def test_follow_sees_lines_live_and_ends_with_the_pod(
    cluster: ClusterAdapter, kube: KubeSandbox
) -> None:
    ns, pod = _run_pod(kube)
    kube.state.append_pod_log(ns, pod, "before 1")
    items: list[LogItem] = []
    task = asyncio.create_task(_collect(cluster.follow_pod_log(ns, pod), items))
    await _until(lambda: len(items) == 1)
    kube.state.append_pod_log(ns, pod, "live 2")
    await _until(lambda: len(items) == 2)
    kube.state.set_pod_phase(ns, pod, "Succeeded")
    await asyncio.wait_for(task, PATIENCE_S)
    assert [i.line for i in items] == ["before 1", "live 2"]
    assert all(i.ts is not None and not i.gap for i in items)


async def test_dropped_log_stream_resumes_without_duplicates(tmp_path: Path) -> None:
    kube = await start_kube(tmp_path, ["cluster.log-stream-drop"])
    try:
        ns, pod = _run_pod(kube)
        for n in range(2):
            kube.state.append_pod_log(ns, pod, f"line {n}")
        items: list[LogItem] = []
        async with ClusterAdapter(kube.settings()) as cluster:
            task = asyncio.create_task(_collect(cluster.follow_pod_log(ns, pod), items))
            for n in range(2, 8):
                await asyncio.sleep(0.02)
                kube.state.append_pod_log(ns, pod, f"line {n}")
            await _until(lambda: sum(not i.gap for i in items) == 8)
            kube.state.set_pod_phase(ns, pod, "Succeeded")
            await asyncio.wait_for(task, PATIENCE_S)
    finally:
        await kube.api.stop()
    gaps = [i for i in items if i.gap]
    assert len(gaps) == 1 and "resumed" in gaps[0].message
    assert [i.line for i in items if not i.gap] == [f"line {n}" for n in range(8)]
    assert items.index(gaps[0]) == 3  # the server cut the stream after three lines


async def test_log_lines_are_redacted(kube: KubeSandbox) -> None:
    ns, pod = _run_pod(kube)
    token = "ghp_" + "a1B2" * 9
    kube.state.append_pod_log(ns, pod, f"cloning with {token}")
    kube.state.set_pod_phase(ns, pod, "Succeeded")
    async with ClusterAdapter(kube.settings(), Redactor()) as cluster:
        assert token not in await cluster.read_pod_log(ns, pod)
        items = [i async for i in cluster.follow_pod_log(ns, pod)]
    assert len(items) == 1 and token not in items[0].line and "[REDACTED:github-token]" in items[0].line


async def test_access_reviews_on_a_healthy_cluster(cluster: ClusterAdapter, kube: KubeSandbox) -> None:
    ns, _ = _run_pod(kube)
    runner = RUNNER.format(ns=ns)
    denied = await cluster.can(runner, "get", "secrets", ns)
    assert not denied.allowed
    assert (await cluster.can(runner, "list", "pods", ns)).allowed
    assert not (await cluster.can(runner, "get", "pods", "kodex-prod")).allowed
    mine = await cluster.can_i("get", "secrets", "kodex-prod")
    assert mine.allowed and "cluster-admin" in mine.reason


async def test_agent_reads_secrets_fault_shows_in_access_review(tmp_path: Path) -> None:
    kube = await start_kube(tmp_path, ["platform.agent-reads-secrets"])
    try:
        ns, _ = _run_pod(kube)
        async with ClusterAdapter(kube.settings()) as cluster:
            access = await cluster.can(RUNNER.format(ns=ns), "get", "secrets", ns)
        assert access.allowed and "codex-runner" in access.reason
    finally:
        await kube.api.stop()


@pytest.mark.parametrize(
    ("fault", "kind"), [("cluster.api-500", ErrorKind.SERVER), ("cluster.token-expired", ErrorKind.AUTH)]
)
async def test_api_faults_become_typed_errors(kube: KubeSandbox, fault: str, kind: ErrorKind) -> None:
    kube.faults.add(fault)
    # the token user: the certificate user's faults are TLS ones (tests/integration/test_cluster_tls.py)
    with pytest.raises(AdapterError) as info:
        await ClusterAdapter(kube.settings(context="sandbox-token")).connect()
    assert info.value.kind is kind
    assert "\n" not in str(info.value) and str(info.value).startswith("cluster sandbox-token: ")


async def test_faults_after_connecting(kube: KubeSandbox) -> None:
    cluster = ClusterAdapter(kube.settings(context="sandbox-token"))
    await cluster.connect()
    kube.faults.add("cluster.node-not-ready")
    (node,) = await cluster.nodes()
    assert not node.ready and "KubeletNotReady" in node.reason
    kube.faults.add("cluster.token-expired")
    with pytest.raises(AdapterError) as info:
        await cluster.pods("kodex-prod")
    assert info.value.kind is ErrorKind.AUTH
    with pytest.raises(AdapterError) as info:
        async for _ in cluster.follow_pod_log("kodex-prod", "postgres-0"):
            pass
    assert info.value.kind is ErrorKind.AUTH
    await cluster.aclose()


async def test_slow_api_times_out_in_bounded_time(kube: KubeSandbox) -> None:
    kube.faults.add("cluster.api-slow")
    started = time.monotonic()
    with pytest.raises(AdapterError) as info:
        await ClusterAdapter(kube.settings(timeout=0.3)).connect()
    assert info.value.kind is ErrorKind.TIMEOUT and "0.3s" in str(info.value)
    assert time.monotonic() - started < kube.api.slow_s, "the client gave up before the late answer"


async def test_forbidden_and_not_found(kube: KubeSandbox, tmp_path: Path) -> None:
    viewer = kube.api.write_kubeconfig(tmp_path / "viewer", user=VIEWER_USER)
    async with ClusterAdapter(kube.settings(kubeconfig=viewer)) as cluster:
        assert await cluster.pods("kodex-prod")
        with pytest.raises(AdapterError) as info:
            await cluster.cluster_role_bindings()
        assert info.value.kind is ErrorKind.FORBIDDEN and "cannot list" in str(info.value)
        with pytest.raises(AdapterError) as info:
            await cluster.read_pod_log("kodex-prod", "no-such-pod")
        assert info.value.kind is ErrorKind.NOT_FOUND


async def test_kubeconfig_problems_are_local(kube: KubeSandbox, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(AdapterError, match=r"kubeconfig .*nope\.yaml not found") as info:
        await ClusterAdapter(kube.settings(kubeconfig=missing)).connect()
    assert info.value.kind is ErrorKind.LOCAL
    broken = tmp_path / "broken.yaml"
    broken.write_text("clusters: [unclosed\n")
    with pytest.raises(AdapterError, match=r"broken\.yaml cannot be used") as info:
        await ClusterAdapter(kube.settings(kubeconfig=broken)).connect()
    assert info.value.kind is ErrorKind.LOCAL
    with pytest.raises(AdapterError) as info:
        await ClusterAdapter(kube.settings(context="elsewhere")).connect()
    assert info.value.kind is ErrorKind.LOCAL and kube.state.token_for("operator") not in str(info.value)


async def test_stopped_server_is_unreachable(kube: KubeSandbox) -> None:
    await kube.api.stop()
    with pytest.raises(AdapterError) as info:
        await ClusterAdapter(kube.settings()).connect()
    assert info.value.kind is ErrorKind.UNREACHABLE
