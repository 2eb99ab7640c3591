"""Helpers for driving `gateroom serve` with a real asyncssh client: keys, a server, a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from backends.serve.server import ServeRunner

CONNECT_TIMEOUT_S = 10.0
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


@dataclass
class Keys:
    owner: asyncssh.SSHKey
    viewer: asyncssh.SSHKey
    stranger: asyncssh.SSHKey
    file: Path


def make_keys(directory: Path) -> Keys:
    owner, viewer, stranger = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(3))
    lines = [
        "# role key comment",
        "owner " + owner.export_public_key().decode().strip() + " alice@laptop",
        "",
        "viewer " + viewer.export_public_key().decode().strip(),
    ]
    path = directory / "keys.txt"
    path.write_text("\n".join(lines) + "\n")
    return Keys(owner, viewer, stranger, path)


def serve_argv(session_dir: Path, keys_file: Path) -> list[str]:
    """`gateroom serve` as its own process, on a free loopback port."""
    return [
        sys.executable,
        "-m",
        "tui.cli",
        "serve",
        "--session-dir",
        str(session_dir),
        "--listen",
        "127.0.0.1:0",
        "--keys",
        str(keys_file),
    ]


def listening_port(first_line: str) -> int:
    """The port from the server's first line: `gateroom serve: listening on HOST:PORT for N key(s)`."""
    return int(first_line.split(" for ")[0].rsplit(":", 1)[1])


@asynccontextmanager
async def running_server(session_dir: Path, keys_file: Path) -> AsyncIterator[tuple[ServeRunner, int]]:
    runner = ServeRunner(session_dir, keys_file)
    port = await runner.start("127.0.0.1", 0)
    try:
        yield runner, port
    finally:
        await runner.aclose()


async def connect(
    runner: ServeRunner, port: int, key: asyncssh.SSHKey | None, **kw: object
) -> asyncssh.SSHClientConnection:
    kw.setdefault("agent_path", None)  # no agent unless the test brings one (ssh -A)
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username="gate",
        client_keys=[key] if key is not None else [],
        known_hosts=([runner.host_key.convert_to_public()], [], []),
        connect_timeout=CONNECT_TIMEOUT_S,
        **kw,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def ssh_agent(directory: Path, key: asyncssh.SSHKey) -> AsyncIterator[str]:
    """A real OpenSSH `ssh-agent` holding `key`; yields its socket path (what `ssh -A` forwards)."""
    sock = directory / "agent.sock"
    key_file = directory / "agent-key"
    key_file.write_bytes(key.export_private_key())
    key_file.chmod(0o600)
    agent = await asyncio.create_subprocess_exec(
        "ssh-agent", "-D", "-a", str(sock), stdout=asyncio.subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        add = await asyncio.create_subprocess_exec(
            "ssh-add", "-q", str(key_file), env={"SSH_AUTH_SOCK": str(sock), "PATH": "/usr/bin:/bin"}
        )
        assert await add.wait() == 0, "ssh-add failed"
        yield str(sock)
    finally:
        agent.terminate()
        await agent.wait()


@dataclass
class Terminal:
    """A client terminal: everything the server drew, and keys to type."""

    process: asyncssh.SSHClientProcess[bytes]
    screen: bytearray = field(default_factory=bytearray)
    _reader: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        async def read() -> None:
            while data := await self.process.stdout.read(65536):
                self.screen += data
                self._arrived.set()

        self._reader = asyncio.get_running_loop().create_task(read())

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.screen)).decode("utf-8", "replace")

    def clear(self) -> None:
        self.screen.clear()

    def type(self, keys: str) -> None:
        self.process.stdin.write(keys.encode())

    async def wait_for(self, needle: str, timeout: float = 20.0) -> float:
        """Seconds until `needle` appears in what the server drew since the last clear().

        Looked for each time bytes arrive (not on a timer: twenty terminals polling every few
        milliseconds cost the machine the time the server is being measured on)."""
        start = time.monotonic()
        raw = needle.encode()
        while True:
            self._arrived.clear()  # before looking: bytes arriving after the look wake the wait
            # raw bytes first (cheap); stripping escapes is for text a style change splits
            if raw in self.screen or needle in self.text():
                return time.monotonic() - start
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TimeoutError(f"{needle!r} not on screen after {timeout}s: {self.text()[-600:]!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def close(self) -> None:
        self.process.stdin.write_eof()
        self.process.close()
        if self._reader is not None:
            self._reader.cancel()


async def open_terminal(conn: asyncssh.SSHClientConnection, size: tuple[int, int] = (100, 30)) -> Terminal:
    process = await conn.create_process(
        term_type="xterm-256color", term_size=size, encoding=None, env={"COLORTERM": "truecolor"}
    )
    terminal = Terminal(process)
    terminal.start()
    return terminal
