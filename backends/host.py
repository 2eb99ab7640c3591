"""The host adapter: commands on the target VPS over asyncssh.

Host keys are verified against a known_hosts file (asyncssh's own matching, `[host]:port` forms
included); every call has a timeout; every failure becomes an `AdapterError` with a kind. Output is
redacted here, at the source, unless a caller asks for raw text to parse (and then must not record it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import asyncssh

from backends.config import HostSettings
from backends.errors import AdapterError, ErrorKind

Redact = Callable[[str], str]


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_status: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class Host(Protocol):
    name: str

    async def run(
        self, command: str, *, timeout: float | None = None, raw: bool = False
    ) -> CommandResult: ...


@dataclass(frozen=True)
class StreamLine:
    """One line of a followed command's output (no newline)."""

    text: str


@dataclass(frozen=True)
class StreamDropped:
    """The connection went (or could not be made again); `follow` is retrying."""

    reason: str
    attempt: int


@dataclass(frozen=True)
class StreamResumed:
    """The command runs again after a drop; `down_s` seconds without a connection."""

    down_s: float
    attempts: int


StreamEvent = StreamLine | StreamDropped | StreamResumed

#: what a dying connection raises under a running stream
_STREAM_DROPS = (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError, ConnectionResetError)
#: errors after which following again is pointless until the operator fixes something
_FATAL_FOR_FOLLOW = {ErrorKind.LOCAL, ErrorKind.AUTH, ErrorKind.HOST_KEY}


class StreamingHost(Host, Protocol):
    def follow(
        self, make_command: Callable[[], str], *, raw: bool = False, max_backoff: float = 30.0
    ) -> AsyncIterator[StreamEvent]: ...


def _identity(text: str) -> str:
    return text


