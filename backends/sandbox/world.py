"""The whole sandbox world on loopback, and the settings that point Gate Room at it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from backends.config import Settings, settings_from_dict
from backends.sandbox.envfile_template import healthy_env_file
from backends.sandbox.faults import CATALOGUE, FaultSet
from backends.sandbox.vps import SandboxVps
from backends.sandbox.vps_model import ENV_FILE_PATH

HOST_NAME = "sandbox-vps"


@dataclass
class SandboxWorld:
    workdir: Path
    faults: FaultSet
    vps: SandboxVps | None = None
    secret_values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, faults: Iterable[str] = (), workdir: Path | None = None) -> SandboxWorld:
        directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="gateroom-sandbox-"))
        return cls(directory, FaultSet(faults))

    async def start(self) -> None:
        env_text, self.secret_values = healthy_env_file(host="127.0.0.1")
        self.vps = SandboxVps(self.workdir / "vps", self.faults, env_file_text=env_text)
        await self.vps.start()

    async def stop(self) -> None:
        if self.vps is not None:
            await self.vps.stop()

    def settings_dict(self) -> dict[str, object]:
        assert self.vps is not None and self.vps.endpoint is not None
        ep = self.vps.endpoint
        return {
            "hosts": [
                {
                    "name": HOST_NAME,
                    "address": ep.host,
                    "port": ep.port,
                    "user": ep.user,
                    "key": str(ep.client_key),
                    "known_hosts": str(ep.known_hosts),
                    "connect_timeout": 5.0,
                    "command_timeout": 10.0,
                    "env_file": ENV_FILE_PATH,
                    "journal_units": ["k3s", "ssh", "kodex-image-prune"],
                }
            ],
        }

    def settings(self) -> Settings:
        return settings_from_dict(self.settings_dict())

    def endpoints(self) -> list[str]:
        """Where each server listens, for `--verbose` (point ssh, kubectl or curl at them)."""
        lines = []
        if self.vps is not None and self.vps.endpoint is not None:
            ep = self.vps.endpoint
            lines.append(
                f"ssh host   {ep.host}:{ep.port}  (ssh -i {ep.client_key} -p {ep.port} "
                f"-o UserKnownHostsFile={ep.known_hosts} {ep.user}@{ep.host})"
            )
        return lines


def fault_descriptions() -> list[str]:
    return [f"{f.name:28} {f.description}" for f in sorted(CATALOGUE.values(), key=lambda f: f.name)]
