"""The GitHub adapter over real HTTP: PyGithub against the sandbox GitHub server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from backends.config import GitHubSettings
from backends.errors import AdapterError, ErrorKind
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.sandbox.faults import CATALOGUE, FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import BOT, MISSING_LABELS, OPERATOR, GitHubState, Label
from backends.signals.kodex import label_catalogue as catalogue

TOKEN = "ghp_" + "S4ndb0xT0ken" * 3
PLATFORM, PROJECT = "codex-k8s/codex-k8s", "codex-k8s/demo-app"


@dataclass
class GitHubRig:
    state: GitHubState
    api: SandboxGitHubApi
    faults: FaultSet
    settings: GitHubSettings
    adapter: GitHubAdapter
    events: asyncio.Queue[Any]
    waits: list[str]

    def new_adapter(self, **kwargs: Any) -> GitHubAdapter:
        kwargs.setdefault("token", TOKEN)
        return GitHubAdapter(self.settings, Redactor(), **kwargs)

    def drain(self) -> list[tuple[str, str, int, dict[str, Any], str]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


@pytest.fixture
async def gh() -> AsyncIterator[GitHubRig]:
    faults = FaultSet()
    state = GitHubState(faults, PLATFORM, (PROJECT,), token=TOKEN)
    api = SandboxGitHubApi(state, faults)
    await api.start()
    settings = GitHubSettings(api_url=api.url, platform_repo=PLATFORM, project_repos=[PROJECT], timeout=5)
    waits: list[str] = []
    adapter = GitHubAdapter(settings, Redactor(), token=TOKEN, on_wait=waits.append)
    rig = GitHubRig(state, api, faults, settings, adapter, state.subscribe(), waits)
    try:
        yield rig
    finally:
        await adapter.aclose()
        await api.stop()


async def _issue(gh: GitHubRig, body: str = "gate test issue") -> int:
    number, _url = await gh.adapter.create_issue(PLATFORM, "Gate Room test", body)
    return number


# -- identity -----------------------------------------------------------------------------------------------
async def test_connect_whoami_scopes_and_rate(gh: GitHubRig) -> None:
    await gh.adapter.connect()
    assert await gh.adapter.whoami() == OPERATOR
    assert await gh.adapter.scopes() == ["repo", "admin:repo_hook"]
    rate = await gh.adapter.rate_limit()
    assert rate.limit == 5000 and 0 < rate.remaining < 5000 and rate.reset_at.timestamp() > time.time()
    assert await gh.adapter.default_branch(PLATFORM) == "main"
    assert ("GET", "/user") in gh.api.calls and ("GET", "/rate_limit") in gh.api.calls


async def test_missing_token_names_the_env_var(gh: GitHubRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(gh.settings.token_env, raising=False)
    adapter = GitHubAdapter(gh.settings)
    with pytest.raises(AdapterError) as info:
        await adapter.connect()
    assert info.value.kind is ErrorKind.AUTH and gh.settings.token_env in str(info.value)


async def test_token_from_env(gh: GitHubRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(gh.settings.token_env, TOKEN)
    adapter = GitHubAdapter(gh.settings)
    assert await adapter.whoami() == OPERATOR


# -- labels -------------------------------------------------------------------------------------------------
async def test_label_catalogue_present_in_both_repos(gh: GitHubRig) -> None:
    for repo in (PLATFORM, PROJECT):
        assert set(catalogue()) <= set(await gh.adapter.labels(repo))
    assert await gh.adapter.ensure_label(PLATFORM, "run:intake") is False
    assert await gh.adapter.ensure_label(PLATFORM, "gate:probe", "ff0000", "made by a test") is True
    assert "gate:probe" in await gh.adapter.labels(PLATFORM)


async def test_add_label_emits_one_event_and_is_idempotent(gh: GitHubRig) -> None:
    number = await _issue(gh)
    assert await gh.adapter.add_label(PLATFORM, number, "run:intake") is True
    (kind, repo, num, data, delivery), *rest = gh.drain()
    assert (kind, repo, num) == ("labeled", PLATFORM, number) and not rest
    assert data["label"] == "run:intake" and data["actor"] == OPERATOR and data["actor_type"] == "User"
    assert data["is_pr"] is False and delivery

    posts_before = [c for c in gh.api.calls if c[0] == "POST"]
    assert await gh.adapter.add_label(PLATFORM, number, "run:intake") is False
    assert gh.drain() == []
    assert [c for c in gh.api.calls if c[0] == "POST"] == posts_before  # no write for a no-op

    assert await gh.adapter.remove_label(PLATFORM, number, "run:intake") is True
    assert [e[0] for e in gh.drain()] == ["unlabeled"]
    assert await gh.adapter.remove_label(PLATFORM, number, "run:intake") is False
    assert await gh.adapter.issue_labels(PLATFORM, number) == []


async def test_label_timeline(gh: GitHubRig) -> None:
    number = await _issue(gh)
    await gh.adapter.add_label(PLATFORM, number, "[ai-model-gpt-5.4]")
    gh.state.add_labels(PLATFORM, number, ["state:in-review"], actor=BOT)
    await gh.adapter.remove_label(PLATFORM, number, "[ai-model-gpt-5.4]")
    events = await gh.adapter.label_events(PLATFORM, number)
    assert [(e.label, e.action, e.actor) for e in events] == [
        ("[ai-model-gpt-5.4]", "labeled", OPERATOR),
        ("state:in-review", "labeled", BOT),
        ("[ai-model-gpt-5.4]", "unlabeled", OPERATOR),
    ]
    assert all(e.at.endswith("Z") for e in events)
    bot_event = [e for e in gh.drain() if e[3]["actor"] == BOT]
    assert bot_event and bot_event[0][3]["actor_type"] == "Bot"


# -- issues and comments ------------------------------------------------------------------------------------
async def test_issue_find_and_comments_round_trip(gh: GitHubRig) -> None:
    number, url = await gh.adapter.create_issue(PLATFORM, "probe", "run marker gate-42 here")
    assert url.endswith(f"/issues/{number}") and url.startswith(gh.api.url)
    found = await gh.adapter.find_issue(PLATFORM, "gate-42")
    assert found is not None and found[0] == number and found[1].endswith(f"/issues/{number}")
    gh.api.calls.clear()
    assert await gh.adapter.find_issue(PLATFORM, "gate-nothing") is None
    assert gh.api.calls == [("GET", f"/repos/{PLATFORM}/issues")]  # one page, no per-issue fetches
    await gh.adapter.comment(PLATFORM, number, "/approve k8s.secret.create")
    gh.state.add_comment(PLATFORM, number, f"codex-k8s: leaked KODEX_GITHUB_PAT={TOKEN}", actor=BOT)
    comments = await gh.adapter.comments(PLATFORM, number)
    assert (comments[0].author, comments[0].body) == (OPERATOR, "/approve k8s.secret.create")
    assert comments[1].author == BOT and TOKEN not in comments[1].body and "[REDACTED" in comments[1].body
    kinds = [(e[0], e[3].get("body")) for e in gh.drain()]
    assert ("comment", "/approve k8s.secret.create") in kinds


async def test_issue_created_with_labels_emits_events(gh: GitHubRig) -> None:
    gh.state.create_issue(PLATFORM, "pre-labelled", "", actor=OPERATOR, labels=["run:intake", "need:pm"])
    assert [e[3]["label"] for e in gh.drain()] == ["run:intake", "need:pm"]


async def test_pagination_over_labels_and_comments(gh: GitHubRig) -> None:
    repo = gh.state.repo(PROJECT)
    for i in range(60):
        repo.labels[f"bulk:{i:02d}"] = Label(gh.state.next_id(), f"bulk:{i:02d}")
    number = await _issue(gh)
    for i in range(130):
        gh.state.add_comment(PLATFORM, number, f"comment {i}", actor=BOT)
    labels = await gh.adapter.labels(PROJECT)
    assert len(labels) == len(catalogue()) + 60 and len(labels) > 100
    comments = await gh.adapter.comments(PLATFORM, number)
    assert [c.body for c in comments] == [f"comment {i}" for i in range(130)]
    comment_pages = [p for m, p in gh.api.calls if p.endswith(f"/issues/{number}/comments")]
    assert len(comment_pages) == 2  # 100 per page, followed by the Link header


# -- pull requests and reviews ------------------------------------------------------------------------------
async def test_pulls_for_issue_and_reviews(gh: GitHubRig) -> None:
    number = await _issue(gh)
    other = await _issue(gh)
    pr = gh.state.create_pull(PLATFORM, f"codex/issue-{number}", "impl", f"Closes #{number}", actor=BOT)
    gh.state.create_pull(PLATFORM, f"codex/issue-{number}0", "other", f"Closes #{number}0", actor=BOT)
    found = await gh.adapter.pulls_for_issue(PLATFORM, number)
    assert [(p.number, p.state) for p in found] == [(pr, "open")] and found[0].url.endswith(f"/pull/{pr}")
    assert await gh.adapter.pulls_for_issue(PLATFORM, other) == []
    gh.drain()

    await gh.adapter.review(PLATFORM, pr, "REQUEST_CHANGES", "please split the migration")
    (kind, _repo, num, data, _delivery), *_ = gh.drain()
    assert (kind, num, data["state"], data["is_pr"]) == ("review", pr, "CHANGES_REQUESTED", True)
    reviews = await gh.adapter.reviews(PLATFORM, pr)
    assert [(r.author, r.state, r.body) for r in reviews] == [
        (OPERATOR, "CHANGES_REQUESTED", "please split the migration")
    ]
    with pytest.raises(AdapterError) as info:
        await gh.adapter.reviews(PLATFORM, number)  # an issue, not a pull request
    assert info.value.kind is ErrorKind.NOT_FOUND


# -- protection and webhooks --------------------------------------------------------------------------------
async def test_branch_protection_present_and_absent(gh: GitHubRig) -> None:
    protection = await gh.adapter.branch_protection(PLATFORM)
    assert protection is not None and protection.branch == "main"
    assert protection.required_approving_review_count >= 1
    gh.faults.add("github.no-branch-protection")
    assert await gh.adapter.branch_protection(PLATFORM, "main") is None


async def test_hooks_deliveries_and_redelivery(gh: GitHubRig) -> None:
    (hook,) = await gh.adapter.hooks(PLATFORM)
    assert hook.active and {"issues", "issue_comment", "pull_request", "pull_request_review"} <= set(
        hook.events
    )
    number = await _issue(gh)
    await gh.adapter.add_label(PLATFORM, number, "run:intake")
    (first,) = gh.drain()
    deliveries = await gh.adapter.deliveries(PLATFORM, hook.id)
    newest = deliveries[0]
    assert newest.guid == first[4] and newest.event == "issues" and newest.action == "labeled"
    await gh.adapter.redeliver(PLATFORM, hook.id, newest.id)
    (again,) = gh.drain()
    assert again == first  # same event, same delivery id: the platform must treat it as seen
    assert (await gh.adapter.deliveries(PLATFORM, hook.id))[0].redelivery is True


async def test_webhook_missing_fault(gh: GitHubRig) -> None:
    gh.faults.add("github.webhook-missing")
    assert await gh.adapter.hooks(PLATFORM) == []
    number = await _issue(gh)
    assert await gh.adapter.add_label(PLATFORM, number, "run:intake") is True
    assert gh.drain() == []  # nobody hears the label


async def test_labels_missing_fault(gh: GitHubRig) -> None:
    gh.faults.add("github.labels-missing")
    present = set(await gh.adapter.labels(PLATFORM))
    assert not present & set(MISSING_LABELS) and set(catalogue()) - present == set(MISSING_LABELS)
    assert await gh.adapter.ensure_label(PLATFORM, MISSING_LABELS[0]) is True
    assert MISSING_LABELS[0] in await gh.adapter.labels(PLATFORM)


# -- faults as typed errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        ("github.token-expired", ErrorKind.AUTH, "token rejected (expired or revoked)"),
        ("github.api-500", ErrorKind.SERVER, "500"),
    ],
)
async def test_fault_becomes_typed_one_line_error(
    gh: GitHubRig, fault: str, kind: ErrorKind, words: str
) -> None:
    gh.faults.add(fault)
    with pytest.raises(AdapterError) as info:
        await gh.adapter.connect()
    err = info.value
    assert err.kind is kind and words in str(err) and "\n" not in str(err)
    assert TOKEN not in str(err)
    if fault == "github.api-500":  # a read is retried once, then reported
        assert gh.api.calls.count(("GET", "/user")) == 2


async def test_bad_token_and_unknown_repo(gh: GitHubRig) -> None:
    with pytest.raises(AdapterError) as info:
        await gh.new_adapter(token="ghp_wrong").connect()
    assert info.value.kind is ErrorKind.AUTH
    with pytest.raises(AdapterError) as info:
        await gh.adapter.labels("codex-k8s/nope")
    assert info.value.kind is ErrorKind.NOT_FOUND


async def test_unreachable_server(gh: GitHubRig) -> None:
    url = gh.api.url
    await gh.api.stop()
    adapter = GitHubAdapter(gh.settings.model_copy(update={"api_url": url}), token=TOKEN)
    with pytest.raises(AdapterError) as info:
        await adapter.connect()
    assert info.value.kind is ErrorKind.UNREACHABLE


async def test_silent_server_times_out(gh: GitHubRig) -> None:
    async def accept_and_say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = gh.settings.model_copy(update={"api_url": f"http://127.0.0.1:{port}", "timeout": 1.0})
    started = time.monotonic()
    with pytest.raises(AdapterError) as info:
        await GitHubAdapter(settings, token=TOKEN).connect()
    assert info.value.kind is ErrorKind.TIMEOUT and time.monotonic() - started < 4
    server.close()


@pytest.mark.parametrize("style", ["primary", "secondary"])
async def test_rate_limit_is_waited_out_with_a_countdown(gh: GitHubRig, style: str) -> None:
    gh.api.rate_style, gh.api.rate_reset_s = style, 1
    gh.faults.add("github.rate-limited")
    started = time.monotonic()
    assert await gh.adapter.whoami() == OPERATOR
    assert time.monotonic() - started >= 0.9
    assert gh.waits and all(w.startswith("GitHub rate limit: waiting ") for w in gh.waits)
    assert gh.api.calls.count(("GET", "/user")) == 2  # one refusal, one retry: no hammering


async def test_rate_limit_longer_than_we_wait_is_reported(gh: GitHubRig) -> None:
    gh.api.rate_reset_s = 30
    gh.faults.add("github.rate-limited")
    adapter = gh.new_adapter(max_rate_wait_s=2)
    with pytest.raises(AdapterError) as info:
        await adapter.connect()
    assert info.value.kind is ErrorKind.RATE_LIMITED and "rate limited" in str(info.value)


def test_github_faults_registered() -> None:
    for name in (
        "github.token-expired",
        "github.api-500",
        "github.rate-limited",
        "github.labels-missing",
        "github.no-branch-protection",
        "github.webhook-missing",
    ):
        assert CATALOGUE[name].component == "github"
