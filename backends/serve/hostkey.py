"""The server's own host key: generated once, kept in the session dir, so clients can pin it."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from backends.errors import ConfigError

HOST_KEY_FILE = "serve_host_key"


def load_or_create_host_key(session_dir: Path) -> asyncssh.SSHKey:
    path = Path(session_dir) / HOST_KEY_FILE
    try:
        return asyncssh.read_private_key(path)
    except FileNotFoundError:
        pass
    except (OSError, asyncssh.KeyImportError) as exc:
        raise ConfigError(f"{path}: cannot read the server host key ({exc})") from exc
    key = asyncssh.generate_private_key("ssh-ed25519")
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.export_private_key())
    try:
        os.link(tmp, path)  # a second server starting at once keeps the first one's key
    except FileExistsError:
        return asyncssh.read_private_key(path)
    finally:
        os.unlink(tmp)
    return key
