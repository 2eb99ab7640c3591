"""The bundle manifest: every file's SHA-256, and the digest that a decision binds to.

The digest is the SHA-256 of the canonical JSON of the file map, so it depends only on the files'
contents and names; the same evidence always gives the same digest, on any machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from backends.evidence.chain import canonical

MANIFEST = "manifest.json"
FORMAT = "gateroom-bundle/1"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_map(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: sha256(data) for name, data in sorted(files.items())}


def digest(hashes: Mapping[str, str]) -> str:
    return sha256(canonical(dict(hashes)))


def bundle_digest(files: Mapping[str, bytes]) -> str:
    return digest(file_map(files))


def build_manifest(files: Mapping[str, bytes], *, session: str, head: str, records: int) -> dict[str, Any]:
    hashes = file_map(files)
    return {
        "format": FORMAT,
        "session": session,
        "chain_head": head,
        "records": records,
        "digest": digest(hashes),
        "files": hashes,
    }
