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
FORMAT_PREFIX = "gateroom-bundle/"


def format_name(layout: int) -> str:
    return f"{FORMAT_PREFIX}{layout}"


def layout_of(manifest: Mapping[str, Any]) -> int | None:
    """The content layout a manifest names (`backends.bundle.content.LAYOUTS`); None if unknown."""
    name = manifest.get("format")
    if isinstance(name, str) and name.startswith(FORMAT_PREFIX) and name[len(FORMAT_PREFIX) :].isdigit():
        return int(name[len(FORMAT_PREFIX) :])
    return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_map(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: sha256(data) for name, data in sorted(files.items())}


def digest(hashes: Mapping[str, str]) -> str:
    return sha256(canonical(dict(hashes)))


def bundle_digest(files: Mapping[str, bytes]) -> str:
    return digest(file_map(files))


def build_manifest(
    files: Mapping[str, bytes], *, session: str, head: str, records: int, layout: int
) -> dict[str, Any]:
    hashes = file_map(files)
    return {
        "format": format_name(layout),
        "session": session,
        "chain_head": head,
        "records": records,
        "digest": digest(hashes),
        "files": hashes,
    }
