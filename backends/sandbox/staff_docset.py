"""Docset import and safe sync as the control plane's staff service does them
(services/internal/control-plane/internal/domain/staff/service_repository_management.go, planned by
internal/domain/docset/plan.go and sync.go), over the sandbox GitHub.

Import copies the chosen groups of the knowledge base's manifest into the repository and writes
`docs/.docset-lock.json`; sync compares the lock on the default branch with the files there and the
current manifest: unchanged files with a newer version are updated, locally edited or missing ones
are drift. Both answer with a pull request the platform opens in the repository.

The sandbox GitHub keeps no file contents, so the lock on each repository's default branch and the
files it covers are kept here (the state a real repository holds after an earlier import was merged).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from backends.sandbox.faults import FaultSet, register

register(
    "platform.docset-sync-fails",
    "platform",
    "the docset sync of the project repository fails (GitHub refuses the sync branch): the staff API "
    "answers 500",
    ["O-project"],
)

DOCSET_ID = "kodex-agent-knowledge-base"
LOCK_PATH = "docs/.docset-lock.json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    description: str
    default_selected: bool
    #: import paths of the group's items
    paths: tuple[str, ...]


#: the knowledge base's manifest (docset.manifest.json at the docset ref)
GROUPS = (
    Group(
        "core",
        "Core docs",
        "Product, architecture and delivery documents every project starts with",
        True,
        ("docs/product/brief.md", "docs/architecture/c4_context.md", "docs/delivery/delivery_plan.md"),
    ),
    Group(
        "ops",
        "Operations",
        "Runbooks, monitoring and incident templates",
        False,
        ("docs/ops/runbook.md", "docs/ops/monitoring.md"),
    ),
    Group(
        "agents",
        "Agent guides",
        "Role prompts and review checklists for the agents",
        False,
        ("docs/agents/review_checklist.md",),
    ),
)


def manifest_sha(path: str, ref: str) -> str:
    """An item's sha256 in the manifest at `ref`: the delivery plan changed since v1."""
    version = "v2" if ref != "v1" and path.endswith("delivery_plan.md") else "v1"
    return _sha(f"{path}@{version}")


@dataclass
class Lock:
    ref: str
    locale: str
    groups: list[str]
    #: import path -> sha256 when imported; and the sha the file on the default branch has now
    locked: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)


class DocsetError(Exception):
    """A plain error of the staff service: the API answers 500 `internal`."""


class SandboxDocset:
    def __init__(self, github: Any, faults: FaultSet, *, fault_repo: str = "", actor: str = "") -> None:
        self.gh = github  # GitHubState
        self.faults = faults
        self.fault_repo = fault_repo
        self.actor = actor
        #: repository (lower-case full name) -> the lock on its default branch
        self.locks: dict[str, Lock] = {}

    def seed_lock(self, repo: str, groups: list[str], *, edited: tuple[str, ...] = ()) -> None:
        """An earlier import of `groups` at v1, merged; `edited` files were changed in the repository."""
        paths = [p for g in GROUPS if g.id in groups for p in g.paths]
        locked = {p: manifest_sha(p, "v1") for p in paths}
        current = {p: (_sha(f"{p}@local") if p in edited else sha) for p, sha in locked.items()}
        self.locks[repo.lower()] = Lock("v1", "ru", list(groups), locked, current)

    def groups(self) -> list[Group]:
        return list(GROUPS)

    def _pull(self, repo: str, kind: str, ref: str, body: str) -> tuple[int, str, str]:
        branch = f"kodex-docset-{kind}/{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        title = f"chore(docs): {kind} docset {DOCSET_ID} ({ref})"
        number = self.gh.create_pull(repo, branch, title, body, actor=self.actor)
        return number, f"https://github.com/{repo}/pull/{number}", branch

    def import_docset(self, repo: str, ref: str, locale: str, group_ids: list[str]) -> dict[str, Any]:
        selected = list(dict.fromkeys(g.strip() for g in group_ids if g.strip()))
        if not selected:
            selected = [g.id for g in GROUPS if g.default_selected and g.id != "examples"]
        known = {g.id: g for g in GROUPS}
        for group_id in selected:
            if group_id not in known:
                raise DocsetError(f"unknown group id {group_id!r}")
        files = list(dict.fromkeys(p for g in selected for p in known[g].paths))
        body = (
            f"Docset import\n\n- docset: {DOCSET_ID}\n- ref: {ref}\n- locale: {locale}\n"
            f"- groups: {', '.join(selected)}\n- files: {len(files)}\n"
        )
        number, url, branch = self._pull(repo, "import", ref, body)
        return {
            "repository_full_name": repo,
            "pr_number": number,
            "pr_url": url,
            "branch": branch,
            "files_total": len(files),
        }

    def sync_docset(self, repo: str, ref: str) -> dict[str, Any]:
        lock = self.locks.get(repo.lower())
        if lock is None:
            raise DocsetError(f"docset lock not found: {LOCK_PATH} (run import first)")
        updates, drift = [], []
        for path, sha in lock.locked.items():
            current = lock.current.get(path, "")
            if not current or current != sha:
                drift.append(path)
            elif manifest_sha(path, ref) != sha:
                updates.append(path)
        if self.faults.active("platform.docset-sync-fails") and repo.lower() == self.fault_repo.lower():
            raise DocsetError(f"create branch for {repo}: 403 Resource not accessible by integration")
        body = (
            f"Docset sync\n\n- docset: {DOCSET_ID}\n- ref: {ref}\n- locale: {lock.locale}\n"
            f"- updated: {len(updates)}\n- drift: {len(drift)}\n"
        )
        number, url, branch = self._pull(repo, "sync", ref, body)
        return {
            "repository_full_name": repo,
            "pr_number": number,
            "pr_url": url,
            "branch": branch,
            "files_updated": len(updates),
            "files_drift": len(drift),
        }
