"""What every host check shares: run a command, turn a failed command into one line, keep evidence."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from backends.checks.registry import CheckContext, Outcome, failed
from backends.host import CommandResult, Host

#: evidence keeps the end of long outputs; the engine trims again, this keeps Outcomes small
EXCERPT_CHARS = 2000
#: OpenSSH refuses more than MaxSessions (default 10) channels on one connection, and log streams
#: hold some; checks of one host therefore share a few channels instead of opening one each at once
CHANNELS_PER_HOST = 6
_channels: weakref.WeakKeyDictionary[Host, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class GatedHost:
    """A host whose commands wait for one of its few shared channels."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.name = host.name
        gate = _channels.get(host)
        if gate is None:
            gate = _channels[host] = asyncio.Semaphore(CHANNELS_PER_HOST)
        self._gate = gate

    async def run(self, command: str, *, timeout: float | None = None, raw: bool = False) -> CommandResult:
        async with self._gate:
            return await self.host.run(command, timeout=timeout, raw=raw)


def gated(ctx: CheckContext) -> GatedHost:
    assert ctx.host is not None
    return GatedHost(ctx.host)


async def run(ctx: CheckContext, command: str) -> CommandResult:
    return await gated(ctx).run(command)


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def excerpt(*results: CommandResult) -> str:
    """Output (stdout, then stderr) of each command, already redacted by the host adapter."""
    parts = []
    for res in results:
        body = res.stdout + (("\n" if res.stdout and not res.stdout.endswith("\n") else "") + res.stderr)
        parts.append(body if len(results) == 1 else f"$ {res.command}\n{body}")
    text = "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)
    return text[-EXCERPT_CHARS:]


def evidence(*results: CommandResult) -> dict[str, Any]:
    return {"command": "; ".join(r.command for r in results), "output": excerpt(*results)}


def command_failed(res: CommandResult, *more: CommandResult, what: str = "") -> Outcome:
    detail = first_line(res.stderr) or first_line(res.stdout)
    if res.exit_status == 127:
        reason = f"`{res.command.split()[0]}` is not installed on the host"
    else:
        reason = f"`{res.command}` exited {res.exit_status}" + (f": {detail}" if detail else "")
    if what:
        reason = f"{what}: {reason}"
    return failed(reason, **evidence(res, *more))


def service_state(res: CommandResult) -> str:
    """What `systemctl is-active UNIT` says, in a word."""
    text = first_line(res.stdout) or first_line(res.stderr) or "unknown"
    if "booted with systemd" in text or "Failed to connect to bus" in text:
        return "unknown (no systemd on the host)"
    return text
