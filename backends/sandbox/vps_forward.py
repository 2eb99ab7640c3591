"""`ssh -L` into the sandbox VPS: the operator may open direct-tcpip channels to the host's own
Kubernetes API (127.0.0.1:6443, as k3s listens) and nowhere else, as a VPS whose firewall admits only
SSH would be used. The sandbox API really listens elsewhere on loopback; the channel is piped there.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncssh

#: where k3s's API listens on the host, as k3s.yaml names it
K3S_API = ("127.0.0.1", 6443)


class ApiPipe(asyncssh.SSHTCPSession[bytes]):
    """One forwarded connection: bytes from the channel to the sandbox API and back."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._chan: asyncssh.SSHTCPChannel[bytes] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: list[bytes] = []
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, chan: asyncssh.SSHTCPChannel[bytes]) -> None:  # type: ignore[override]
        self._chan = chan
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        assert self._chan is not None
        try:
            reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        except OSError:
            self._chan.close()
            return
        for data in self._pending:
            self._writer.write(data)
        self._pending.clear()
        with contextlib.suppress(OSError, asyncssh.Error):
            while data := await reader.read(65536):
                self._chan.write(data)
        self._chan.close()

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._writer is None:
            self._pending.append(data)
        else:
            self._writer.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
