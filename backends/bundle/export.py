"""`gateroom export`: the session's evidence as a bundle directory or a .tar.gz.

Nothing is written until the whole bundle is built and scanned: a secret anywhere stops the export
(naming where), and a half-written bundle never exists under the target name.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.bundle.content import LAYOUT, build_files
from backends.bundle.errors import BundleError
from backends.bundle.manifest import MANIFEST, build_manifest
from backends.bundle.scan import scan
from backends.decision import session_excerpts
from backends.evidence.chain import GENESIS, verify_chain
from backends.evidence.store import EvidenceStore, StoreError
from backends.session import STORE_FILE
from backends.signing import MANIFEST_SIG
from backends.signoff import fold
from backends.sshsig import MANIFEST_NAMESPACE, load_private_key, sign_with_key

ARCHIVE_SUFFIX = ".tar.gz"
ARCHIVE_MTIME = 0  # archive members carry no clock, so the same bundle gives the same archive


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: int
    records: int
    digest: str


def is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIX)


def session_records(session_dir: Path) -> list[dict[str, Any]]:
    store_path = Path(session_dir) / STORE_FILE
    if not store_path.is_file():
        raise BundleError(f"{session_dir}: no session here (no {STORE_FILE})")
    try:
        return EvidenceStore(store_path).records()
    except StoreError as exc:
        raise BundleError(str(exc)) from exc


def bundle_files(session_dir: Path, known_secrets: Iterable[str] = ()) -> dict[str, bytes]:
    return files_of(session_records(session_dir), session_dir, known_secrets)


def files_of(
    records: Sequence[Mapping[str, Any]], session_dir: Path, known_secrets: Iterable[str] = ()
) -> dict[str, bytes]:
    """The bundle of these records of the session (all of them, or the first so many)."""
    store_path = Path(session_dir) / STORE_FILE
    report = verify_chain(records)
    if not report.ok:
        raise BundleError(f"{store_path}: the evidence chain is broken: {report.problem}")
    files = build_files(records, session_excerpts(session_dir))
    hits = scan(files, known_secrets)
    if hits:
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        raise BundleError(f"secret found, nothing written: {hits[0]}{more}")
    manifest = build_manifest(
        files,
        session=fold(records).session_id,
        head=records[-1]["hash"] if records else GENESIS,
        records=len(records),
        layout=LAYOUT,
    )
    files[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    return files


def _write_dir(files: Mapping[str, bytes], out: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, data in files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.rename(tmp, out)  # fails if `out` appeared meanwhile: never merge into someone's directory
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def archive_bytes(files: Mapping[str, bytes], root: str) -> bytes:
    """The bundle as a .tar.gz under `root/`; the gzip header carries no clock either, so the same
    files always give the same bytes (a published copy can be compared with a new export)."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=ARCHIVE_MTIME, filename="") as raw,
        tarfile.open(fileobj=raw, mode="w") as tar,
    ):
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size, info.mtime, info.mode = len(data), ARCHIVE_MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write_archive(files: Mapping[str, bytes], out: Path) -> None:
    root = out.name[: -len(ARCHIVE_SUFFIX)] or "bundle"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            raw.write(archive_bytes(files, root))
        os.link(tmp_name, out)  # like rename, but refuses to replace an existing file
    finally:
        os.unlink(tmp_name)


def export_bundle(
    session_dir: Path, out: Path, known_secrets: Iterable[str] = (), sign_key: Path | None = None
) -> ExportResult:
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise BundleError(f"{out} already exists; choose a new path (a bundle is never overwritten)")
    if not out.parent.is_dir():
        raise BundleError(f"{out.parent} is not a directory")
    key = load_private_key(sign_key) if sign_key is not None else None  # a bad key stops before work
    files = bundle_files(session_dir, known_secrets)
    manifest = json.loads(files[MANIFEST])
    if key is not None:
        files[MANIFEST_SIG] = sign_with_key(key, MANIFEST_NAMESPACE, files[MANIFEST]).encode()
    try:
        (_write_archive if is_archive(out) else _write_dir)(files, out)
    except FileExistsError as exc:
        raise BundleError(f"{out} already exists; choose a new path") from exc
    except OSError as exc:
        raise BundleError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return ExportResult(out, len(files), manifest["records"], manifest["digest"])
