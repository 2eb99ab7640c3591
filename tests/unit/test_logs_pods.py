"""The pod-log source's own logic over a stand-in cluster adapter (in memory, same method shapes).

What is tested here is the fan-out: new namespaces and pods are found and followed, each pod is one
stream, the adapter's gap items become gap marks, a log that ends says so. Following a real pod log
across a dropped connection is the cluster adapter's job and is tested against the sandbox API server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from backends.evidence.logfiles import LogFiles
from backends.logs.pipeline import LogPipeline
from backends.logs.pods import PodLogSource
from backends.logs.record import END, GAP, TEXT
from backends.logs.ring import LogRing
from backends.logs.source import Chunk, Item, Mark
from backends.redact import Redactor

T0 = 1_795_500_000.0


@dataclass
class LogItem:
    ts: float | None
    line: str
    gap: bool = False
    message: str = ""


class StandInCluster:
    """list_pods / watch_namespaces / follow_pod_log with queues the test writes into."""

    def __init__(self) -> None:
        self.pods: dict[str, list[str]] = {}
        self.logs: dict[tuple[str, str], asyncio.Queue[LogItem | None]] = {}
        self.namespaces: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    def add_pod(self, namespace: str, pod: str) -> asyncio.Queue[LogItem | None]:
        self.pods.setdefault(namespace, []).append(pod)
        return self.logs.setdefault((namespace, pod), asyncio.Queue())

    async def list_pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, object]]:
        return [{"metadata": {"name": p}} for p in self.pods.get(namespace, [])]

    async def watch_namespaces(self, label_selector: str | None = None) -> AsyncIterator[dict[str, object]]:
        while True:
            yield await self.namespaces.get()

    async def follow_pod_log(
        self, namespace: str, pod: str, container: str | None = None
    ) -> AsyncIterator[LogItem]:
        queue = self.logs[(namespace, pod)]
        while (item := await queue.get()) is not None:
            yield item


async def _collect(source: PodLogSource, items: list[Item]) -> None:
    async for item in source.stream():
        items.append(item)


async def _until(predicate: object, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_pods_of_new_run_namespaces_are_followed_one_stream_each() -> None:
    cluster = StandInCluster()
    source = PodLogSource(cluster, namespace_selector="kodex.works/namespace-purpose=run", poll=0.02)
    items: list[Item] = []
    task = asyncio.get_running_loop().create_task(_collect(source, items))
    # a run namespace appears, then its agent pod
    await cluster.namespaces.put({"type": "ADDED", "object": {"metadata": {"name": "codex-issue-128"}}})
    log = cluster.add_pod("codex-issue-128", "agent-run-4f2a1")
    await log.put(LogItem(T0, "codex> run started"))
    await log.put(
        LogItem(
            T0 + 5, "codex> resumed", gap=True, message="log stream dropped for 2.0 s; resumed with sinceTime"
        )
    )
    await log.put(None)  # the container exited
    # a second run namespace, later
    await cluster.namespaces.put({"type": "ADDED", "object": {"metadata": {"name": "codex-issue-131"}}})
    other = cluster.add_pod("codex-issue-131", "agent-run-9e0c7")
    await other.put(LogItem("2026-11-24T06:00:07.250000Z", "codex> second run"))  # type: ignore[arg-type]
    await _until(
        lambda: (
            sum(isinstance(i, Chunk) for i in items) == 3
            and any(isinstance(i, Mark) and i.kind == END for i in items)
        )
    )
    task.cancel()
    chunks = [i for i in items if isinstance(i, Chunk)]
    assert [(c.stream, c.texts) for c in chunks] == [
        ("codex-issue-128/agent-run-4f2a1", ["codex> run started"]),
        ("codex-issue-128/agent-run-4f2a1", ["codex> resumed"]),
        ("codex-issue-131/agent-run-9e0c7", ["codex> second run"]),
    ]
    assert chunks[2].ts == T0 + 7.25
    marks = [(i.stream, i.kind) for i in items if isinstance(i, Mark)]
    assert ("codex-issue-128/agent-run-4f2a1", GAP) in marks and (
        "codex-issue-128/agent-run-4f2a1",
        END,
    ) in marks


async def test_replayed_pod_lines_are_merged_into_time_order(tmp_path: Path) -> None:
    pipe = LogPipeline(Redactor(), LogFiles(tmp_path), LogRing(100))
    pipe.ingest(Chunk("kodex-prod/worker", ["worker 1"], T0 + 1))
    pipe.ingest(Chunk("prod-vps:k3s", ["k3s 3"], T0 + 3))
    pipe.flush()
    # the worker's stream dropped at T0+1 and resumed with sinceTime: its T0+2 line arrives late
    pipe.ingest(Mark("kodex-prod/worker", GAP, "log stream dropped; resumed with sinceTime"))
    pipe.ingest(Chunk("kodex-prod/worker", ["worker 2"], T0 + 2))
    pipe.flush()
    assert [r[TEXT] for r in pipe.ring] == [
        "worker 1",
        "log stream dropped; resumed with sinceTime",
        "worker 2",
        "k3s 3",
    ]
