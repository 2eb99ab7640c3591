"""The world as a scenario sees it: GitHub and the cluster through the adapters, in simple shapes.

Scenario steps talk only to this facade, so the step logic stays readable and the adapters stay
replaceable; nothing here is faked — every call goes over the network through the real clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.config import GitHubSettings
from backends.redact import Redactor

PLATFORM_PREFIX = "codex-k8s:"


@dataclass(frozen=True)
class Comment:
    author: str
    body: str
    created_at: str = ""


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

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def repo(self, which: str) -> str:
        if which == "project" and self.github_settings.project_repos:
            return self.github_settings.project_repos[0]
        return self.github_settings.platform_repo
