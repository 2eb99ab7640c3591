"""Signed decisions and manifests: OpenSSH's own tool accepts them, `verify --allowed-signers` names the
key, and a shortened, re-hashed bundle, a stranger's signature or a missing one fail closed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from backends.bundle.content import RECORDS, build_files
from backends.bundle.manifest import MANIFEST, build_manifest, layout_of
from backends.signing import MANIFEST_SIG
from backends.sshsig import DECISION_NAMESPACE, load_private_key, sign_with_key, verify
from tests.unit.bundle_support import make_session
from tui.cli import main

VERIFY = ("ssh-keygen", "-Y", "verify", "-f")
pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


def allowed_signers(path: Path, **keys: Path) -> Path:
    lines = []
    for principal, key in keys.items():
        keytype, blob = (key.with_suffix(".pub").read_text().split())[:2]
        lines.append(f'{principal} namespaces="gateroom-decision,gateroom-manifest" {keytype} {blob}')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, Path]:
    owner, operator = keygen(tmp_path / "owner"), keygen(tmp_path / "operator")
    session = tmp_path / "session"
    make_session(session)
    assert main(["sign", "--session-dir", str(session), "--key", str(owner), "GO", "--comment", "ship"]) == 0
    bundle = tmp_path / "bundle"
    assert (
        main(["export", "--session-dir", str(session), "--out", str(bundle), "--sign-key", str(operator)])
        == 0
    )
    signers = allowed_signers(tmp_path / "allowed_signers", owner=owner, operator=operator)
    return {"owner": owner, "operator": operator, "session": session, "bundle": bundle, "signers": signers}


def test_a_signed_bundle_verifies_stage_by_stage_naming_the_keys(signed, capsys) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main(["verify", str(signed["bundle"]), "--allowed-signers", str(signed["signers"])]) == 0
    out = capsys.readouterr().out
    owner_fp = load_private_key(signed["owner"]).get_fingerprint("sha256")
    operator_fp = load_private_key(signed["operator"]).get_fingerprint("sha256")
    for stage in ("chain: OK", "files: OK", "report: OK", "signatures: OK", "witness: SKIP"):
        assert stage in out, out
    assert f"{MANIFEST} by {operator_fp} (operator)" in out
    assert f"by {owner_fp} (owner)" in out


def test_ssh_keygen_accepts_the_owner_signature_on_the_statement_in_the_bundle(signed) -> None:  # type: ignore[no-untyped-def]
    statements = sorted((signed["bundle"] / "signatures").glob("decision-*.txt"))
    assert len(statements) == 1
    statement = statements[0]
    sig = statement.with_suffix(".sig")
    assert b"decision: GO" in statement.read_bytes() and b"records: 11" in statement.read_bytes()
    result = subprocess.run(
        [*VERIFY, str(signed["signers"]), "-I", "owner", "-n", DECISION_NAMESPACE, "-s", str(sig)],
        input=statement.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b'Good "gateroom-decision" signature for owner' in result.stdout
    msig = signed["bundle"] / MANIFEST_SIG
    manifest = subprocess.run(
        [*VERIFY, str(signed["signers"]), "-I", "operator", "-n", "gateroom-manifest", "-s", str(msig)],
        input=(signed["bundle"] / MANIFEST).read_bytes(),
        capture_output=True,
        check=False,
    )
    assert manifest.returncode == 0, manifest.stderr


def test_our_verifier_accepts_what_ssh_keygen_signs_rsa_included(tmp_path: Path) -> None:
    for kind in ("ed25519", "rsa"):
        key = keygen(tmp_path / kind, kind)
        message = tmp_path / f"{kind}.txt"
        message.write_bytes(b"statement\n")
        subprocess.run(
            ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "ns", str(message)], check=True
        )
        got = verify(message.with_suffix(".txt.sig").read_text(), "ns", b"statement\n")
        assert got.fingerprint == load_private_key(key).get_fingerprint("sha256")
        ours = tmp_path / f"{kind}.ours.sig"
        ours.write_text(sign_with_key(load_private_key(key), "ns", b"statement\n"))
        signers = allowed_signers(tmp_path / f"{kind}.allowed", someone=key)
        signers.write_text(
            signers.read_text().replace('namespaces="gateroom-decision,gateroom-manifest" ', "")
        )
        result = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "someone", "-n", "ns", "-s", str(ours)],
            input=b"statement\n",
            capture_output=True,
            check=False,
        )
        assert result.returncode == 0, (kind, result.stderr)


def _rewrite_manifest(bundle: Path) -> None:
    """What a forger does after editing files: recompute every hash, the head, the count, the digest."""
    files = {
        p.relative_to(bundle).as_posix(): p.read_bytes()
        for p in bundle.rglob("*")
        if p.is_file() and p.name not in {MANIFEST, MANIFEST_SIG}
    }
    records = json.loads(files[RECORDS])
    old = json.loads((bundle / MANIFEST).read_text())
    manifest = build_manifest(
        files, session=old["session"], head=records[-1]["hash"], records=len(records),
        layout=layout_of(old) or 2,
    )
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _truncate(bundle: Path, drop: int) -> None:
    records = json.loads((bundle / RECORDS).read_text())
    (bundle / RECORDS).write_text(
        json.dumps(records[:-drop], indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )
    for sig in (bundle / "signatures").glob("*"):
        sig.unlink()  # the dropped decision's statement goes with it


def test_a_truncated_rehashed_bundle_fails_verify_naming_the_stage(signed, capsys) -> None:  # type: ignore[no-untyped-def]
    bundle = signed["bundle"]
    _truncate(bundle, 3)
    _rewrite_manifest(bundle)
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN: [report] report.md: differs from the one regenerated from records.json")


def test_a_truncated_bundle_with_a_regenerated_report_fails_on_the_manifest_signature(signed, capsys) -> None:  # type: ignore[no-untyped-def]
    bundle = signed["bundle"]
    _truncate(bundle, 3)
    records = json.loads((bundle / RECORDS).read_text())
    for name, data in build_files(
        records, lambda r: (bundle / f"logs/excerpts/{r['seq']:05d}.log").read_bytes()
    ).items():
        (bundle / name).write_bytes(data)
    _rewrite_manifest(bundle)
    capsys.readouterr()
    assert main(["verify", str(bundle), "--allowed-signers", str(signed["signers"])]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN: [signatures] manifest.json: SSH signature by"), out
    assert "does not match the signed statement" in out
    (bundle / MANIFEST_SIG).unlink()
    assert main(["verify", str(bundle), "--allowed-signers", str(signed["signers"])]) == 1
    assert "BROKEN: [signatures] manifest.json.sig is missing" in capsys.readouterr().out


def test_a_decision_signed_by_a_key_not_allowed_fails(signed, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    only_operator = allowed_signers(tmp_path / "only_operator", operator=signed["operator"])
    capsys.readouterr()
    assert main(["verify", str(signed["bundle"]), "--allowed-signers", str(only_operator)]) == 1
    out = capsys.readouterr().out
    owner_fp = load_private_key(signed["owner"]).get_fingerprint("sha256")
    assert out.startswith("BROKEN: [signatures] record 12 (decision GO by")
    assert f"signed by {owner_fp}, a key not in the allowed signers" in out
    assert len(out.strip().splitlines()) == 1


def test_an_allowed_signers_file_with_a_bad_line_is_one_line_and_exit_2(
    signed, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad_signers"
    bad.write_text(signed["signers"].read_text() + "owner ssh-ed25519 not-base64!!\n")
    capsys.readouterr()
    assert main(["verify", str(signed["bundle"]), "--allowed-signers", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gateroom: ") and "bad_signers line 3: not a public key" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unsigned_decision_fails_closed_when_signers_are_required(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    operator = keygen(tmp_path / "operator")
    session = tmp_path / "session"
    make_session(session)
    from backends.decision import Actor, prepare
    from backends.session import Session

    s = Session(session)
    s.store.record_event(prepare(s, Actor("someone", "owner"), "GO", "unsigned"))
    s.store.flush()
    bundle = tmp_path / "bundle"
    assert (
        main(["export", "--session-dir", str(session), "--out", str(bundle), "--sign-key", str(operator)])
        == 0
    )
    signers = allowed_signers(tmp_path / "signers", operator=operator)
    capsys.readouterr()
    assert main(["verify", str(bundle), "--allowed-signers", str(signers)]) == 1
    assert (
        "BROKEN: [signatures] record 12 (decision GO by someone): carries no signature"
        in capsys.readouterr().out
    )
