"""The world as a scenario sees it: GitHub and the cluster through the adapters, in simple shapes.

Scenario steps talk only to this facade, so the step logic stays readable and the adapters stay
replaceable; nothing here is faked — every call goes over the network through the real clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.config import GitHubSettings
from backends.errors import AdapterError, ErrorKind
from backends.redact import Redactor


@dataclass(frozen=True)
class Comment:
    author: str
    body: str
    created_at: str = ""
    id: int = 0
    updated_at: str = ""


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class GateWorld:
    github: Any  # backends.github.GitHubAdapter
    cluster: Any  # backends.cluster.ClusterAdapter
    github_settings: GitHubSettings
    redactor: Redactor
    poll_interval: float = 0.25
    platform: Any = None  # backends.platform_api.PlatformAdapter, when [platform] is configured

    def need_platform(self) -> Any:
        if self.platform is None:
            from backends.scenarios.steps_exec import StepFailed

            raise StepFailed("no [platform] configured: this step reads the platform's staff API")
        return self.platform

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def repo(self, which: str) -> str:
        if which == "project" and self.github_settings.project_repos:
            return self.github_settings.project_repos[0]
        return self.github_settings.platform_repo

    # -- GitHub ---------------------------------------------------------------------------------
    async def comments(self, repo: str, number: int) -> list[Comment]:
        found = await self.github.comments(repo, number)
        return [
            Comment(
                str(c.author),
                str(c.body),
                str(getattr(c, "created_at", "") or ""),
                int(getattr(c, "id", 0) or 0),
                str(getattr(c, "updated_at", "") or ""),
            )
            for c in found
        ]

    async def comment(self, repo: str, number: int, body: str) -> None:
        await self.github.comment(repo, number, body)

    async def find_issue(self, repo: str, marker: str) -> tuple[int, str] | None:
        found = await self.github.find_issue(repo, marker)
        if found is None:
            return None
        return int(found[0]), str(found[1])

    async def create_issue(self, repo: str, title: str, body: str) -> tuple[int, str]:
        number, url = await self.github.create_issue(repo, title, body)
        return int(number), str(url)

    async def labels(self, repo: str, number: int) -> list[str]:
        return list(await self.github.issue_labels(repo, number))

    async def add_label(self, repo: str, number: int, label: str) -> bool:
        """True when applied now; False when it was already there (nothing written, still recorded)."""
        return bool(await self.github.add_label(repo, number, label))

    async def times_applied_by_me(self, repo: str, number: int, label: str) -> int:
        """How often this gate's GitHub user applied `label` on the issue (from its label timeline)."""
        me = await self.github.whoami()
        events = await self.github.label_events(repo, number)
        return sum(1 for e in events if e.label == label and e.action == "labeled" and e.actor == me)

    async def label_events(self, repo: str, number: int) -> list[Any]:
        """The issue's or PR's label timeline (labeled / unlabeled, by whom, when), oldest first."""
        return list(await self.github.label_events(repo, number))

    async def remove_label(self, repo: str, number: int, label: str) -> bool:
        return bool(await self.github.remove_label(repo, number, label))

    async def branch_head(self, repo: str, branch: str = "") -> tuple[str, str]:
        """(branch, head commit SHA); the default branch when `branch` is empty."""
        name, sha = await self.github.branch_head(repo, branch or None)
        return str(name), str(sha)

    async def pulls(self, repo: str, issue: int) -> list[tuple[int, str, str]]:
        return [
            (int(p.number), str(p.url), str(p.state)) for p in await self.github.pulls_for_issue(repo, issue)
        ]

    async def has_review(self, repo: str, pr: int, marker: str) -> bool:
        return any(marker in (r.body or "") for r in await self.github.reviews(repo, pr))

    async def review(self, repo: str, pr: int, event: str, body: str) -> None:
        await self.github.review(repo, pr, event, body)

    # -- cluster --------------------------------------------------------------------------------
    async def namespaces(self, selector: str) -> list[Namespace]:
        return [
            Namespace(ns.name, dict(ns.labels or {}), dict(ns.annotations or {}))
            for ns in await self.cluster.namespaces(selector)
        ]

    async def namespace(self, name: str) -> Namespace | None:
        for ns in await self.namespaces(f"kubernetes.io/metadata.name={name}"):
            return ns
        return None

    async def lease(self, name: str) -> str:
        """The namespace's lease expiry (kodex.works/namespace-lease-expires-at), "" when none."""
        from backends.signals.kodex import LEASE_EXPIRES_AT

        found = await self.namespace(name)
        return found.annotations.get(LEASE_EXPIRES_AT, "") if found is not None else ""

    async def jobs(self, namespace: str) -> list[Any]:
        try:
            return list(await self.cluster.jobs(namespace))
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return []
            raise

    async def deployments(self, namespace: str) -> list[Any]:
        try:
            return list(await self.cluster.deployments(namespace))
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return []
            raise

    async def run_pods(self, namespace: str, run_id: str) -> list[str]:
        try:
            return [p.name for p in await self.cluster.pods(namespace, f"kodex.works/run-id={run_id}")]
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return []
            raise

    async def can(self, user: str, verb: str, resource: str, namespace: str) -> bool:
        access = await self.cluster.can(user, verb, resource, namespace)
        return bool(access.allowed)

    async def pod_log(self, namespace: str, run_id: str) -> str:
        """The agent log of one run: every pod of the run in its namespace, oldest first."""
        try:
            pods = await self.cluster.pods(namespace, f"kodex.works/run-id={run_id}")
            texts = [await self.cluster.read_pod_log(namespace, pod.name) for pod in pods]
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return ""  # the run's namespace was swept: its logs are gone, not an error
            raise
        return "\n".join(t.rstrip("\n") for t in texts if t)
