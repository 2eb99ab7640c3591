"""The witness: the chain head posted on the gate's GitHub issue catches a shortened or rewritten bundle.

Export posts the head through PyGithub to the sandbox GitHub (served on loopback from a thread of its
own, so the CLI runs exactly as a user runs it); verify reads the comments back. The forger below does
everything the public functions allow: drops records, regenerates the report and re-hashes the
manifest, so that every offline stage passes and only the witness is left to notice.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.bundle.content import RECORDS, build_files, excerpt_name
from backends.bundle.manifest import MANIFEST, build_manifest, layout_of
from backends.evidence.store import EvidenceStore
from backends.sandbox.faults import FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import GitHubState, now_iso
from backends.session import STORE_FILE
from tests.unit.bundle_support import make_session
from tui.cli import main

TOKEN = "ghp_" + "W1tn3ssT0ken" * 3
PLATFORM = "codex-k8s/codex-k8s"
TOKEN_ENV = "GATEROOM_WITNESS_TEST_TOKEN"


@dataclass
class Hub:
    state: GitHubState
    api: SandboxGitHubApi
    faults: FaultSet
    config: Path


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    """The sandbox GitHub on its own loop in a thread, and a gateroom.toml that points at it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: (asyncio.set_event_loop(loop), loop.run_forever()), daemon=True)
    thread.start()
    faults = FaultSet()
    state = GitHubState(faults, PLATFORM, (), token=TOKEN)
    api = SandboxGitHubApi(state, faults)
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(timeout=60)
    config = tmp_path / "gateroom.toml"
    config.write_text(
        '[[hosts]]\nname = "vps"\naddress = "127.0.0.1"\n\n'
        f'[github]\napi_url = "{api.url}"\nplatform_repo = "{PLATFORM}"\ntoken_env = "{TOKEN_ENV}"\n'
        "timeout = 5\n"
    )
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    try:
        yield Hub(state, api, faults, config)
    finally:
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)
        loop.close()


