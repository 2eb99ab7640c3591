"""The sandbox GitHub's memory: repositories, labels, issues and pull requests, hooks and deliveries.

The HTTP server (github_api) and the simulated platform both work on this one state, so a label the
operator adds over HTTP reaches the platform as a webhook event, and the platform's comments come
back to the operator over HTTP. Every change that GitHub would deliver to a webhook is put on the
subscribers' queues as `(kind, repo, number, data, delivery_guid)`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from backends.errors import AdapterError, ErrorKind
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.github_content import RepoContent
from backends.sandbox.github_docs import platform_files
from backends.signals.kodex import label_catalogue as catalogue

OPERATOR = "gate-operator"
BOT = "codex-k8s-bot"
SCOPES = ("repo", "admin:repo_hook")
HOOK_EVENTS = ("issues", "issue_comment", "pull_request", "pull_request_review")
#: hidden by `github.labels-missing`: a revise trigger, a reviewer need and a reasoning level
MISSING_LABELS = ("run:intake:revise", "need:reviewer", "[ai-reasoning-extra-high]")

register(
    "github.labels-missing",
    "github",
    "some catalogue labels are absent from the repositories",
    ["github.labels"],
)
register("github.no-branch-protection", "github", "main has no branch protection", ["sec.branch-protection"])
register(
    "github.webhook-missing",
    "github",
    "the repositories have no webhook: the platform hears nothing",
    ["github.webhook"],
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_bot(actor: str) -> bool:
    return actor.endswith("-bot") or actor.endswith("[bot]")


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str = ""


@dataclass
class Comment:
    id: int
    author: str
    body: str
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""


@dataclass
class LabelEvent:
    id: int
    event: str  # labeled / unlabeled
    label: str
    actor: str
    created_at: str = field(default_factory=now_iso)


@dataclass
class Review:
    id: int
    author: str
    state: str  # APPROVED / CHANGES_REQUESTED / COMMENTED
    body: str
    submitted_at: str = field(default_factory=now_iso)


@dataclass
class Issue:
    number: int
    title: str
    body: str
    author: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    created_at: str = field(default_factory=now_iso)
    comments: list[Comment] = field(default_factory=list)
    events: list[LabelEvent] = field(default_factory=list)
    head: str | None = None  # set for pull requests
    base: str = "main"  # a pull request's target branch
    reviews: list[Review] = field(default_factory=list)
    #: reaction content -> the logins that reacted (the platform marks a run's issue with `eyes`)
    reactions: dict[str, set[str]] = field(default_factory=dict)
    #: changed files of a pull request (path -> status), what `GET .../pulls/N/files` lists
    files: dict[str, str] = field(default_factory=dict)

    @property
    def is_pr(self) -> bool:
        return self.head is not None


@dataclass
class Hook:
    id: int
    url: str
    events: tuple[str, ...] = HOOK_EVENTS
    active: bool = True


@dataclass
class Delivery:
    id: int
    guid: str
    hook_id: int
    event: tuple[str, str, int, dict[str, Any]]  # kind, repo, number, data
    delivered_at: str = field(default_factory=now_iso)
    redelivery: bool = False


@dataclass
class Repo:
    id: int
    full_name: str
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    hooks: list[Hook] = field(default_factory=list)
    protection: dict[str, int] = field(default_factory=dict)  # branch -> required approving reviews
    created_labels: set[str] = field(default_factory=set)  # created over the API: never hidden
    default_branch: str = "main"


class GitHubState:
    def __init__(
        self,
        faults: FaultSet,
        platform_repo: str = "codex-k8s/codex-k8s",
        project_repos: Iterable[str] = ("codex-k8s/demo-app",),
        *,
        token: str,
    ) -> None:
        self.faults = faults
        self.platform_repo = platform_repo
        self.token = token
        self.users = {OPERATOR: "User", BOT: "Bot"}
        #: token -> login: the operator's, plus any added for other senders (a bot, a stranger)
        self.tokens = {token: OPERATOR}
        self.login = OPERATOR
        self.scopes = SCOPES
        self._ids = itertools.count(1001)
        self._subscribers: list[asyncio.Queue[Any]] = []
        self.deliveries: dict[int, Delivery] = {}
        self.repos: dict[str, Repo] = {}
        for name in [platform_repo, *project_repos]:
            repo = Repo(self.next_id(), name)
            for label in catalogue():
                repo.labels[label] = Label(self.next_id(), label)
            repo.hooks.append(Hook(self.next_id(), "https://codex.example.test/api/v1/webhooks/github"))
            repo.protection["main"] = 1
            self.repos[name] = repo
        #: branches, files and releases per repository (the platform's starts with its documents)
        self.content = {
            name: RepoContent(name, r.default_branch, platform_files() if name == platform_repo else None)
            for name, r in self.repos.items()
        }

    def add_user(self, login: str, kind: str = "User") -> str:
        """A token acting as `login` (kind User or Bot), as a GitHub App or a second person would."""
        token = ("ghs_" if kind == "Bot" else "ghp_") + secrets.token_hex(18)
        self.users[login] = kind
        self.tokens[token] = login
        return token

    def next_id(self) -> int:
        return next(self._ids)

    # -- lookups (faults shape what exists) ---------------------------------------------------------
    def repo(self, name: str) -> Repo:
        try:
            return self.repos[name]
        except KeyError:
            raise AdapterError(ErrorKind.NOT_FOUND, f"no repository {name}") from None

    def issue(self, repo: str, number: int) -> Issue:
        try:
            return self.repo(repo).issues[number]
        except KeyError:
            raise AdapterError(ErrorKind.NOT_FOUND, f"no issue {repo}#{number}") from None

    def visible_labels(self, repo: str) -> list[Label]:
        r = self.repo(repo)
        hidden = (
            set(MISSING_LABELS) - r.created_labels if self.faults.active("github.labels-missing") else set()
        )
        return [label for name, label in r.labels.items() if name not in hidden]

    def hooks(self, repo: str) -> list[Hook]:
        return [] if self.faults.active("github.webhook-missing") else list(self.repo(repo).hooks)

    def protection(self, repo: str, branch: str) -> int | None:
        if self.faults.active("github.no-branch-protection"):
            return None
        return self.repo(repo).protection.get(branch)

    # -- the platform's view ------------------------------------------------------------------------
    def subscribe(self) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def labels_of(self, repo: str, number: int) -> list[str]:
        return list(self.issue(repo, number).labels)

    def issue_body(self, repo: str, number: int) -> str:
        return self.issue(repo, number).body

    # -- changes (each one GitHub would deliver to a webhook) --------------------------------------
    def create_issue(
        self, repo: str, title: str, body: str, *, actor: str, labels: Iterable[str] = ()
    ) -> int:
        r = self.repo(repo)
        number = len(r.issues) + 1
        r.issues[number] = Issue(number, title, body, actor)
        self.add_labels(repo, number, list(labels), actor=actor)
        return number

    def create_pull(
        self, repo: str, head: str, title: str, body: str, *, actor: str, base: str | None = None
    ) -> int:
        number = self.create_issue(repo, title, body, actor=actor)
        pull = self.issue(repo, number)
        pull.head, pull.base = head, base or self.repo(repo).default_branch
        return number

    def repo_content(self, repo: str) -> RepoContent:
        self.repo(repo)  # an unknown repository is named as such
        return self.content[repo]

    def add_comment(self, repo: str, number: int, body: str, *, actor: str) -> Comment:
        issue = self.issue(repo, number)
        comment = Comment(self.next_id(), actor, body)
        issue.comments.append(comment)
        self._emit("comment", repo, issue, actor, body=body)
        return comment

    def edit_comment(self, repo: str, number: int, comment_id: int, body: str) -> Comment:
        """Edit in place (GitHub sends no labeled/commented webhook for an edit the platform makes)."""
        for comment in self.issue(repo, number).comments:
            if comment.id == comment_id:
                comment.body, comment.updated_at = body, now_iso()
                return comment
        raise AdapterError(ErrorKind.NOT_FOUND, f"comment {comment_id} is not on {repo}#{number}")

    def react(self, repo: str, number: int, content: str, *, actor: str) -> None:
        self.issue(repo, number).reactions.setdefault(content, set()).add(actor)

    def add_labels(self, repo: str, number: int, labels: list[str], *, actor: str) -> None:
        issue, r = self.issue(repo, number), self.repo(repo)
        for name in labels:
            if name not in r.labels:  # GitHub creates an unknown label on first use
                r.labels[name] = Label(self.next_id(), name)
                r.created_labels.add(name)
            if name in issue.labels:
                continue
            issue.labels.append(name)
            issue.events.append(LabelEvent(self.next_id(), "labeled", name, actor))
            self._emit("labeled", repo, issue, actor, label=name)

    def remove_label(self, repo: str, number: int, label: str, *, actor: str) -> None:
        issue = self.issue(repo, number)
        if label not in issue.labels:
            raise AdapterError(ErrorKind.NOT_FOUND, f"label {label} is not on {repo}#{number}")
        issue.labels.remove(label)
        issue.events.append(LabelEvent(self.next_id(), "unlabeled", label, actor))
        self._emit("unlabeled", repo, issue, actor, label=label)

    def add_review(self, repo: str, number: int, state: str, body: str, *, actor: str) -> Review:
        issue = self.issue(repo, number)
        review = Review(self.next_id(), actor, state, body)
        issue.reviews.append(review)
        self._emit("review", repo, issue, actor, state=state, body=body)
        return review

    # -- webhook deliveries -------------------------------------------------------------------------
    def _emit(self, kind: str, repo: str, issue: Issue, actor: str, **extra: Any) -> None:
        sender_type = self.users.get(actor) or ("Bot" if is_bot(actor) else "User")
        data = {"actor": actor, "actor_type": sender_type, "is_pr": issue.is_pr}
        data.update(extra)
        for hook in self.hooks(repo):  # no hook, no delivery: the platform hears nothing
            delivery = Delivery(self.next_id(), str(uuid.uuid4()), hook.id, (kind, repo, issue.number, data))
            self.deliveries[delivery.id] = delivery
            self._publish(delivery)

    def _publish(self, delivery: Delivery) -> None:
        kind, repo, number, data = delivery.event
        for queue in self._subscribers:
            queue.put_nowait((kind, repo, number, dict(data), delivery.guid))

    def deliveries_of(self, repo: str, hook_id: int) -> list[Delivery]:
        if not any(h.id == hook_id for h in self.hooks(repo)):
            raise AdapterError(ErrorKind.NOT_FOUND, f"no hook {hook_id} on {repo}")
        found = [d for d in self.deliveries.values() if d.hook_id == hook_id]
        return sorted(found, key=lambda d: d.id, reverse=True)

    def redeliver(self, delivery_id: int | str) -> Delivery:
        """Deliver an event again under the same guid, as GitHub's "redeliver" button does."""
        for d in self.deliveries.values():
            if delivery_id in (d.id, d.guid, str(d.id)):
                again = Delivery(self.next_id(), d.guid, d.hook_id, d.event, redelivery=True)
                self.deliveries[again.id] = again
                self._publish(again)
                return again
        raise AdapterError(ErrorKind.NOT_FOUND, f"no delivery {delivery_id}")
