"""The cluster's API through a host's SSH connection: a local port forward that is re-made when the
connection drops (a real VPS's firewall admits only SSH, 80 and 443, never 6443).

The local port stays the same across reconnects, so the API client's address stays valid; calls made
while it is down wait for it (`ready`). Every drop and re-make is told to the listeners as one line,
which the logs pane shows as a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncssh

from backends.errors import AdapterError, ErrorKind
from backends.host import HostAdapter

Listener = Callable[[str], None]
MAX_BACKOFF_S = 5.0


class HostForward:
    def __init__(self, host: HostAdapter, dest_host: str, dest_port: int) -> None:
        self.host = host
        self.dest = (dest_host, dest_port)
        self.port = 0
        self.drops = 0
        self._listener: asyncssh.SSHListener | None = None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._up = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []

    @property
    def route(self) -> str:
        return f"SSH port forward over {self.host.name} to {self.dest[0]}:{self.dest[1]}"

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _tell(self, message: str) -> None:
        for listener in list(self._listeners):
            listener(message)

    async def start(self) -> int:
        if self._keeper is None:
            await self._open()
            self._keeper = asyncio.get_running_loop().create_task(self._keep())
        return self.port

    async def _open(self) -> None:
        self._listener, self._conn = await self.host.forward_local_port(*self.dest, self.port)
        self.port = self._listener.get_port()
        self._up.set()

    async def ready(self, timeout: float) -> None:
        """Wait until the forward is up (it is, unless the connection is being re-made)."""
        try:
            async with asyncio.timeout(timeout):
                await self._up.wait()
        except TimeoutError:
            raise AdapterError(
                ErrorKind.UNREACHABLE,
                f"the SSH connection to {self.host.name} is down "
                f"(port forward not re-made within {timeout:g}s)",
                target=self.host.name,
            ) from None

    async def _keep(self) -> None:
        while True:
            assert self._conn is not None
            await self._conn.wait_closed()
            self._up.clear()
            if self._listener is not None:
                self._listener.close()
            self.host.forget(self._conn)
            self.drops += 1
            down = time.monotonic()
            self._tell(f"SSH connection to {self.host.name} dropped: cluster port forward down")
            attempt = 0
            while True:
                attempt += 1
                try:
                    await self._open()
                    break
                except AdapterError as err:
                    if err.kind in {ErrorKind.AUTH, ErrorKind.HOST_KEY}:
                        self._tell(f"cluster port forward not re-made: {err}")
                        return
                    await asyncio.sleep(min(MAX_BACKOFF_S, 0.1 * 2**attempt))
            self._tell(
                f"cluster port forward over {self.host.name} re-made after {time.monotonic() - down:.1f}s"
            )

    async def aclose(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._up.clear()
