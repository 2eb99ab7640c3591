"""The SSH server: key-only logins mapped to roles, and a Gate Room terminal app per session.

Each session runs the app in its own process on its own pseudo-terminal (`python -m tui.remote`):
the app gets a real terminal with the client's size and TERM, a crash or a slow client affects only
that session, and twenty viewers use more than one core. This module only moves bytes between the
SSH channel and the PTY, and follows resizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import asyncssh

import backends
from backends.errors import ConfigError
from backends.serve.audit import Audit
from backends.serve.hostkey import load_or_create_host_key
from backends.serve.keys import Grant, fingerprint, load_keys

LOGIN_TIMEOUT_S = 20.0
KEEPALIVE_S = 30.0
CHILD_EXIT_TIMEOUT_S = 5.0
READ_CHUNK = 65536
#: client environment passed on to the app (the colour depth it may use, the language)
PASSED_ENV = ("COLORTERM", "NO_COLOR", "LANG", "LC_ALL")
GRANT_INFO = "gateroom_grant"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:2222")
    return host.strip("[]") or "127.0.0.1", int(port)


def _set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(height, 1), max(width, 1), 0, 0))


class _Auth(asyncssh.SSHServer):
    """Per-connection auth: public keys from the keys file only, never passwords."""

    def __init__(self, runner: ServeRunner) -> None:
        self.runner = runner
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = ""
        self.offered: list[str] = []
        self.grant: Grant | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if self.grant is None and self.offered:
            self.runner.spawn(self.runner.audit.refused(self.offered, self.peer, "key not in the keys file"))

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fp = fingerprint(key)
        grant = self.runner.grants.get(fp)
        if grant is None:
            if fp not in self.offered:
                self.offered.append(fp)
            return False
        assert self.conn is not None
        self.conn.set_extra_info(**{GRANT_INFO: grant})
        return True

    def auth_completed(self) -> None:
        assert self.conn is not None
        self.grant = self.conn.get_extra_info(GRANT_INFO)
        if self.grant is not None:
            self.runner.spawn(self.runner.audit.login(self.grant, self.peer))


class ServeRunner:
    def __init__(self, session_dir: Path, keys_file: Path) -> None:
        self.session_dir = Path(session_dir)
        if not (self.session_dir / "evidence.json").is_file():
            raise ConfigError(f"{session_dir}: no session here; start the gate first (gateroom demo/run)")
        self.grants = load_keys(keys_file)
        self.host_key = load_or_create_host_key(self.session_dir)
        self.audit = Audit(self.session_dir)
        self._tasks: set[asyncio.Task[Any]] = set()  # audit writes
        self._sessions: set[asyncio.Task[Any]] = set()  # one per open terminal
        self.server: asyncssh.SSHAcceptor | None = None

    def spawn(self, aw: Awaitable[Any]) -> None:
        async def run() -> None:
            with contextlib.suppress(Exception):  # an audit write failing must not end the server
                await aw

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self, host: str, port: int) -> int:
        try:
            self.server = await asyncssh.create_server(
                lambda: _Auth(self),
                host,
                port,
                server_host_keys=[self.host_key],
                process_factory=self._session,
                encoding=None,
                login_timeout=LOGIN_TIMEOUT_S,
                keepalive_interval=KEEPALIVE_S,
                keepalive_count_max=3,
                agent_forwarding=True,  # the owner's decision is signed by their own agent (ssh -A)
                x11_forwarding=False,
                allow_scp=False,
            )
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        return int(self.server.sockets[0].getsockname()[1])

    def host_key_fingerprint(self) -> str:
        return str(self.host_key.get_fingerprint("sha256"))

    async def aclose(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        # terminals still open end here: each stops its app and writes its logout record, and the
        # audit writes are waited for, so that no login or logout is lost on the way down
        for session in list(self._sessions):
            session.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        while self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=CHILD_EXIT_TIMEOUT_S)
            if pending:
                break

    # -- one terminal session ----------------------------------------------------------------------
    def _child_env(self, process: asyncssh.SSHServerProcess[bytes], term: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "TMPDIR", "LANG"}}
        agent = process.get_extra_info("connection").get_agent_path()
        if agent:
            env["SSH_AUTH_SOCK"] = agent
        client_env = process.env or {}
        for name in PASSED_ENV:
            value = client_env.get(name)
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if value:
                env[name] = str(value)
        env["TERM"] = term
        env["PYTHONPATH"] = str(Path(backends.__file__).resolve().parent.parent)
        return env

    async def _session(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sessions.add(task)
            task.add_done_callback(self._sessions.discard)
        grant: Grant | None = process.get_extra_info(GRANT_INFO)
        term = process.get_terminal_type()
        if grant is None or not term:
            process.stderr.write(b"gateroom serve needs a terminal: connect with ssh -t\r\n")
            process.exit(1)
            return
        started = time.monotonic()
        width, height, _, _ = process.get_terminal_size()
        master, slave = os.openpty()
        _set_size(slave, width, height)
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tui.remote",
                "--session-dir",
                str(self.session_dir),
                "--role",
                grant.role,
                "--who",
                grant.fingerprint,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self._child_env(process, term),
                start_new_session=True,
            )
        finally:
            os.close(slave)
        try:
            code = await self._bridge(process, child, master)
        finally:
            await _stop(child)
            with contextlib.suppress(OSError):
                os.close(master)
            self.spawn(self.audit.logout(grant, time.monotonic() - started))
        with contextlib.suppress(Exception):
            process.exit(code)

    async def _bridge(
        self, process: asyncssh.SSHServerProcess[bytes], child: asyncio.subprocess.Process, master: int
    ) -> int:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(master), "rb", 0)
        )

        async def screen_out() -> None:
            with contextlib.suppress(OSError, asyncssh.Error, BrokenPipeError):
                while data := await reader.read(READ_CHUNK):
                    process.stdout.write(data)
                    await process.stdout.drain()

        async def keys_in() -> None:
            while True:
                try:
                    data = await process.stdin.read(READ_CHUNK)
                except asyncssh.TerminalSizeChanged as change:
                    _set_size(master, change.width, change.height)
                    with contextlib.suppress(ProcessLookupError):
                        child.send_signal(signal.SIGWINCH)  # the app is not on a controlling tty
                    continue
                except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue
                except (asyncssh.Error, OSError):
                    return
                if not data:
                    return
                await _write_all(master, data)

        tasks = [
            loop.create_task(screen_out()),
            loop.create_task(keys_in()),
            loop.create_task(child.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            transport.close()
        return child.returncode if child.returncode is not None else 0


async def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            await asyncio.sleep(0.01)
            continue
        view = view[n:]


async def _stop(child: asyncio.subprocess.Process) -> None:
    if child.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        child.terminate()
    try:
        await asyncio.wait_for(child.wait(), CHILD_EXIT_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()


async def serve_forever(session_dir: Path, host: str, port: int, keys_file: Path) -> None:
    runner = ServeRunner(session_dir, keys_file)
    bound = await runner.start(host, port)
    print(f"gateroom serve: listening on {host}:{bound} for {len(runner.grants)} key(s)", flush=True)
    print(f"host key {runner.host_key_fingerprint()} (kept in {runner.session_dir})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.aclose()