class HostAdapter:
    def __init__(self, settings: HostSettings, *, redact: Redact = _identity) -> None:
        self.settings = settings
        self.name = settings.name
        self._redact = redact
        self._conn: asyncssh.SSHClientConnection | None = None
        self._connect_lock = asyncio.Lock()

    @property
    def target(self) -> str:
        s = self.settings
        return f"{s.name} ({s.user}@{s.address}:{s.port})"

    async def __aenter__(self) -> HostAdapter:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _error(self, kind: ErrorKind, message: str) -> AdapterError:
        return AdapterError(kind, message, target=self.name)

    def _client_keys(self) -> list[asyncssh.SSHKey] | None:
        key = self.settings.key
        if key is None:
            return None
        try:
            return [asyncssh.read_private_key(str(key))]
        except FileNotFoundError:
            raise self._error(ErrorKind.LOCAL, f"key file {key} not found") from None
        except PermissionError:
            raise self._error(ErrorKind.LOCAL, f"key file {key} is not readable") from None
        except (asyncssh.KeyImportError, OSError) as exc:
            raise self._error(ErrorKind.LOCAL, f"key file {key} cannot be read: {exc}") from None

    def _known_hosts(self) -> str:
        path = self.settings.known_hosts or Path("~/.ssh/known_hosts").expanduser()
        if not Path(path).is_file():
            raise self._error(ErrorKind.LOCAL, f"known_hosts file {path} not found")
        return str(path)

    async def connect(self) -> None:
        async with self._connect_lock:
            if self._conn is not None:
                return
            s = self.settings
            keys = self._client_keys()
            known_hosts = self._known_hosts()
            try:
                self._conn = await asyncio.wait_for(
                    asyncssh.connect(
                        s.address,
                        port=s.port,
                        username=s.user,
                        client_keys=keys,
                        known_hosts=known_hosts,
                        agent_path=None if keys else (),
                        password=None,
                        kbdint_auth=False,
                        connect_timeout=s.connect_timeout,
                        login_timeout=s.connect_timeout,
                        keepalive_interval=15,
                        keepalive_count_max=2,
                        config=[],
                    ),
                    timeout=s.connect_timeout + 1,
                )
            except TimeoutError:
                raise self._error(
                    ErrorKind.TIMEOUT, f"no answer from {s.address}:{s.port} within {s.connect_timeout:g}s"
                ) from None
            except asyncssh.HostKeyNotVerifiable:
                raise self._error(
                    ErrorKind.HOST_KEY,
                    f"host key of {s.address}:{s.port} is not trusted by {known_hosts} (unknown or changed)",
                ) from None
            except asyncssh.PermissionDenied:
                raise self._error(ErrorKind.AUTH, f"{s.user}@{s.address} refused our key") from None
            except ConnectionRefusedError:
                raise self._error(
                    ErrorKind.UNREACHABLE, f"connection to {s.address}:{s.port} refused"
                ) from None
            except asyncssh.DisconnectError as exc:
                raise self._error(
                    ErrorKind.DROPPED, f"{s.address}:{s.port} closed the connection: {exc.reason}"
                ) from None
            except OSError as exc:
                raise self._error(
                    ErrorKind.UNREACHABLE, f"cannot reach {s.address}:{s.port}: {exc.strerror or exc}"
                ) from None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), timeout=2)
            except (TimeoutError, OSError):
                pass

    async def run(self, command: str, *, timeout: float | None = None, raw: bool = False) -> CommandResult:
        """Run one read-only command; a dropped connection is re-made once, since retrying is safe."""
        for attempt in (1, 2):
            try:
                return await self._run_once(command, timeout, raw)
            except AdapterError as err:
                if err.kind is ErrorKind.DROPPED and attempt == 1:
                    await self.close()
                    continue
                raise
        raise AssertionError("unreachable")

    async def _run_once(self, command: str, timeout: float | None, raw: bool) -> CommandResult:
        await self.connect()
        assert self._conn is not None
        limit = timeout or self.settings.command_timeout
        started = time.monotonic()
        try:
            proc = await asyncio.wait_for(
                self._conn.run(command, check=False, timeout=limit), timeout=limit + 1
            )
        except (TimeoutError, asyncssh.TimeoutError):
            raise self._error(
                ErrorKind.TIMEOUT, f"command did not finish within {limit:g}s: {command}"
            ) from None
        except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError, ConnectionResetError):
            self._conn = None
            raise self._error(ErrorKind.DROPPED, "SSH connection dropped") from None
        except asyncssh.ChannelOpenError as exc:
            self._conn = None
            raise self._error(ErrorKind.DROPPED, f"cannot open a session: {exc.reason}") from None
        clean = _identity if raw else self._redact
        return CommandResult(
            command=command,
            exit_status=proc.exit_status if proc.exit_status is not None else -1,
            stdout=clean(_text(proc.stdout)),
            stderr=clean(_text(proc.stderr)),
            duration_s=time.monotonic() - started,
        )

    # -- long-lived commands (journalctl -f, tail -F) ------------------------------------------
    async def stream(self, command: str, *, raw: bool = False) -> AsyncIterator[str]:
        """Run a long-lived command and yield its stdout lines as they come (no newline).

        Ends when the command exits; raises `AdapterError(DROPPED)` when the connection goes
        mid-stream. Lines are redacted unless `raw` (then the caller must redact before keeping them).
        """
        async for event in self._stream_once(command, raw):
            if isinstance(event, StreamLine):
                yield event.text

    async def _stream_once(self, command: str, raw: bool) -> AsyncIterator[StreamLine | None]:
        """Yields None once the remote process has started, then its lines."""
        await self.connect()
        conn = self._conn
        assert conn is not None
        clean = _identity if raw else self._redact
        try:
            proc = await asyncio.wait_for(
                conn.create_process(command, encoding="utf-8", errors="replace"),
                timeout=self.settings.command_timeout,
            )
        except TimeoutError:
            self._forget(conn)
            limit = self.settings.command_timeout
            raise self._error(ErrorKind.TIMEOUT, f"could not start within {limit:g}s: {command}") from None
        except (*_STREAM_DROPS, asyncssh.ChannelOpenError) as exc:
            self._forget(conn)
            raise self._error(ErrorKind.DROPPED, f"SSH connection dropped ({type(exc).__name__})") from None
        try:
            yield None
            while True:
                try:
                    line = await proc.stdout.readline()
                except (*_STREAM_DROPS, OSError) as exc:
                    self._forget(conn)
                    why = type(exc).__name__
                    raise self._error(ErrorKind.DROPPED, f"SSH connection dropped ({why})") from None
                if not line:
                    break
                yield StreamLine(clean(line.rstrip("\r\n")))
            # EOF: either the command exited, or the connection (or channel) died under it
            with contextlib.suppress(TimeoutError, asyncssh.Error, OSError):
                await asyncio.wait_for(proc.wait_closed(), timeout=2)
            if proc.exit_status is None and proc.exit_signal is None:
                self._forget(conn)
                raise self._error(ErrorKind.DROPPED, "SSH connection dropped (stream closed, no exit status)")
        finally:
            proc.close()

    async def forward_local_port(
        self, dest_host: str, dest_port: int, listen_port: int = 0
    ) -> tuple[asyncssh.SSHListener, asyncssh.SSHClientConnection]:
        """`ssh -L 127.0.0.1:listen_port:dest_host:dest_port` over this host's connection; the
        connection is returned so the caller can notice when it goes (and the forward with it)."""
        await self.connect()
        conn = self._conn
        assert conn is not None
        try:
            listener = await conn.forward_local_port("127.0.0.1", listen_port, dest_host, dest_port)
        except (*_STREAM_DROPS, asyncssh.ChannelOpenError) as exc:
            self._forget(conn)
            raise self._error(ErrorKind.DROPPED, f"SSH connection dropped ({type(exc).__name__})") from None
        except OSError as exc:
            raise self._error(
                ErrorKind.LOCAL, f"cannot listen on 127.0.0.1:{listen_port}: {exc.strerror or exc}"
            ) from None
        return listener, conn

    def forget(self, conn: asyncssh.SSHClientConnection) -> None:
        """A connection found dead by someone else (a port forward): the next call makes a new one."""
        self._forget(conn)

    def _forget(self, conn: asyncssh.SSHClientConnection) -> None:
        """Drop a dead connection, unless another caller already replaced it."""
        if self._conn is conn:
            self._conn = None
            conn.abort()

    async def follow(
        self, make_command: Callable[[], str], *, raw: bool = False, max_backoff: float = 30.0
    ) -> AsyncIterator[StreamEvent]:
        """Follow a long-lived command across drops: reconnect with backoff, resume, say so.

        `make_command()` is called for every (re)start, so the caller builds the command from what it
        has seen (e.g. `journalctl --after-cursor=<last cursor>`): nothing the host still has is lost
        or repeated. Yields `StreamDropped` when the connection goes and on each failed retry,
        `StreamResumed` once the command runs again, and `StreamLine`s. Ends when the command exits;
        raises `AdapterError` for problems a retry cannot fix (key file, auth, host key).
        """
        down_since: float | None = None
        attempt = 0
        while True:
            try:
                async for event in self._stream_once(make_command(), raw):
                    if event is None:
                        if down_since is not None:
                            yield StreamResumed(time.monotonic() - down_since, attempt)
                            down_since, attempt = None, 0
                        continue
                    yield event
                return
            except AdapterError as err:
                if err.kind in _FATAL_FOR_FOLLOW:
                    raise
                attempt += 1
                if down_since is None:
                    down_since = time.monotonic()
                yield StreamDropped(str(err), attempt)
                await asyncio.sleep(min(max_backoff, 0.1 * 2 ** min(attempt, 10)))


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data
