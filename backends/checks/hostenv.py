"""The bootstrap env values a host check compares the host against (operator user, domains, ports).

Host checks read the host's own copy when the host names one (that is the copy bootstrap ran with),
else the local copy. Values are the sourcing shell's view, since the shell bootstrap configured the
host, with the bootstrap's defaults for absent or empty keys. The text is never recorded.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref

from backends.checks.envsource import EnvSource, read_local, read_remote
from backends.checks.hostrun import gated
from backends.checks.registry import CheckContext
from backends.envfile import DEFAULTS, EnvFile, parse_env
from backends.host import Host


class HostEnv:
    def __init__(self, env: EnvFile | None, where: str, *, local: bool = False) -> None:
        self.env = env
        self.where = where  # "host:/path" or the local path, for reasons
        self.local = local  # the operator's own copy: its key paths point at this machine

    def __bool__(self) -> bool:
        return self.env is not None

    def get(self, key: str) -> str:
        entry = self.env.entries.get(key) if self.env is not None else None
        value = entry.shell_value.strip() if entry is not None else ""
        return value or DEFAULTS.get(key, "")


#: one read of a host's env file serves the checks of one run (they start together); a re-run a
#: little later reads again, so an edited file is seen
_FRESH_S = 5.0
_reads: weakref.WeakKeyDictionary[Host, tuple[float, str, asyncio.Task[EnvSource]]] = (
    weakref.WeakKeyDictionary()
)


async def _read_host_copy(ctx: CheckContext, path: str) -> EnvSource:
    assert ctx.host is not None
    cached = _reads.get(ctx.host)
    now = time.monotonic()
    if cached is None or cached[1] != path or now - cached[0] > _FRESH_S:
        task = asyncio.ensure_future(read_remote(gated(ctx), path))
        cached = _reads[ctx.host] = (now, path, task)
    return await asyncio.shield(cached[2])


async def host_env(ctx: CheckContext) -> HostEnv:
    source = ctx.env_source if isinstance(ctx.env_source, EnvSource) else None
    if source is None and ctx.host is not None and ctx.host_settings and ctx.host_settings.env_file:
        source = await _read_host_copy(ctx, ctx.host_settings.env_file)
    elif source is None and ctx.settings.codex.env_file is not None:
        source = read_local(ctx.settings.codex.env_file)
    if source is None or source.text is None:
        return HostEnv(None, source.path if source else "")
    where = source.path if source.target == "local" else f"{source.target}:{source.path}"
    local = source.target == "local"
    # the local copy's ${HOME} is this machine's, as when the operator runs the bootstrap from here
    env = parse_env(source.text, dict(os.environ) if local else None)
    return HostEnv(env, where, local=local)


NO_ENV = "no bootstrap env file configured for this host (set hosts[].env_file or codex.env_file)"
