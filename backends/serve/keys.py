"""The keys file: which public keys may connect, and as which role.

One key per line, like an OpenSSH authorized_keys line with the role in front:

    # role     key type      base64 key            comment (shown in the audit trail)
    owner      ssh-ed25519   AAAAC3NzaC1lZDI1...   alice@laptop
    viewer     ssh-ed25519   AAAAC3NzaC1lZDI1...   bob
    operator   ssh-rsa       AAAAB3NzaC1yc2E...    ops-desk

Roles: `owner` may record the go/no-go decision, `viewer` only watches, `operator` may do what the
owner may. Blank lines and lines starting with `#` are ignored. Keys are matched by their SHA-256
fingerprint (`ssh-keygen -lf key.pub` shows the same value).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncssh

from backends.errors import ConfigError

ROLES = ("owner", "viewer", "operator")


@dataclass(frozen=True)
class Grant:
    fingerprint: str
    role: str
    comment: str = ""


def fingerprint(key: asyncssh.SSHKey) -> str:
    return str(key.get_fingerprint("sha256"))


def parse_keys(text: str, source: str = "<keys>") -> dict[str, Grant]:
    grants: dict[str, Grant] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 3)
        where = f"{source} line {number}"
        if len(parts) < 3:
            raise ConfigError(f"{where}: expected ROLE KEYTYPE BASE64 [COMMENT]")
        role, key_type, blob = parts[0].lower(), parts[1], parts[2]
        if role not in ROLES:
            raise ConfigError(f"{where}: unknown role {parts[0]!r} (one of {', '.join(ROLES)})")
        try:
            key = asyncssh.import_public_key(f"{key_type} {blob}")
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError(f"{where}: not a public key ({exc})") from exc
        grant = Grant(fingerprint(key), role, parts[3].strip() if len(parts) > 3 else "")
        if grant.fingerprint in grants and grants[grant.fingerprint].role != role:
            raise ConfigError(f"{where}: this key already has the role {grants[grant.fingerprint].role}")
        grants[grant.fingerprint] = grant
    return grants


def load_keys(path: Path) -> dict[str, Grant]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the keys file ({exc.strerror or exc})") from exc
    grants = parse_keys(text, str(path))
    if not grants:
        raise ConfigError(f"{path}: no keys; nobody could connect")
    return grants
