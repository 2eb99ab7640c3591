"""The leak detector over a corpus: every secret shape of the redaction corpus, and every look-alike
(hashes, UUIDs, base64 of ordinary text...), planted into pod logs, GitHub comments, Kubernetes events
and ConfigMaps of the sandbox servers, then found again through the real adapters over HTTP. The
corpus is the widened one: what Go services, controllers, kaniko, git, curl and the codex CLI print,
with every value the gate knows to be secret (which the detector is told, as the gate tells it).

Shared by the integration test (which asserts) and tests/bench/bench_leak_corpus.py (which prints).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from backends.cluster import ClusterAdapter
from backends.config import GitHubSettings
from backends.github import GitHubAdapter
from backends.leaks import Leak, scanner
from backends.redact import Redactor
from backends.sandbox import kube_seed as seed
from backends.sandbox.faults import FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import GitHubState
from tests.integration.kube_fixtures import start_kube
from tests.unit.redaction_corpus import ALL_LOOKALIKES as LOOKALIKES
from tests.unit.redaction_corpus import ALL_SECRETS as SECRETS
from tests.unit.redaction_corpus import KNOWN_SECRETS

TOKEN = "ghp_" + "C0rpusT0kenC0rpus" * 2 + "ab"
REPO = "codex-k8s/codex-k8s"
NS = "corpus"
SOURCES = ("pod-log", "comment", "event", "configmap")


@dataclass
class Tally:
    found: int = 0  # secrets found
    missed: list[str] = field(default_factory=list)  # secret kinds not found
    false: list[str] = field(default_factory=list)  # look-alikes reported

    @property
    def precision(self) -> float:
        return self.found / (self.found + len(self.false)) if self.found + len(self.false) else 1.0

    @property
    def recall(self) -> float:
        total = self.found + len(self.missed)
        return self.found / total if total else 1.0


@dataclass
class CorpusRun:
    tallies: dict[str, Tally]
    leaks: list[Leak]


def _item(where: str) -> tuple[str, int] | None:
    """(secret|lookalike, index) from where a finding was: every planted object or line names it."""
    m = re.search(r"(secret|lookalike)-(\d+)", where)
    if m:
        return m[1], int(m[2])
    m = re.search(r"/(secrets|lookalikes):(\d+)$", where)  # a pod log line
    if m:
        return m[1].rstrip("s"), int(m[2]) - 1
    return None


async def run_corpus(workdir: Path) -> CorpusRun:
    kube = await start_kube(workdir)
    state = kube.state
    state.create_namespace(NS, {}, {})
    groups = {"secret": [line for _kind, line, _value in SECRETS], "lookalike": list(LOOKALIKES)}
    gh_faults = FaultSet()
    gh_state = GitHubState(gh_faults, REPO, (), token=TOKEN)
    comment_ids: dict[int, tuple[str, int]] = {}
    for group, lines in groups.items():
        pod = f"{group}s"
        state.create_pod(NS, pod, {"app": "corpus"}, "Running")
        for line in lines:
            state.append_pod_log(NS, pod, line)
        data = {f"{group}-{i}": line for i, line in enumerate(lines)}
        state.put("configmaps", {"metadata": seed.meta(f"corpus-{group}", NS), "data": data})
        number = gh_state.create_issue(REPO, f"corpus {group}", "", actor="gate-operator")
        for i, line in enumerate(lines):
            state.put(
                "events",
                seed.event(
                    NS, f"ev-{group}-{i}", "Pod", f"{group}-{i}", "Note", line, "2025-01-01T00:00:00Z"
                ),
            )
            comment = gh_state.add_comment(REPO, number, line, actor="codex-k8s-bot")
            comment_ids[comment.id] = (group, i)
    gh_api = SandboxGitHubApi(gh_state, gh_faults)
    await gh_api.start()
    redactor = Redactor([TOKEN, *KNOWN_SECRETS.values()])
    scan = scanner(redactor)
    github = GitHubAdapter(
        GitHubSettings(api_url=gh_api.url, platform_repo=REPO, timeout=5), redactor, token=TOKEN
    )
    cluster = ClusterAdapter(kube.settings(), redactor)
    try:
        await cluster.connect()
        leaks: dict[str, list[Leak]] = {"configmap": await cluster.config_map_leaks(NS, scan)}
        leaks["event"] = await cluster.event_leaks(NS, scan)
        leaks["pod-log"] = [
            x for p in await cluster.pods(NS) for x in await cluster.pod_log_leaks(NS, p, scan)
        ]
        leaks["comment"] = await github.comment_leaks(REPO, scan)
    finally:
        await github.aclose()
        await cluster.aclose()
        await gh_api.stop()
        await kube.api.stop()
    tallies = {}
    for source in SOURCES:
        if source == "comment":  # a comment is named by its id: map it back to what was planted there
            hits = {
                comment_ids.get(int(m[1]))
                for x in leaks[source]
                if (m := re.search(r"comment (\d+)", x.where))
            }
        else:
            hits = {_item(x.where) for x in leaks[source]}
        tally = Tally()
        for i, (kind, _line, _value) in enumerate(SECRETS):
            if ("secret", i) in hits:
                tally.found += 1
            else:
                tally.missed.append(kind)
        tally.false = [LOOKALIKES[h[1]] for h in hits if h is not None and h[0] == "lookalike"]
        tallies[source] = tally
    return CorpusRun(tallies, [x for group in leaks.values() for x in group])
