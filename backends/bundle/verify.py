"""`gateroom verify`: is this bundle what was exported, and is its decision bound to this evidence?

Stages, each reported on its own, from the most specific to the most general so that the first
problem names the item that changed: `chain` (every record's hash, each log excerpt against its
record, each decision's chain head and bundle digest), `files` (every file against the manifest),
`report` (the report, JUnit and signed statements regenerated from the records must equal the
shipped ones), `signatures` (with an allowed_signers file: the manifest's and every decision's SSH
signature, by a listed key), `witness` (with the witnesses read from the gate's GitHub issue: the
bundle must hold every witnessed record, see `backends.evidence.witness`). The first failing stage
ends the run: nothing after it is trusted.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from backends.bundle.content import LAYOUTS, RECORDS, Record, build_files, excerpt_name
from backends.bundle.errors import UnusableBundle
from backends.bundle.export import is_archive
from backends.bundle.manifest import MANIFEST, bundle_digest, digest, layout_of, sha256
from backends.bundle.report_md import short
from backends.events import DecisionRecorded, LogExcerpt, event_from_record
from backends.evidence.chain import GENESIS, verify_chain
from backends.evidence.witness import Witnessed, WitnessError, check_against
from backends.signing import MANIFEST_SIG, decision_statement, records_up_to
from backends.sshsig import (
    DECISION_NAMESPACE,
    MANIFEST_NAMESPACE,
    AllowedSigner,
    SignatureError,
    allowed,
    verify,
)

MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Stage:
    name: str
    status: str  # OK / FAIL / SKIP
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    problem: str = ""
    records: int = 0
    head: str = ""
    decisions: int = 0
    stages: tuple[Stage, ...] = ()
    stage: str = ""  # the stage that failed


def _read_dir(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _read_archive(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(path, mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts
            if len(parts) < 2 or ".." in parts or member.size > MAX_MEMBER_BYTES:
                raise UnusableBundle(f"{path}: unexpected archive member {member.name!r}")
            fh = tar.extractfile(member)
            if fh is not None:
                files["/".join(parts[1:])] = fh.read()
    return files


def read_bundle(path: Path) -> dict[str, bytes]:
    path = Path(path)
    try:
        if path.is_dir():
            return _read_dir(path)
        if path.is_file() and is_archive(path):
            return _read_archive(path)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise UnusableBundle(f"{path}: cannot read the bundle ({exc})") from exc
    if not path.exists():
        raise UnusableBundle(f"{path}: no such file or directory")
    raise UnusableBundle(f"{path}: not a bundle (a directory or a {'.tar.gz'} archive)")


def _json(files: Mapping[str, bytes], name: str) -> Any:
    if name not in files:
        raise _Broken(f"{name} is missing")
    try:
        return json.loads(files[name])
    except ValueError as exc:
        raise _Broken(f"{name}: not valid JSON ({exc.args[0] if exc.args else exc})") from exc


class _Broken(Exception):
    pass


def _excerpts(files: Mapping[str, bytes], records: list[Record]) -> None:
    for record in records:
        if record["kind"] != LogExcerpt.kind:
            continue
        name = excerpt_name(record)
        if name not in files:
            raise _Broken(f"{name} is missing (log excerpt of record {record['seq']})")
        if sha256(files[name]) != record["payload"].get("sha256"):
            raise _Broken(f"{name}: log excerpt does not match the SHA-256 in record {record['seq']}")


def _decisions(files: Mapping[str, bytes], records: list[Record]) -> int:
    def from_bundle(record: Record) -> bytes:
        return files[excerpt_name(record)]

    count = 0
    for i, record in enumerate(records):
        if record["kind"] != DecisionRecorded.kind:
            continue
        count += 1
        p = record["payload"]
        what = f"record {record['seq']} (decision {p.get('decision')} by {p.get('by')})"
        head = p.get("chain_head", "")
        if head == GENESIS:
            upto = 0
        else:
            found = next((j for j in range(i) if records[j]["hash"] == head), None)
            if found is None:
                raise _Broken(f"{what}: its chain head {short(head)} is not an earlier record of this chain")
            upto = found + 1
        layout = p.get("bundle_layout", 1)
        if layout not in LAYOUTS:
            raise _Broken(f"{what}: bound to bundle layout {layout!r}, which this version does not know")
        actual = bundle_digest(build_files(records[:upto], from_bundle, layout))
        if actual != p.get("bundle_digest"):
            raise _Broken(
                f"{what}: bound to bundle digest {short(str(p.get('bundle_digest')))}, "
                f"but the evidence up to its chain head gives {short(actual)}"
            )
    return count


def _manifest(files: Mapping[str, bytes], manifest: Mapping[str, Any], head: str, count: int) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise _Broken(f"{MANIFEST}: has no file list")
    for name, expected in sorted(listed.items()):
        if name not in files:
            raise _Broken(f"{name} is missing (listed in {MANIFEST})")
        if sha256(files[name]) != expected:
            raise _Broken(f"{name}: SHA-256 does not match {MANIFEST}")
    extra = sorted(set(files) - set(listed) - {MANIFEST, MANIFEST_SIG})
    if extra:
        raise _Broken(f"{extra[0]}: not listed in {MANIFEST}")
    if manifest.get("digest") != digest(listed):
        raise _Broken(f"{MANIFEST}: its digest does not match its file list")
    if manifest.get("chain_head") != head or manifest.get("records") != count:
        named = short(str(manifest.get("chain_head")))
        raise _Broken(f"{MANIFEST}: names chain head {named}, but {RECORDS} ends at {short(head)}")


def _report(files: Mapping[str, bytes], records: list[Record], layout: int) -> None:
    def from_bundle(record: Record) -> bytes:
        return files[excerpt_name(record)]

    for name, data in sorted(build_files(records, from_bundle, layout).items()):
        if name == RECORDS:
            continue
        if name not in files:
            raise _Broken(f"{name} is missing (regenerated from {RECORDS})")
        if files[name] != data:
            raise _Broken(f"{name}: differs from the one regenerated from {RECORDS}")


def _signer(signers: list[AllowedSigner], armored: str, namespace: str, message: bytes, what: str) -> str:
    try:
        verified = verify(armored, namespace, message)
    except SignatureError as exc:
        raise _Broken(f"{what}: {exc}") from exc
    signer = allowed(signers, verified)
    if signer is None:
        raise _Broken(f"{what}: signed by {verified.fingerprint}, a key not in the allowed signers")
    return f"{what} by {verified.fingerprint} ({','.join(signer.principals)})"


def _signatures(files: Mapping[str, bytes], records: list[Record], signers: list[AllowedSigner]) -> str:
    if MANIFEST_SIG not in files:
        raise _Broken(f"{MANIFEST_SIG} is missing: the manifest is not signed")
    named = [
        _signer(
            signers,
            files[MANIFEST_SIG].decode("utf-8", "replace"),
            MANIFEST_NAMESPACE,
            files[MANIFEST],
            MANIFEST,
        )
    ]
    for i, record in enumerate(records):
        if record["kind"] != DecisionRecorded.kind:
            continue
        event = event_from_record(record["kind"], dict(record["payload"]))
        what = f"record {record['seq']} (decision)"
        if not isinstance(event, DecisionRecorded):
            raise _Broken(f"{what}: not a readable decision")
        what = f"record {record['seq']} (decision {event.decision} by {event.by})"
        if not event.signature:
            raise _Broken(f"{what}: carries no signature")
        closes = records_up_to(records, event.chain_head, before=i)
        if closes is None:
            raise _Broken(f"{what}: its chain head is not an earlier record of this chain")
        statement = decision_statement(event, closes)
        named.append(_signer(signers, event.signature, DECISION_NAMESPACE, statement, what))
    return "; ".join(named)


def _witness(records: list[Record], session: str, witnesses: Sequence[Witnessed] | WitnessError) -> str:
    if isinstance(witnesses, WitnessError):
        raise _Broken(str(witnesses))
    checked = check_against(records, session, witnesses)
    if not checked.ok:
        raise _Broken(checked.detail)
    return checked.detail


def verify_bundle(
    path: Path,
    signers: list[AllowedSigner] | None = None,
    witnesses: Sequence[Witnessed] | WitnessError | None = None,
) -> VerifyResult:
    """`witnesses` (read from the gate's issue by the caller; a WitnessError when one of them is
    not to be trusted): None skips the witness stage."""
    files = read_bundle(path)
    head, count, decisions = GENESIS, 0, 0
    stages: list[Stage] = []
    current = "chain"
    try:
        manifest = _json(files, MANIFEST)
        records = _json(files, RECORDS)
        if not isinstance(manifest, dict) or not isinstance(records, list):
            raise _Broken(f"{MANIFEST} or {RECORDS} does not have the bundle's shape")
        chain = verify_chain(records)
        if not chain.ok:
            raise _Broken(f"{RECORDS}: {chain.problem}")
        head, count = chain.head, chain.count
        _excerpts(files, records)
        decisions = _decisions(files, records)
        stages.append(Stage(current, "OK", f"{count} records, head {short(head)}, {decisions} decision(s)"))
        current = "files"
        _manifest(files, manifest, head, count)
        stages.append(Stage(current, "OK", f"{len(manifest['files'])} files match {MANIFEST}"))
        current = "report"
        layout = layout_of(manifest)
        if layout not in LAYOUTS:
            raise _Broken(f"{MANIFEST}: format {manifest.get('format')!r} is not one this version reads")
        _report(files, records, layout)
        stages.append(Stage(current, "OK", f"report and statements regenerated from {RECORDS} match"))
        current = "signatures"
        if signers is None:
            stages.append(Stage(current, "SKIP", "no --allowed-signers given"))
        else:
            stages.append(Stage(current, "OK", _signatures(files, records, signers)))
        current = "witness"
        if witnesses is None:
            stages.append(Stage(current, "SKIP", "no --witness given"))
        else:
            session = str(manifest.get("session", ""))
            stages.append(Stage(current, "OK", _witness(records, session, witnesses)))
    except _Broken as exc:
        stages.append(Stage(current, "FAIL", str(exc)))
        return VerifyResult(False, str(exc), count, head, decisions, tuple(stages), current)
    return VerifyResult(True, "", count, head, decisions, tuple(stages))
