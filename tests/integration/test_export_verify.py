"""`gateroom export` then `gateroom verify`: intact bundles pass, any single changed byte is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.decision import Actor, prepare
from backends.events import CheckFinished
from backends.evidence.chain import link
from backends.results import CheckResult, Status
from backends.session import Session
from tests.unit.bundle_support import make_session
from tui.cli import main

OWNER = Actor("SHA256:q0wnerKeyFingerprintForTests000000000000000", "owner")


def decided_session(tmp_path: Path) -> Path:
    session_dir = tmp_path / "session"
    make_session(session_dir)
    session = Session(session_dir)
    session.store.record_event(prepare(session, OWNER, "GO", "ship it"))
    session.store.flush()
    return session_dir


def flip(path: Path, needle: bytes) -> None:
    """Change exactly one byte: the first byte of `needle`, which must occur once in the file."""
    data = path.read_bytes()
    assert data.count(needle) == 1, needle
    at = data.index(needle)
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])


def rechain_with(path: Path, seq: int, field: str, value: str) -> None:
    """A careful forger: edit a decision and recompute every hash after it, so the chain verifies."""
    records = json.loads(path.read_text())
    records[seq - 1]["payload"][field] = value
    prev = records[seq - 2]["hash"]
    for i in range(seq - 1, len(records)):
        r = records[i]
        records[i] = link(r["seq"], r["ts"], r["kind"], r["payload"], prev)
        prev = records[i]["hash"]
    path.write_text(json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def test_export_then_verify_passes_for_a_directory_and_an_archive(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    session_dir = decided_session(tmp_path)
    for out in (tmp_path / "bundle", tmp_path / "bundle.tar.gz"):
        assert main(["export", "--session-dir", str(session_dir), "--out", str(out)]) == 0
        assert main(["verify", str(out)]) == 0
        assert "OK:" in capsys.readouterr().out
    files = sorted(p.relative_to(tmp_path / "bundle").as_posix() for p in (tmp_path / "bundle").rglob("*"))
    assert files == [
        "junit.xml",
        "logs",
        "logs/excerpts",
        "logs/excerpts/00010.log",
        "manifest.json",
        "records.json",
        "report.md",
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("record", "records.json: record 2 (check.finished): content does not match its hash"),
        ("excerpt", "logs/excerpts/00010.log: log excerpt does not match the SHA-256 in record 10"),
        ("decision", "records.json: record 12 (decision): content does not match its hash"),
        ("decision-rechained", "record 12 (decision GO by SHA256:q0wner"),
        ("report", "report.md: SHA-256 does not match manifest.json"),
        ("manifest", "manifest.json"),
    ],
)
def test_one_changed_byte_fails_verify_naming_the_item(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
    item: str,
    expected: str,
) -> None:
    out = tmp_path / "bundle"
    assert main(["export", "--session-dir", str(decided_session(tmp_path)), "--out", str(out)]) == 0
    if item == "record":
        flip(out / "records.json", b"Ubuntu 24.04.1 LTS")
    elif item == "excerpt":
        flip(out / "logs/excerpts/00010.log", b"picked up issue")
    elif item == "decision":
        flip(out / "records.json", b"ship it")
    elif item == "decision-rechained":
        rechain_with(out / "records.json", 12, "bundle_digest", "0" * 64)
    elif item == "report":
        flip(out / "report.md", b"# Gate Room report")
    else:
        flip(out / "manifest.json", b'"format"')
    capsys.readouterr()
    assert main(["verify", str(out)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("BROKEN: ") and expected in printed, printed
    assert len(printed.strip().splitlines()) == 1


def test_unusable_input_and_existing_target_are_one_line_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gateroom: ") and "no such file" in err and len(err.splitlines()) == 1
    session_dir = decided_session(tmp_path)
    (tmp_path / "taken").mkdir()
    assert main(["export", "--session-dir", str(session_dir), "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and len(err.splitlines()) == 1
    assert main(["export", "--session-dir", str(tmp_path / "none"), "--out", str(tmp_path / "b")]) == 2
    assert "no session here" in capsys.readouterr().err


def test_a_secret_in_the_evidence_stops_the_export_naming_where(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    session_dir = decided_session(tmp_path)
    token = "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "abcd"
    leaked = CheckResult("host.env", "host", "env", Status.FAIL, output=f"GH={token}", target="prod-vps")
    session = Session(session_dir)
    session.store.record_event(CheckFinished(leaked))
    session.store.flush()
    out = tmp_path / "bundle.tar.gz"
    assert main(["export", "--session-dir", str(session_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        "secret found, nothing written" in err
        and "records.json record 13 (check.finished)" in err
        and "github-token" in err
    )
    assert token not in err
    assert not out.exists() and not list(tmp_path.glob(".bundle*"))
