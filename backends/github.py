"""The GitHub adapter: labels, issues, comments, pull requests, reviews, protection and webhooks.

PyGithub does the HTTP; `CallRunner` keeps every call off the event loop, bounded in time and typed
in its errors. Text that comes back from people or the platform (issue bodies, comments, reviews) is
redacted here, at the source. Results are plain records (`github_models`), never PyGithub objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from github import Auth, Github, GithubException
from github.Repository import Repository

from backends.config import GitHubSettings
from backends.errors import AdapterError, ErrorKind
from backends.github_calls import CallRunner, OnWait
from backends.github_models import (
    Comment,
    Delivery,
    Hook,
    LabelEvent,
    Protection,
    PullInfo,
    RateInfo,
    Review,
    iso,
)
from backends.github_publishing import PublishingCalls
from backends.leaks import Leak, Scan
from backends.redact import Redactor

T = TypeVar("T")
MAX_COMMENTS_SCANNED = 500  # comment_leaks reads the newest this many comments of a repository
MAX_ISSUES_SCANNED = 1000  # find_issue reads newest first and gives up after this many
REVIEW_EVENTS = ("APPROVE", "REQUEST_CHANGES", "COMMENT")


class GitHubAdapter(PublishingCalls):
    def __init__(
        self,
        settings: GitHubSettings,
        redactor: Redactor | None = None,
        *,
        token: str | None = None,
        on_wait: OnWait | None = None,
        max_rate_wait_s: float = 60.0,
    ) -> None:
        self.settings = settings
        self._redactor = redactor
        self._token = token
        self._gh: Github | None = None
        self._login = ""
        self._repos: dict[str, Repository] = {}
        self.target = f"github {settings.api_url}"
        self._run = CallRunner(
            target=self.target,
            timeout=settings.timeout,
            redact=self.redact,
            on_wait=on_wait,
            max_rate_wait_s=max_rate_wait_s,
        )

    def redact(self, text: str) -> str:
        return self._redactor.redact(text) if self._redactor is not None else text

    @property
    def on_wait(self) -> OnWait | None:
        return self._run.on_wait

    @on_wait.setter
    def on_wait(self, callback: OnWait | None) -> None:
        self._run.on_wait = callback

    # -- connection ---------------------------------------------------------------------------------------
    def _client(self) -> Github:
        if self._gh is None:
            token = self._token or self.settings.token()
            if not token:
                raise AdapterError(
                    ErrorKind.AUTH,
                    f"no GitHub token: set the environment variable {self.settings.token_env}",
                    target=self.target,
                )
            if self._redactor is not None:
                self._redactor.add_secret(token)
            self._gh = Github(
                base_url=self.settings.api_url.rstrip("/"),
                auth=Auth.Token(token),
                timeout=int(max(1, round(self.settings.timeout))),
                retry=None,  # CallRunner decides about waiting and retrying
                per_page=100,
                seconds_between_requests=None,
                seconds_between_writes=None,
                lazy=True,  # objects fetch on first attribute read, always inside a CallRunner thread
            )
        return self._gh

    def _requester(self) -> Any:
        gh = self._client()
        return getattr(gh, "requester", None) or gh._Github__requester  # type: ignore[attr-defined]

    async def _call(self, what: str, fn: Callable[[], T], *, read: bool = True) -> T:
        self._client()
        return await self._run(what, fn, read=read)

    def _repo(self, name: str) -> Repository:
        """A lazy repository handle: no request until something is read through it."""
        if name not in self._repos:
            self._repos[name] = self._client().get_repo(name)
        return self._repos[name]

    async def connect(self) -> None:
        """Check the token against GET /user; remembers who we are."""
        self._login = await self._call("GET /user", lambda: self._client().get_user().login)

    async def aclose(self) -> None:
        gh, self._gh = self._gh, None
        self._repos.clear()
        if gh is not None:
            gh.close()

    async def whoami(self) -> str:
        if not self._login:
            await self.connect()
        return self._login

    async def scopes(self) -> list[str]:
        def fetch() -> list[str]:
            headers, _ = self._requester().requestJsonAndCheck("GET", "/user")
            raw = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), "")
            return [s.strip() for s in raw.split(",") if s.strip()]

        return await self._call("token scopes", fetch)

    async def rate_limit(self) -> RateInfo:
        def fetch() -> RateInfo:
            core = self._client().get_rate_limit().resources.core
            return RateInfo(core.limit, core.remaining, core.reset)

        return await self._call("rate limit", fetch)

    async def default_branch(self, repo: str) -> str:
        return await self._call(f"{repo}", lambda: self._client().get_repo(repo).default_branch)

    async def branch_head(self, repo: str, branch: str | None = None) -> tuple[str, str]:
        """(branch, the commit SHA at its head); the default branch when none is named."""

        def fetch() -> tuple[str, str]:
            name = branch or self._client().get_repo(repo).default_branch
            return name, str(self._repo(repo).get_branch(name).commit.sha)

        return await self._call(f"{repo} branch head", fetch)

    # -- labels -------------------------------------------------------------------------------------------
    async def labels(self, repo: str) -> list[str]:
        return await self._call(f"{repo} labels", lambda: [lb.name for lb in self._repo(repo).get_labels()])

    async def ensure_label(self, repo: str, name: str, color: str = "ededed", description: str = "") -> bool:
        """Create the label when the repository lacks it; True when it was created."""

        def ensure() -> bool:
            r = self._repo(repo)
            try:
                _ = r.get_label(name).color  # reading a field makes the lazy label fetch itself
                return False
            except GithubException as exc:
                if exc.status != 404:
                    raise
            r.create_label(name, color, description)
            return True

        return await self._call(f"{repo} label {name}", ensure, read=False)

    async def issue_labels(self, repo: str, number: int) -> list[str]:
        return await self._call(
            f"{repo}#{number} labels",
            lambda: [lb.name for lb in self._repo(repo).get_issue(number).get_labels()],
        )

    async def add_label(self, repo: str, number: int, label: str) -> bool:
        """Add a label; False (and no write) when it is already there."""

        def add() -> bool:
            issue = self._repo(repo).get_issue(number)
            if label in {lb.name for lb in issue.labels}:
                return False
            issue.add_to_labels(label)
            return True

        return await self._call(f"{repo}#{number} add {label}", add, read=False)

    async def remove_label(self, repo: str, number: int, label: str) -> bool:
        """Remove a label; False (and no write) when it is not there."""

        def remove() -> bool:
            issue = self._repo(repo).get_issue(number)
            if label not in {lb.name for lb in issue.labels}:
                return False
            issue.remove_from_labels(label)
            return True

        return await self._call(f"{repo}#{number} remove {label}", remove, read=False)

    async def label_events(self, repo: str, number: int) -> list[LabelEvent]:
        def fetch() -> list[LabelEvent]:
            events = self._repo(repo).get_issue(number).get_events()
            return [
                LabelEvent(e.label.name, e.event, e.actor.login if e.actor else "", iso(e.created_at))
                for e in events
                if e.event in ("labeled", "unlabeled") and e.label is not None
            ]

        return await self._call(f"{repo}#{number} events", fetch)

    # -- issues and comments ------------------------------------------------------------------------------
    async def create_issue(self, repo: str, title: str, body: str) -> tuple[int, str]:
        def create() -> tuple[int, str]:
            issue = self._repo(repo).create_issue(title=title, body=body)
            return issue.number, issue.html_url

        return await self._call(f"{repo} new issue", create, read=False)

    async def find_issue(self, repo: str, marker: str) -> tuple[int, str] | None:
        """The newest issue (open or closed, not a pull request) whose body holds `marker`: its number
        and web address."""

        def find() -> tuple[int, str] | None:
            issues = self._repo(repo).get_issues(state="all", sort="created", direction="desc")
            for seen, issue in enumerate(issues):
                if seen >= MAX_ISSUES_SCANNED:
                    break
                # html_url, not pull_request: an absent field would make the lazy issue fetch itself
                if "/pull/" not in issue.html_url and marker in (issue.body or ""):
                    return issue.number, issue.html_url
            return None

        return await self._call(f"{repo} issue search", find)

    async def issue_body(self, repo: str, number: int) -> str:
        return await self._call(
            f"{repo}#{number}", lambda: self.redact(self._repo(repo).get_issue(number).body or "")
        )

    async def comments(self, repo: str, number: int) -> list[Comment]:
        def fetch() -> list[Comment]:
            return [
                Comment(
                    c.user.login if c.user else "",
                    self.redact(c.body or ""),
                    iso(c.created_at),
                    int(c.id),
                    iso(c.updated_at),
                )
                for c in self._repo(repo).get_issue(number).get_comments()
            ]

        return await self._call(f"{repo}#{number} comments", fetch)

    async def comment(self, repo: str, number: int, body: str) -> str:
        """Post a comment; returns its address."""
        return await self._call(
            f"{repo}#{number} comment",
            lambda: str(self._repo(repo).get_issue(number).create_comment(body).html_url or ""),
            read=False,
        )

    # -- pull requests and reviews ------------------------------------------------------------------------
    async def pulls_for_issue(self, repo: str, number: int) -> list[PullInfo]:
        """Pull requests that mention `#number` in their body or carry `issue-number` in their branch."""
        mention = re.compile(rf"#{number}(?!\d)")
        branch = re.compile(rf"issue-{number}(?!\d)")

        def fetch() -> list[PullInfo]:
            return [
                PullInfo(p.number, p.html_url, p.state, p.head.ref)
                for p in self._repo(repo).get_pulls(state="all")
                if mention.search(p.body or "") or branch.search(p.head.ref or "")
            ]

        return await self._call(f"{repo} pulls for #{number}", fetch)

    async def reviews(self, repo: str, pr: int) -> list[Review]:
        def fetch() -> list[Review]:
            return [
                Review(r.user.login if r.user else "", r.state, self.redact(r.body or ""))
                for r in self._repo(repo).get_pull(pr).get_reviews()
            ]

        return await self._call(f"{repo}#{pr} reviews", fetch)

    async def review(self, repo: str, pr: int, event: str, body: str = "") -> None:
        event = event.upper()
        if event not in REVIEW_EVENTS:
            raise ValueError(f"review event must be one of {', '.join(REVIEW_EVENTS)}, not {event!r}")
        await self._call(
            f"{repo}#{pr} review",
            lambda: self._repo(repo).get_pull(pr).create_review(body=body, event=event),
            read=False,
        )

    # -- branch protection and webhooks -------------------------------------------------------------------
    async def branch_protection(self, repo: str, branch: str | None = None) -> Protection | None:
        """The protection of `branch` (default: the repository's default branch); None when unprotected."""

        def fetch() -> Protection | None:
            name = branch or self._client().get_repo(repo).default_branch
            try:
                protection = self._repo(repo).get_branch(name).get_protection()
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
            reviews = protection.required_pull_request_reviews
            count = reviews.required_approving_review_count if reviews is not None else 0
            return Protection(name, int(count or 0), bool(protection.enforce_admins))

        return await self._call(f"{repo} branch protection", fetch)

    async def hooks(self, repo: str) -> list[Hook]:
        def fetch() -> list[Hook]:
            return [
                Hook(h.id, str(h.config.get("url", "")), tuple(h.events), bool(h.active))
                for h in self._repo(repo).get_hooks()
            ]

        return await self._call(f"{repo} hooks", fetch)

    async def deliveries(self, repo: str, hook_id: int) -> list[Delivery]:
        def fetch() -> list[Delivery]:
            return [
                Delivery(
                    int(d.id or 0),
                    d.guid or "",
                    d.event or "",
                    d.action or "",
                    int(d.status_code or 0),
                    bool(d.redelivery),
                    iso(d.delivered_at),
                )
                for d in self._repo(repo).get_hook_deliveries(hook_id)
            ]

        return await self._call(f"{repo} hook {hook_id} deliveries", fetch)

    async def delivery_target(self, repo: str, hook_id: int, delivery_id: int) -> tuple[str, int, str]:
        """What one delivery was about: (action, issue or PR number, label name); nothing else is kept."""

        def fetch() -> tuple[str, int, str]:
            request = self._repo(repo).get_hook_delivery(hook_id, delivery_id).request
            payload = (request.payload if request is not None else None) or {}
            item = payload.get("issue") or payload.get("pull_request") or {}
            label = (payload.get("label") or {}).get("name", "")
            return str(payload.get("action", "")), int(item.get("number") or 0), str(label)

        return await self._call(f"{repo} hook {hook_id} delivery {delivery_id}", fetch)

    async def comment_leaks(self, repo: str, scan: Scan, limit: int = MAX_COMMENTS_SCANNED) -> list[Leak]:
        """Secrets in the newest `limit` issue and PR comments of a repository (raw bodies go to `scan`
        only: see backends.leaks)."""

        def fetch() -> list[Leak]:
            out: list[Leak] = []
            comments = self._repo(repo).get_issues_comments(sort="created", direction="desc")
            for seen, c in enumerate(comments):
                if seen >= limit:
                    break
                number = (c.issue_url or "").rstrip("/").rsplit("/", 1)[-1]
                author = c.user.login if c.user else "?"
                out += scan(c.body or "", "comment", f"{repo}#{number} comment {c.id} by {author}")
            return out

        return await self._call(f"{repo} comments", fetch)

    async def redeliver(self, repo: str, hook_id: int, delivery_id: int) -> None:
        """Ask GitHub to deliver one webhook again (PyGithub has no method for it)."""
        path = f"/repos/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
        await self._call(
            f"{repo} redeliver {delivery_id}",
            lambda: self._requester().requestJsonAndCheck("POST", path),
            read=False,
        )
