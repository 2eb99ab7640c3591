"""The check registry and the context a check runs with."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backends.config import HostSettings, Settings
from backends.host import Host
from backends.results import Status


class Scope(StrEnum):
    HOST = "host"  # once per host, over SSH
    ENV = "env"  # once per copy of the codex-k8s env file (local, or on a host)
    GLOBAL = "global"  # once per gate (GitHub, cluster)


@dataclass
class Outcome:
    status: Status
    observed: str = ""
    expected: str = ""
    reason: str = ""
    command: str = ""
    output: str = ""


def passed(observed: str = "", expected: str = "", **kw: Any) -> Outcome:
    return Outcome(Status.PASS, observed, expected, **kw)


def failed(reason: str, observed: str = "", expected: str = "", **kw: Any) -> Outcome:
    return Outcome(Status.FAIL, observed, expected, reason=reason, **kw)


def warned(reason: str, observed: str = "", expected: str = "", **kw: Any) -> Outcome:
    return Outcome(Status.WARN, observed, expected, reason=reason, **kw)


@dataclass
class CheckContext:
    settings: Settings
    host: Host | None = None
    host_settings: HostSettings | None = None
    env_source: Any = None  # an EnvSource for ENV-scoped checks
    github: Any = None  # backends.github.GitHubAdapter for GLOBAL checks, None when not configured
    cluster: Any = None  # backends.cluster.ClusterAdapter for GLOBAL checks, None when not configured
    platform: Any = None  # backends.platform_api.PlatformAdapter, None when [platform] is not configured
    extras: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext], Awaitable[Outcome]]


@dataclass(frozen=True)
class CheckSpec:
    check_id: str
    area: str
    title: str
    scope: Scope
    fn: CheckFn


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, *, area: str, title: str, scope: Scope) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = CheckSpec(check_id, area, title, scope, fn)
        return fn

    return deco


def select(patterns: list[str]) -> list[CheckSpec]:
    """Checks whose id matches any glob, in registry order."""
    return [spec for cid, spec in REGISTRY.items() if any(fnmatch.fnmatchcase(cid, p) for p in patterns)]
