"""Evidence decided and exported before the bundle grew (layout 1: no runs, no timeline) still verifies.

`tests/data/layout1/` was written by the version before layout 2: a session with an owner's signed GO
and the bundle exported from it (the owner's public key in its allowed_signers; the private key was
not kept). A decision binds the digest of the layout it was made under, so neither a new verifier
nor a new export may disturb it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from backends.bundle.content import LAYOUT
from backends.bundle.manifest import MANIFEST
from backends.decision import Actor, prepare
from backends.session import Session
from tui.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "layout1"


def test_a_layout_1_bundle_still_verifies_signatures_and_all(capsys) -> None:  # type: ignore[no-untyped-def]
    assert json.loads((DATA / "bundle" / MANIFEST).read_text())["format"] == "gateroom-bundle/1"
    capsys.readouterr()
    code = main(["verify", str(DATA / "bundle"), "--allowed-signers", str(DATA / "allowed_signers")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "report: OK" in out and "signatures: OK" in out and "(owner)" in out


def test_a_session_decided_under_layout_1_exports_in_the_new_layout_and_verifies(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    session = tmp_path / "session"
    shutil.copytree(DATA / "session", session)
    bundle = tmp_path / "bundle"
    assert main(["export", "--session-dir", str(session), "--out", str(bundle)]) == 0
    assert json.loads((bundle / MANIFEST).read_text())["format"] == f"gateroom-bundle/{LAYOUT}"
    assert "## Timeline" in (bundle / "report.md").read_text()
    capsys.readouterr()
    code = main(["verify", str(bundle), "--allowed-signers", str(DATA / "allowed_signers")])
    out = capsys.readouterr().out
    # the manifest is not signed this time: the owner's decision signature is what is checked
    assert code == 1 and "manifest.json.sig is missing" in out, out
    assert main(["verify", str(bundle)]) == 0


def test_a_new_decision_binds_the_current_layout_and_both_verify(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    session_dir = tmp_path / "session"
    shutil.copytree(DATA / "session", session_dir)
    s = Session(session_dir)
    # reopening adds evidence after the old decision, so a new one may be recorded
    s.store.append("progress.note", {"note": "reopened"})
    s.store.flush()
    event = prepare(s, Actor("operator@laptop", "operator"), "NO-GO", "second look")
    assert event.bundle_layout == LAYOUT and "bundle_layout" in event.to_payload()
    s.store.record_event(event)
    s.store.flush()
    bundle = tmp_path / "bundle"
    assert main(["export", "--session-dir", str(session_dir), "--out", str(bundle)]) == 0
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 0, capsys.readouterr().out
    assert "2 decision binding(s) verified" in capsys.readouterr().out
