"""`gateroom publish` against the sandbox GitHub, audited through its call log (the log `gateroom
sandbox` writes): the pull request with the documents, the bundle on a draft release and the
closeout comment exist; a second run writes nothing; the downloaded asset passes `gateroom verify`;
a token without write access, a missing closeout issue or a GitHub 5xx stop with one line, and a
rerun finishes what a stop left."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.config import settings_from_dict
from backends.decision import Actor, decide, prepare
from backends.events import PublishFinished, PublishStep
from backends.gate import open_gate
from backends.github import GitHubAdapter
from backends.publish.command import publish_gate
from backends.publish.evidence import published_part
from backends.redact import Redactor
from backends.sandbox.standalone import CALL_LOG, settings_toml
from backends.sandbox.world import PLATFORM_REPO, STAFF_TOKEN_ENV, TOKEN_ENV, SandboxWorld
from backends.session import Session
from backends.signoff import decision_status
from tests.unit.bundle_support import make_session
from tui.cli import main

OWNER = Actor("SHA256:q0wnerKeyFingerprintForTests000000000000000", "owner")
SCENARIOS = {"A1.128", "C3"}  # the #128 checkpoint, and a run with MCP action requests
CHECKPOINT = 128
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Published:
    world: SandboxWorld
    session_dir: Path
    config: Path
    log: Path
    closeout: int
    tmp: Path

    def calls(self) -> list[tuple[str, str]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [(m, p) for m, _, p in (ln.partition(" ") for ln in lines)]

    def adapter(self) -> GitHubAdapter:
        settings = self.world.settings().github
        assert settings is not None
        return GitHubAdapter(settings, Redactor(), token=self.world.github_token)


def _write_config(world: SandboxWorld, path: Path, **publish: object) -> Path:
    data = world.settings_dict()
    data["publish"] = publish
    path.write_text(settings_toml(data), encoding="utf-8")
    return path


async def _gated(world: SandboxWorld, session_dir: Path) -> None:
    gate = await open_gate(
        world.settings(),
        session_dir,
        secrets=world.secret_values.values(),
        github_token=world.github_token,
        platform_token=world.staff_token,
    )
    try:
        await gate.engine.run_scenarios(SCENARIOS)
        gate.engine.publish_verdict()
    finally:
        await gate.aclose()


def _decide(session_dir: Path, decision: str = "GO") -> None:
    session = Session(session_dir)
    session.store.record_event(prepare(session, OWNER, decision, "checkpoint confirmed; ship it"))
    session.store.flush()


@pytest.fixture
async def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Published]:
    world = SandboxWorld.create(workdir=tmp_path / "sandbox")
    await world.start()
    try:
        assert world.github_api is not None
        log = tmp_path / CALL_LOG
        log.write_text("", encoding="utf-8")
        monkeypatch.setenv(TOKEN_ENV, world.github_token)
        monkeypatch.setenv(STAFF_TOKEN_ENV, world.staff_token)
        gh = GitHubAdapter(world.settings().github, Redactor(), token=world.github_token)  # type: ignore[arg-type]
        closeout, _ = await gh.create_issue(PLATFORM_REPO, "MVP closeout: e2e gate and owner sign-off", "")
        await gh.aclose()
        session_dir = tmp_path / "session"
        await _gated(world, session_dir)
        _decide(session_dir)
        config = _write_config(
            world, tmp_path / "gateroom.toml", closeout_issue=closeout, checkpoint_issue=CHECKPOINT
        )
        world.github_api.call_log = log  # from here on: what publishing did to GitHub
        yield Published(world, session_dir, config, log, closeout, tmp_path)
    finally:
        await world.stop()


async def _publish_dir(session_dir: Path, config: Path) -> int:
    return await asyncio.to_thread(
        main, ["publish", "--session-dir", str(session_dir), "--config", str(config)]
    )


async def _publish(p: Published, config: Path | None = None) -> int:
    return await _publish_dir(p.session_dir, config or p.config)


def _manifest(archive: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/manifest.json"))
        fh = tar.extractfile(member)
        assert fh is not None
        return fh.read()


def _writes(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(m, path) for m, path in calls if m in WRITES]


def _published_records(session_dir: Path) -> list[dict[str, object]]:
    kinds = {PublishStep.kind, PublishFinished.kind}
    return [r for r in Session(session_dir).store.records() if r["kind"] in kinds]


async def test_publish_opens_the_pr_uploads_the_bundle_comments_and_a_rerun_writes_nothing(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    p = published
    assert await _publish(p) == 0
    first = p.calls()
    writes = _writes(first)
    repo = f"/repos/{PLATFORM_REPO}"
    assert ("POST", f"{repo}/git/refs") in writes
    assert sum(1 for m, path in writes if m == "PUT" and path.startswith(f"{repo}/contents/")) == 4
    assert ("POST", f"{repo}/releases") in writes
    assert any(m == "POST" and path.startswith(f"/api/uploads{repo}/releases/") for m, path in writes)
    assert ("POST", f"{repo}/pulls") in writes
    assert ("POST", f"{repo}/issues/{p.closeout}/comments") in writes
    out = capsys.readouterr().out
    assert "published to codex-k8s/codex-k8s" in out and "change(s)" in out

    state = p.world.github_state
    assert state is not None
    content = state.repo_content(PLATFORM_REPO)
    session = Session(p.session_dir).session_id
    branch = f"gateroom/gate-{session}"
    pulls = [i for i in state.repo(PLATFORM_REPO).issues.values() if i.is_pr and i.head == branch]
    assert len(pulls) == 1 and pulls[0].state == "open"
    releases = list(content.releases.values())
    assert len(releases) == 1 and releases[0].draft and releases[0].tag_name == f"gate-{session}"
    assets = list(releases[0].assets.values())
    assert [a.name for a in assets] == [f"gateroom-{session}.tar.gz"]
    comments = [c for c in state.issue(PLATFORM_REPO, p.closeout).comments if "gateroom:publish" in c.body]
    assert len(comments) == 1
    body = comments[0].body
    records = Session(p.session_dir).store.records()
    head = records[published_part(records) - 1]["hash"]
    for needle in ("**Gate Room: GO**", "The owner's decision: GO by", head, pulls[0].head and "/pull/"):
        assert needle in body
    assert assets[0].label.endswith(json.loads(_manifest(assets[0].data))["digest"])

    # a second run: everything is read, nothing is written
    assert await _publish(p) == 0
    again = p.calls()[len(first) :]
    assert again and _writes(again) == [], _writes(again)
    assert "nothing to change: all was already right" in capsys.readouterr().out
    assert len(content.releases) == 1 and len(list(releases[0].assets)) == 1
    assert (
        len([c for c in state.issue(PLATFORM_REPO, p.closeout).comments if "gateroom:publish" in c.body]) == 1
    )

    # the downloaded asset is the bundle, and it verifies
    gh = p.adapter()
    try:
        data = await gh.download_asset(PLATFORM_REPO, assets[0].id)
    finally:
        await gh.aclose()
    downloaded = p.tmp / assets[0].name
    downloaded.write_bytes(data)
    assert await asyncio.to_thread(main, ["verify", str(downloaded)]) == 0
    assert "OK:" in capsys.readouterr().out

    # every step of both runs is in the evidence, and the decision stays current
    records = _published_records(p.session_dir)
    finished = [r for r in records if r["kind"] == PublishFinished.kind]
    assert [r["payload"]["ok"] for r in finished] == [True, True]  # type: ignore[index]
    steps = [r["payload"] for r in records if r["kind"] == PublishStep.kind]
    assert {s["step"] for s in steps} >= {
        "preflight",
        "branch",
        "file",
        "release",
        "asset",
        "pull",
        "comment",
    }  # type: ignore[index]
    assert not decision_status(Session(p.session_dir).store.records()).stale


async def test_the_documents_follow_the_repository_templates_and_the_checkpoint_row(
    published: Published,
) -> None:
    p = published
    assert await _publish(p) == 0
    state = p.world.github_state
    assert state is not None
    content = state.repo_content(PLATFORM_REPO)
    session = Session(p.session_dir).session_id
    branch = f"gateroom/gate-{session}"

    def text(path: str, ref: str = branch) -> str:
        data = content.file(ref, path)
        assert data is not None, path
        return data.decode()

    def structure(doc: str) -> tuple[list[str], list[str]]:
        front, _, body = doc.removeprefix("---\n").partition("\n---\n")
        keys = [ln.split(":")[0] for ln in front.splitlines() if ln and not ln.startswith(" ")]
        return keys, [ln for ln in body.splitlines() if ln.startswith("## ")]

    for doc, template in (
        (f"docs/delivery/release_notes_gate_{session}.md", "docs/templates/release_notes.md"),
        ("docs/ops/e2e_gate_runbook.md", "docs/templates/runbook.md"),
    ):
        assert structure(text(doc)) == structure(text(template, "main")), doc
        assert "<" not in text(doc).split("\n---\n", 1)[0], "a placeholder left in the front matter"
    notes = text(f"docs/delivery/release_notes_gate_{session}.md")
    assert "approved_by: " in notes and "status: approved" in notes and f"#{p.closeout}" in notes

    report = text(f"docs/delivery/regression_gate_{session}.md")
    assert report.startswith("---\ndoc_id: REG-GATE-") and "type: regression" in report
    assert "# Gate Room report" in report and "## Runs" in report

    issue_map = text("docs/delivery/issue_map.md")
    row = [ln for ln in issue_map.splitlines() if ln.startswith(f"| #{CHECKPOINT} |")]
    assert len(row) == 1
    assert "A1.128 PASS" in row[0] and row[0].rstrip(" |").endswith("completed")
    assert f"`docs/delivery/release_notes_gate_{session}.md`" in row[0]
    related = next(ln for ln in issue_map.splitlines() if ln.startswith("related_issues:"))
    assert f"{CHECKPOINT}" in related and f"{p.closeout}" in related
    # every other line of the map is as it was
    touched = ("related_issues:", "updated_at:")  # and the updated_at date moves to the decision's
    before = text("docs/delivery/issue_map.md", "main").splitlines()
    kept = [ln for ln in issue_map.splitlines() if ln not in row and not ln.startswith(touched)]
    assert kept == [ln for ln in before if not ln.startswith(touched)]


async def test_a_token_without_write_access_stops_before_anything_is_published(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    p = published
    p.world.faults.add("github.token-read-only")
    assert await _publish(p) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Resource not accessible by personal access token" in err and "contents and pull requests" in err
    state = p.world.github_state
    assert state is not None
    content = state.repo_content(PLATFORM_REPO)
    assert list(content.branches) == ["main"] and not content.releases
    assert not state.issue(PLATFORM_REPO, p.closeout).comments
    p.world.faults.remove("github.token-read-only")
    assert await _publish(p) == 0
    assert len(content.releases) == 1 and len(state.issue(PLATFORM_REPO, p.closeout).comments) == 1


async def test_a_missing_closeout_issue_writes_nothing(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    p = published
    config = _write_config(p.world, p.tmp / "missing.toml", closeout_issue=999, checkpoint_issue=CHECKPOINT)
    assert await _publish(p, config) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"gateroom: publish stopped before anything was written: closeout issue {PLATFORM_REPO}#999 "
        "does not exist (or the token cannot see it)"
    )
    assert _writes(p.calls()) == []


async def test_github_5xx_part_way_is_finished_by_a_rerun_without_duplicates(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    p = published
    p.world.faults.add("github.uploads-502")
    assert await _publish(p) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "stopped at asset" in err and "502" in err, err
    assert "run gateroom publish again to finish" in err
    state = p.world.github_state
    assert state is not None
    content = state.repo_content(PLATFORM_REPO)
    releases = list(content.releases.values())
    assert len(releases) == 1 and not releases[0].assets  # the release is there, its asset is not
    assert not [i for i in state.repo(PLATFORM_REPO).issues.values() if i.is_pr]
    assert not state.issue(PLATFORM_REPO, p.closeout).comments
    stopped = len(p.calls())

    p.world.faults.remove("github.uploads-502")
    assert await _publish(p) == 0
    rerun = _writes(p.calls()[stopped:])
    assert not any(
        path.endswith("/releases") or "/git/refs" in path or "/contents/" in path for _, path in rerun
    )
    assert len(content.releases) == 1 and len(releases[0].assets) == 1
    assert len([i for i in state.repo(PLATFORM_REPO).issues.values() if i.is_pr]) == 1
    assert len(state.issue(PLATFORM_REPO, p.closeout).comments) == 1
    finished = [r["payload"] for r in _published_records(p.session_dir) if r["kind"] == PublishFinished.kind]
    assert [f["ok"] for f in finished] == [False, True]  # type: ignore[index]


async def test_a_github_outage_and_an_undecided_session_stop_with_one_line(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    p = published
    p.world.faults.add("github.api-500")
    assert await _publish(p) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "before anything was written" in err and "500" in err, err
    p.world.faults.remove("github.api-500")
    assert _writes(p.calls()) == []

    undecided = p.tmp / "undecided"
    make_session(undecided)  # a recorded gate, and no decision on it
    assert await _publish_dir(undecided, p.config) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "gateroom: no decision recorded on this evidence: the owner decides first (pane 5, gateroom sign)"
    )
    assert await _publish_dir(p.tmp / "nowhere", p.config) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no session here" in err, err
    assert _writes(p.calls()) == []


async def test_the_open_gate_publishes_through_its_own_adapter_as_the_sign_off_key_does(
    published: Published,
) -> None:
    p = published
    settings = settings_from_dict(
        p.world.settings_dict()
        | {"publish": {"closeout_issue": p.closeout, "checkpoint_issue": CHECKPOINT, "tag": "pane-{session}"}}
    )
    gate = await open_gate(
        settings,
        p.tmp / "pane-session",
        secrets=p.world.secret_values.values(),
        github_token=p.world.github_token,
        platform_token=p.world.staff_token,
    )
    seen: list[str] = []
    gate.bus.subscribe(lambda e: seen.append(e.kind))
    try:
        await gate.engine.run_scenarios({"A1.128"})
        await decide(gate, OWNER, "GO", "from the sign-off pane")
        result = await publish_gate(gate)
        assert result.changed and set(result.links) == {"release", "asset", "pull", "comment"}
        again = await publish_gate(gate)
        assert again.changed == 0
    finally:
        await gate.aclose()
    assert seen.count(PublishFinished.kind) == 2  # on the bus: the pane and the evidence see each step
    records = Session(p.tmp / "pane-session").store.records()
    assert not decision_status(records).stale
