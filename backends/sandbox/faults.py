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
