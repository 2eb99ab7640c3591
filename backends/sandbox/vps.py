"""The sandbox VPS: a real SSH server (asyncssh) on loopback that answers as the bootstrapped host.

It writes its own host key, a client key pair and a known_hosts line, so the host adapter connects
with full host-key verification exactly as it does to a real machine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from backends.sandbox.faults import FaultSet
from backends.sandbox.vps_forward import K3S_API, ApiPipe
from backends.sandbox.vps_journal import Journal, parse_journalctl, serve_journalctl
from backends.sandbox.vps_model import VpsFacts, answer


@dataclass(frozen=True)
class VpsEndpoint:
    host: str
    port: int
    user: str
    client_key: Path
    known_hosts: Path


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True  # always require auth: public key only

    def password_auth_supported(self) -> bool:
        return False


class SandboxVps:
    def __init__(
        self, workdir: Path, faults: FaultSet, *, user: str = "codex", env_file_text: str = ""
    ) -> None:
        self.workdir = Path(workdir)
        self.faults = faults
        self.user = user
        self.facts = VpsFacts.build(faults, env_file_text, user=user)
        self.journal = Journal()  # `journalctl -f` streams from here (see vps_journal)
        #: seconds each command takes to answer, as over a real network to a real host (benchmarks)
        self.latency_s = 0.0
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: list[asyncssh.SSHServerConnection] = []
        self.endpoint: VpsEndpoint | None = None
        #: where the sandbox Kubernetes API really listens; forwards to 127.0.0.1:6443 land there
        self.kube_api_port = 0

    def _keys(self) -> tuple[asyncssh.SSHKey, Path, Path]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        host_key_path = self.workdir / "vps_host_key"
        client_key_path = self.workdir / "operator_key"
        if not host_key_path.exists():
            asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(host_key_path))
        if not client_key_path.exists():
            key = asyncssh.generate_private_key("ssh-ed25519")
            key.write_private_key(str(client_key_path))
            key.write_public_key(str(client_key_path) + ".pub")
        client_key_path.chmod(0o600)
        host_key = asyncssh.read_private_key(str(host_key_path))
        authorized = self.workdir / "authorized_keys"
        authorized.write_bytes(Path(str(client_key_path) + ".pub").read_bytes())
        return host_key, client_key_path, authorized

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> VpsEndpoint:
        host_key, client_key, authorized = self._keys()
        self.facts.set_authorized_key(authorized.read_text())
        self.facts.set_key_paths(str(client_key), f"{client_key}.pub", self.faults)
        self._server = await asyncssh.create_server(
            self._make_server,
            host,
            port,
            server_host_keys=[host_key],
            authorized_client_keys=str(authorized),
            process_factory=self._handle,
            allow_scp=False,
            sftp_factory=None,
            agent_forwarding=False,
            x11_forwarding=False,
            keepalive_interval=0,
        )
        bound = self._server.sockets[0].getsockname()[1]
        known_hosts = self.workdir / "known_hosts"
        public = host_key.export_public_key("openssh").decode().strip()
        known_hosts.write_text(f"[{host}]:{bound} {public}\n")
        self.endpoint = VpsEndpoint(host, bound, self.user, client_key, known_hosts)
        return self.endpoint

    def _make_server(self) -> asyncssh.SSHServer:
        vps = self

        class Server(_Server):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                vps._connections.append(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                pass

            def connection_requested(
                self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
            ) -> ApiPipe:
                if (dest_host, dest_port) != K3S_API or not vps.kube_api_port:
                    raise asyncssh.ChannelOpenError(
                        asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, f"{dest_host}:{dest_port}: not permitted"
                    )
                return ApiPipe(vps.kube_api_port)

        return Server()

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        cmdline = (process.command or "").strip()
        query = parse_journalctl(cmdline)
        if query is not None and query.follow:  # a stream, not a one-shot reply
            await serve_journalctl(self.journal, process, query)
            return
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        reply = answer(self.facts, cmdline)
        process.stdout.write(reply.stdout)
        process.stderr.write(reply.stderr)
        process.exit(reply.status)

    def drop_connections(self) -> None:
        """Close every client connection abruptly (tests of reconnect)."""
        for conn in self._connections:
            conn.abort()
        self._connections.clear()

    async def stop(self) -> None:
        if self._server is not None:
            self.drop_connections()
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await asyncio.sleep(0)