def _export(hub: Hub, session: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert (
        main(
            ["export", "--session-dir", str(session), "--out", str(out), "--witness-config", str(hub.config)]
        )
        == 0
    )
    return capsys.readouterr().out


def _verify(
    hub: Hub, bundle: Path, issue: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify", str(bundle), "--witness", issue, "--witness-config", str(hub.config), *extra])
    got = capsys.readouterr()
    return code, got.out, got.err


def _witness_issue(session: Path) -> str:
    records = EvidenceStore(session / STORE_FILE).records()
    posted = [r["payload"] for r in records if r["kind"] == "witness"]
    assert posted and posted[-1]["url"] and not posted[-1]["reason"], posted
    return str(posted[-1]["issue"])


def _forge(bundle: Path, keep: int) -> None:
    """Keep the first `keep` records and make every offline stage agree with them again."""
    records = json.loads((bundle / RECORDS).read_text())[:keep]
    for sig in (bundle / "signatures").glob("*"):
        sig.unlink()
    excerpts = {
        excerpt_name(r): (bundle / excerpt_name(r)).read_bytes()
        for r in records
        if r["kind"] == "log.excerpt"
    }
    for stale in (bundle / "logs" / "excerpts").glob("*"):
        stale.unlink()
    regenerated = build_files(records, lambda r: excerpts[excerpt_name(r)])
    for name, data in regenerated.items():
        target = bundle / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    files = {
        p.relative_to(bundle).as_posix(): p.read_bytes()
        for p in bundle.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }
    old = json.loads((bundle / MANIFEST).read_text())
    manifest = build_manifest(
        files, session=old["session"], head=records[-1]["hash"], records=len(records),
        layout=layout_of(old) or 2,
    )
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


@pytest.fixture
def exported(hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    session = tmp_path / "session"
    make_session(session)
    bundle = tmp_path / "bundle"
    out = _export(hub, session, bundle, capsys)
    assert "witnessed on codex-k8s/codex-k8s#" in out, out
    return session, bundle, _witness_issue(session)


def test_export_posts_the_head_and_verify_agrees(hub: Hub, exported, capsys) -> None:  # type: ignore[no-untyped-def]
    session, bundle, issue = exported
    records = json.loads((bundle / RECORDS).read_text())
    number = int(issue.rpartition("#")[2])
    comments = hub.state.issue(PLATFORM, number).comments
    assert len(comments) == 1
    assert f'"records":{len(records)}' in comments[0].body and records[-1]["hash"] in comments[0].body
    code, out, _ = _verify(hub, bundle, issue, capsys)
    assert code == 0, out
    assert f"witness: OK — 1 witness(es) agree; latest: {len(records)} records" in out
    # a later export of the same session goes to the same issue, and the earlier bundle still verifies
    _export(hub, session, session.parent / "bundle2", capsys)
    assert _witness_issue(session) == issue and len(comments) == 2
    assert _verify(hub, session.parent / "bundle2", issue, capsys)[0] == 0
    assert _verify(hub, bundle, issue, capsys)[0] == 1  # now shorter than the latest witness


def test_a_truncated_bundle_that_passes_every_offline_stage_fails_the_witness(
    hub: Hub, exported, capsys
) -> None:  # type: ignore[no-untyped-def]
    _, bundle, issue = exported
    total = len(json.loads((bundle / RECORDS).read_text()))
    _forge(bundle, total - 3)
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 0, "the forgery must pass offline, or this test shows nothing"
    code, out, _ = _verify(hub, bundle, issue, capsys)
    assert code == 1
    assert out.startswith(
        f"BROKEN: [witness] the bundle has {total - 3} records, but {total} were witnessed"
    ), out
    assert len(out.strip().splitlines()) == 1


def test_a_rewritten_history_of_the_same_length_fails_the_witness(
    hub: Hub, exported, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    session, _, issue = exported
    # another history of the same session: same id, same number of records, different content
    other = tmp_path / "other"
    make_session(other, go=False)
    records = EvidenceStore(other / STORE_FILE).records()
    mine = EvidenceStore(session / STORE_FILE).records()
    assert records[0]["payload"]["session_id"] == mine[0]["payload"]["session_id"]
    forged = tmp_path / "forged"
    capsys.readouterr()
    assert main(["export", "--session-dir", str(other), "--out", str(forged)]) == 0
    _forge(forged, len(mine) - 1)  # the original's witnessed count (before its witness record)
    code, out, _ = _verify(hub, forged, issue, capsys)
    assert code == 1 and out.startswith("BROKEN: [witness] record"), out
    assert "a different history" in out


def test_an_edited_witness_or_a_broken_marker_fails_closed(hub: Hub, exported, capsys) -> None:  # type: ignore[no-untyped-def]
    _, bundle, issue = exported
    number = int(issue.rpartition("#")[2])
    comment = hub.state.issue(PLATFORM, number).comments[0]
    while now_iso() == comment.created_at:  # GitHub's timestamps have one-second resolution
        time.sleep(0.05)
    hub.state.edit_comment(PLATFORM, number, comment.id, comment.body.replace('"records":', '"records":1'))
    code, out, _ = _verify(hub, bundle, issue, capsys)
    assert code == 1 and "a witness edited after it was posted" in out, out
    hub.state.issue(PLATFORM, number).comments.clear()
    hub.state.add_comment(PLATFORM, number, "<!-- gateroom:witness {not json} -->", actor="someone")
    code, out, _ = _verify(hub, bundle, issue, capsys)
    assert code == 1 and "[witness]" in out and "not valid JSON" in out, out
    assert len(out.strip().splitlines()) == 1


def test_no_witness_for_the_session_fails_and_other_authors_can_be_ignored(
    hub: Hub, exported, capsys
) -> None:  # type: ignore[no-untyped-def]
    _, bundle, issue = exported
    code, out, _ = _verify(hub, bundle, issue, capsys, "--witness-author", "someone-else")
    assert code == 1 and "BROKEN: [witness] no witness for session" in out, out
    hub.state.create_issue(PLATFORM, "unrelated", "", actor="someone")
    code, out, _ = _verify(hub, bundle, f"{PLATFORM}#{len(hub.state.repo(PLATFORM).issues)}", capsys)
    assert code == 1 and "no witness for session" in out, out


def test_bad_input_is_one_line_and_exit_2(
    hub: Hub, exported, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _, bundle, issue = exported
    for argv, words in [
        (["verify", str(bundle), "--witness", "not-a-ref"], "is not an issue reference"),
        (["verify", str(bundle), "--witness-author", "x"], "need --witness"),
    ]:
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    hub.faults.add("github.api-500")
    code, _, err = _verify(hub, bundle, issue, capsys)
    assert code == 2 and err.startswith("gateroom: ") and len(err.strip().splitlines()) == 1, err
    hub.faults.remove("github.api-500")
    monkeypatch.delenv(TOKEN_ENV)
    code, _, err = _verify(hub, bundle, issue, capsys)
    assert code == 2 and f"${TOKEN_ENV} is not set" in err, err
    assert TOKEN not in err


def test_an_export_whose_witness_cannot_be_posted_keeps_the_bundle_and_says_why(
    hub: Hub, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    session = tmp_path / "session"
    make_session(session)
    hub.faults.add("github.api-500")
    capsys.readouterr()
    code = main(
        [
            "export",
            "--session-dir",
            str(session),
            "--out",
            str(tmp_path / "b"),
            "--witness-config",
            str(hub.config),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "bundle written, but its witness was not posted" in err, err
    assert len(err.strip().splitlines()) == 1 and (tmp_path / "b" / MANIFEST).is_file()
    failed = [r["payload"] for r in EvidenceStore(session / STORE_FILE).records() if r["kind"] == "witness"]
    assert len(failed) == 1 and failed[0]["reason"] and not failed[0]["url"]
