"""What a check reads in a live run's namespace counts only if the namespace was set up before the read
and is still there after it: one deleted under the read (its policies and bindings went with it) is
read again in the next live run, and one deleted under every read is nothing to examine, never a
finding and never a pass. Through the real adapters against a sandbox world."""

from __future__ import annotations

import asyncio

import pytest

from backends.checks import probe_runs
from backends.checks.probe_runs import NamespaceGone, Probe, examine_live, look, set_up
from backends.checks.registry import CheckContext
from backends.cluster import ClusterAdapter
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.sandbox.world import SandboxWorld
from backends.signals.runstatus import RunStatus

Outcome = tuple[str, str] | NamespaceGone


def _examine(deletions: int) -> tuple[Outcome, list[str]]:
    """examine_live in a healthy world, the cluster deleting the namespace under the first `deletions`
    reads: (the namespace read and what the read returned, or NamespaceGone; every namespace read)."""
    seen: list[str] = []

    async def run() -> Outcome:
        world = SandboxWorld.create()
        await world.start()
        settings = world.settings()
        assert settings.github is not None and settings.cluster is not None
        assert world.kube_state is not None
        kube = world.kube_state
        redactor = Redactor(world.secret_values.values())
        github = GitHubAdapter(settings.github, redactor, token=world.github_token)

        async def read(probe: Probe) -> str:
            state = probe.state()
            assert state is not None and set_up(state), state
            seen.append(probe.namespace)
            if len(seen) <= deletions:
                kube.delete_namespace(probe.namespace)
            return f"read {len(seen)}"

        try:
            async with ClusterAdapter(settings.cluster, redactor) as cluster:
                ctx = CheckContext(settings, github=github, cluster=cluster)
                try:
                    probe, found = await examine_live(ctx, read)
                except NamespaceGone as gone:
                    return gone
                assert (await look(ctx, probe.namespace)).exists
                return probe.namespace, found
        finally:
            await github.aclose()
            await world.stop()

    return asyncio.run(run()), seen


def test_a_namespace_deleted_under_the_read_is_read_again_in_the_next_live_run() -> None:
    outcome, seen = _examine(deletions=1)
    assert not isinstance(outcome, NamespaceGone), outcome
    namespace, found = outcome
    assert found == "read 2"
    assert len(seen) == 2 and seen[0] != seen[1] and namespace == seen[1]


def test_a_namespace_deleted_under_every_read_is_nothing_to_examine() -> None:
    outcome, seen = _examine(deletions=probe_runs.LOOK_ATTEMPTS)
    assert isinstance(outcome, NamespaceGone)
    assert len(seen) == probe_runs.LOOK_ATTEMPTS == len(set(seen))
    message = str(outcome)
    assert all(name in message for name in seen) and "\n" not in message


@pytest.mark.parametrize(
    ("phase", "job_name", "complete"),
    [
        ("created", "", False),
        # the marker names the namespace here, while the runtime deploy is still making it
        ("preparing_runtime", "", False),
        ("started", "kodex-run-1", True),
        ("ready", "", True),
        ("finished", "kodex-run-1", True),
        # a run that failed before its launch: its namespace never got its bindings
        ("finished", "", False),
        ("namespace_deleted", "", False),
    ],
)
def test_a_namespace_counts_as_set_up_from_the_started_upsert_on(
    phase: str, job_name: str, complete: bool
) -> None:
    assert set_up(RunStatus(run_id="r1", phase=phase, job_name=job_name)) is complete
