"""`gateroom verify`: is this bundle what was exported, and is its decision bound to this evidence?

Checks run from the most specific to the most general, so the first problem reported names the
item that changed: a record (the hash chain), a log excerpt (its record's SHA-256), a decision (its
chain head and bundle digest), then every file against the manifest.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from backends.bundle.content import RECORDS, Record, build_files, excerpt_name
from backends.bundle.errors import UnusableBundle
from backends.bundle.export import is_archive
from backends.bundle.manifest import MANIFEST, bundle_digest, digest, sha256
from backends.bundle.report_md import short
from backends.events import DecisionRecorded, LogExcerpt
from backends.evidence.chain import GENESIS, verify_chain

MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    problem: str = ""
    records: int = 0
    head: str = ""
    decisions: int = 0


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
        actual = bundle_digest(build_files(records[:upto], from_bundle))
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
    extra = sorted(set(files) - set(listed) - {MANIFEST})
    if extra:
        raise _Broken(f"{extra[0]}: not listed in {MANIFEST}")
    if manifest.get("digest") != digest(listed):
        raise _Broken(f"{MANIFEST}: its digest does not match its file list")
    if manifest.get("chain_head") != head or manifest.get("records") != count:
        named = short(str(manifest.get("chain_head")))
        raise _Broken(f"{MANIFEST}: names chain head {named}, but {RECORDS} ends at {short(head)}")


def verify_bundle(path: Path) -> VerifyResult:
    files = read_bundle(path)
    head, count, decisions = GENESIS, 0, 0
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
        _manifest(files, manifest, head, count)
    except _Broken as exc:
        return VerifyResult(False, str(exc), count, head, decisions)
    return VerifyResult(True, "", count, head, decisions)
