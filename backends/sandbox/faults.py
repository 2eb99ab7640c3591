"""Named faults: each makes exactly one behaviour of the sandbox world go wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backends.errors import ConfigError


@dataclass(frozen=True)
class Fault:
    name: str
    component: str  # vps / kube / github / platform
    description: str
    #: the check or scenario ids this fault is meant to break (tests assert exactly these fail)
    breaks: tuple[str, ...] = ()


CATALOGUE: dict[str, Fault] = {}


def register(name: str, component: str, description: str, breaks: Iterable[str] = ()) -> Fault:
    fault = Fault(name, component, description, tuple(breaks))
    CATALOGUE[name] = fault
    return fault


# The VPS faults; the Kubernetes, GitHub and platform modules register theirs beside their code.
register("vps.wrong-os", "vps", "the host reports Debian 12 instead of Ubuntu 24.04", ["host.os"])
register("vps.low-cpu", "vps", "the host has 1 CPU", ["host.cpu"])
register("vps.low-memory", "vps", "the host has 2 GiB of RAM", ["host.memory"])
register("vps.disk-full", "vps", "the root filesystem has 3 GiB free", ["host.disk"])
register("vps.swap-on", "vps", "a 4 GiB swap file is active", ["host.swap"])
register(
    "vps.sysctl-missing",
    "vps",
    "br_netfilter is not loaded: the bridge-nf-call sysctls do not exist",
    ["host.sysctl"],
)
register("vps.package-missing", "vps", "the jq package is not installed", ["host.packages"])
register("vps.k3s-inactive", "vps", "the k3s service is inactive", ["host.k3s"])
register("vps.kubeconfig-mode", "vps", "/etc/rancher/k3s/k3s.yaml has mode 644", ["host.kubeconfig"])
register(
    "vps.registry-mirror-missing",
    "vps",
    "/etc/rancher/k3s/registries.yaml is missing",
    ["host.registry-mirror"],
)
register("vps.firewall-off", "vps", "nftables is inactive and /etc/nftables.conf is gone", ["host.firewall"])
register("vps.extra-port", "vps", "postgres listens publicly on 0.0.0.0:5432", ["host.public-ports"])
register("vps.clock-unsynced", "vps", "the clock is not NTP-synchronised", ["host.time-sync"])
register("vps.operator-no-sudo", "vps", "the operator user is not in the sudo group", ["host.operator"])
register("vps.dns-mismatch", "vps", "the AI domain resolves to another address than the host's", ["host.dns"])
register("vps.cert-expiring", "vps", "the TLS certificate expires in 3 days", ["host.tls"])

# Faults in the host's copy of the codex-k8s bootstrap env file.
register("env.missing-key", "env", "KODEX_GITHUB_OAUTH_CLIENT_ID is missing", ["config.required-keys"])
register(
    "env.placeholder",
    "env",
    "KODEX_BOOTSTRAP_OWNER_EMAIL is still owner@example.com",
    ["config.required-keys"],
)
register("env.bad-email", "env", "KODEX_LETSENCRYPT_EMAIL has no @", ["config.values"])
register("env.syntax", "env", "a line has spaces around '=' (bash runs it as a command)", ["config.parse"])
register("env.label-duplicate", "env", "two label keys name the same label", ["config.labels"])
register("env.secret-echo", "env", "a secret's value is copied into a non-secret key", ["config.secrets"])
register("env.world-readable", "env", "the env file has mode 644", ["config.file-mode"])
register(
    "env.key-file-missing",
    "env",
    "OPERATOR_SSH_PUBKEY_PATH names a file that does not exist",
    ["config.key-files"],
)

#: a switch that makes the host unhealthy as a whole, for demos and the headless exit code
UNHEALTHY_HOST = ("vps.wrong-os", "vps.low-memory", "vps.disk-full")


class FaultSet:
    def __init__(self, names: Iterable[str] = ()) -> None:
        names = list(names)
        unknown = [n for n in names if n not in CATALOGUE]
        if unknown:
            known = ", ".join(sorted(CATALOGUE))
            raise ConfigError(f"unknown fault {unknown[0]!r} (known: {known})")
        self._names = set(names)

    def active(self, name: str) -> bool:
        if name not in CATALOGUE:
            raise KeyError(name)  # a typo in sandbox code must not silently disable a fault
        return name in self._names

    def add(self, name: str) -> None:
        FaultSet([name])
        self._names.add(name)

    def remove(self, name: str) -> None:
        self._names.discard(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._names)
