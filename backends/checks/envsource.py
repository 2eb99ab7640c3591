"""Where the codex-k8s bootstrap env file comes from: a local copy, or the host's copy over SSH.

The raw text is needed to parse values; it is never recorded — checks report key names only.
"""

from __future__ import annotations

import os
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from backends.errors import AdapterError
from backends.host import Host


@dataclass(frozen=True)
class EnvSource:
    target: str  # "local" or the host's name
    path: str
    text: str | None = None
    mode: str | None = None  # octal permission bits, e.g. "600"
    error: str = ""  # one line when the file could not be read


def read_local(path: Path) -> EnvSource:
    try:
        text = path.read_text(encoding="utf-8")
        mode = format(stat.S_IMODE(os.stat(path).st_mode), "o")
    except FileNotFoundError:
        return EnvSource("local", str(path), error=f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        return EnvSource("local", str(path), error=f"{path}: cannot read ({exc})")
    return EnvSource("local", str(path), text, mode)


async def read_remote(host: Host, path: str) -> EnvSource:
    quoted = shlex.quote(path)
    try:
        res = await host.run(f"cat {quoted}", raw=True)
        if not res.ok:
            first = (res.stderr.strip().splitlines() or [f"exit {res.exit_status}"])[0]
            return EnvSource(host.name, path, error=f"{path}: {first}")
        mode = await host.run(f"stat -c %a {quoted}")
    except AdapterError as err:
        return EnvSource(host.name, path, error=str(err))
    return EnvSource(host.name, path, res.stdout, mode.stdout.strip() if mode.ok else None)
