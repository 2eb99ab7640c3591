"""The whole loop over the network: `run:arch` (a full-env stage) applied through the GitHub adapter;
the run namespace with its `kodex.works/*` labels and lease, the Job `kodex-run-<run id>` and its pod's
log, the run-status comment's marker and `state:in-review` observed through the cluster and GitHub
adapters against the sandbox servers, with the simulated platform reacting in between."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from backends.cluster import ClusterAdapter
from backends.cluster_models import LogItem, Namespace
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.sandbox.world import PLATFORM_REPO, SandboxWorld
from backends.signals.thread import ThreadSignals
from tests.patience import PATIENCE_S, eventually

RUN_NAMESPACES = "kodex.works/namespace-purpose=run,kodex.works/managed-by=kodex-worker"


@pytest.fixture
async def world() -> AsyncIterator[SandboxWorld]:
    sandbox = SandboxWorld.create()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def _first_added(cluster: ClusterAdapter) -> Namespace:
    async for kind, namespace in cluster.watch_namespaces(RUN_NAMESPACES):
        if kind == "ADDED":
            return namespace
    raise AssertionError("the namespace watch ended")


async def _log_until_finished(cluster: ClusterAdapter, namespace: str, pod: str) -> list[LogItem]:
    lines: list[LogItem] = []
    async for item in cluster.follow_pod_log(namespace, pod):
        lines.append(item)
        if "agent-runner finished" in item.line:
            break
    return lines


async def test_intake_label_drives_a_run_seen_through_both_adapters(world: SandboxWorld) -> None:
    settings = world.settings()
    assert settings.github is not None and settings.cluster is not None
    redactor = Redactor(world.secret_values.values())
    github = GitHubAdapter(settings.github, redactor, token=world.github_token)
    cluster = ClusterAdapter(settings.cluster, redactor)
    try:
        await cluster.connect()
        await github.connect()
        watch = asyncio.create_task(_first_added(cluster))
        await asyncio.sleep(0.2)  # the watch is open before anything happens
        number, _url = await github.create_issue(
            PLATFORM_REPO, "loop test", "Architecture for the loop test."
        )
        assert await github.add_label(PLATFORM_REPO, number, "run:arch")

        namespace = await asyncio.wait_for(watch, PATIENCE_S)
        assert namespace.name.startswith("codex-issue-") and f"-i{number}-r" in namespace.name
        assert namespace.labels["kodex.works/runtime-mode"] == "full-env"
        assert "kodex.works/namespace-lease-expires-at" in namespace.annotations
        assert "kodex.works/namespace-lease-ttl" in namespace.annotations
        run_id = namespace.labels["kodex.works/run-id"]
        assert namespace.name.endswith("-r" + run_id.replace("-", "")[:12])

        pods = await eventually(
            lambda: cluster.pods(namespace.name, f"kodex.works/run-id={run_id}"), "the run's pod"
        )
        assert len(pods) == 1 and pods[0].name.startswith(f"kodex-run-{run_id}-")
        assert f"kodex-run-{run_id}" in [j.name for j in await cluster.jobs(namespace.name)]

        items = await asyncio.wait_for(_log_until_finished(cluster, namespace.name, pods[0].name), PATIENCE_S)
        texts = [i.line for i in items if not i.gap]
        assert texts[0].startswith(f"INFO agent-runner starting run={run_id} trigger_kind=arch")
        assert len(texts) == len(set(texts)) >= 4

        async def in_review() -> list[str] | None:
            labels = await github.issue_labels(PLATFORM_REPO, number)
            return labels if "state:in-review" in labels else None

        labels = await eventually(in_review, "state:in-review on the issue")
        assert "run:arch" not in labels
        signals = ThreadSignals()

        async def finished() -> bool:
            signals.observe(await github.comments(PLATFORM_REPO, number), number)
            return run_id in signals.runs and signals.runs[run_id].latest.terminal

        await eventually(finished, "the run's final marker")
        run = signals.runs[run_id]
        assert run.latest.run_status == "succeeded" and run.latest.namespace == namespace.name
        assert run.latest.job_name == f"kodex-run-{run_id}" and run.latest.trigger_kind == "arch"
        assert signals.errors == {}
    finally:
        await github.aclose()
        await cluster.aclose()
