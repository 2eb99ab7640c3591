"""Typed errors that every layer turns into one readable line.

Adapters raise `AdapterError` with a `kind`, so callers can decide (retry, fail a check, stop the
run) without parsing messages, and the UI can show `str(err)` as the whole story.
"""

from __future__ import annotations

from enum import StrEnum


class GateError(Exception):
    """Base of every error Gate Room reports to a person: `str()` is one line, no traceback needed."""

    def __str__(self) -> str:
        text = super().__str__()
        return " ".join(text.split())


class ConfigError(GateError):
    """A settings, plan or env file problem: names the file, the key (or line) and what is wrong."""


class ErrorKind(StrEnum):
    UNREACHABLE = "unreachable"  # connection refused, no route, DNS failure
    TIMEOUT = "timeout"  # no answer within the call's timeout
    AUTH = "auth"  # credentials refused (SSH key, token)
    HOST_KEY = "host-key"  # the server's host key is unknown or changed
    FORBIDDEN = "forbidden"  # authenticated but not allowed (403)
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate-limited"
    SERVER = "server"  # 5xx
    DROPPED = "dropped"  # connection lost mid-call
    BAD_RESPONSE = "bad-response"  # the peer answered something we cannot read
    LOCAL = "local"  # a local file (key, kubeconfig) is missing or unreadable
    TLS = "tls"  # the server's certificate is not the one the configuration trusts


class AdapterError(GateError):
    """A failed call to the host, the cluster or GitHub."""

    def __init__(self, kind: ErrorKind, message: str, *, target: str = "") -> None:
        self.kind = kind
        self.target = target
        prefix = f"{target}: " if target else ""
        super().__init__(f"{prefix}{message}")

    @property
    def transient(self) -> bool:
        return self.kind in {ErrorKind.TIMEOUT, ErrorKind.SERVER, ErrorKind.DROPPED, ErrorKind.RATE_LIMITED}
