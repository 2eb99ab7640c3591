"""`gateroom sandbox`: the sandbox world as a long-lived process another Gate Room can be pointed at.

It writes, into its directory, a `gateroom.toml` for `gateroom run --config`, the GitHub token and the
staff token in files only the owner can read (the config names the environment variables that must
hold them), and a log of every GitHub API call it served, so what a gate did to GitHub can be audited
from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from backends.sandbox.world import STAFF_TOKEN_ENV, TOKEN_ENV, SandboxWorld

CONFIG_FILE = "gateroom.toml"
TOKEN_FILE = "github-token"
STAFF_TOKEN_FILE = "staff-token"
CALL_LOG = "github-calls.log"


def _toml_value(value: object) -> str:
    # JSON strings, numbers, booleans and flat lists are valid TOML values too
    return json.dumps(value)


def settings_toml(settings: dict[str, object]) -> str:
    lines = ["# written by `gateroom sandbox`: the sandbox world on loopback", ""]
    for key, value in settings.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for table in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
                lines.append("")
        elif isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
            lines.append("")
        else:
            lines.insert(2, f"{key} = {_toml_value(value)}")
    return "\n".join(lines)


def _prepare(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / CALL_LOG).write_text("", encoding="utf-8")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


async def serve_sandbox(workdir: Path, faults: Iterable[str], out: TextIO) -> None:
    """Start the world, write its config, and run until SIGINT or SIGTERM."""
    _prepare(workdir)
    world = SandboxWorld.create(faults, workdir)
    await world.start()
    try:
        assert world.github_api is not None
        world.github_api.call_log = workdir / CALL_LOG
        _write_private(workdir / TOKEN_FILE, world.github_token + "\n")
        _write_private(workdir / STAFF_TOKEN_FILE, world.staff_token + "\n")
        config = workdir / CONFIG_FILE
        config.write_text(settings_toml(world.settings_dict()), encoding="utf-8")
        for line in world.endpoints():
            out.write(line + "\n")
        out.write(f"config     {config}\n")
        tokens = (
            f"{TOKEN_ENV}=$(cat {workdir / TOKEN_FILE}) {STAFF_TOKEN_ENV}=$(cat {workdir / STAFF_TOKEN_FILE})"
        )
        out.write(f"run it     {tokens} gateroom run --config {config}\n")
        out.write("ready\n")
        out.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await world.stop()
