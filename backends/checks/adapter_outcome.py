"""A GLOBAL check's adapter error as an Outcome: a wrong setting fails, an unanswered call errors."""

from __future__ import annotations

from backends.checks.registry import Outcome
from backends.errors import AdapterError, ErrorKind
from backends.results import Status

#: the peer answered, and the answer is "no": the configuration is what is wrong
_CONFIG_KINDS = {
    ErrorKind.AUTH,
    ErrorKind.FORBIDDEN,
    ErrorKind.NOT_FOUND,
    ErrorKind.LOCAL,
    ErrorKind.HOST_KEY,
    ErrorKind.TLS,
}


def from_error(err: AdapterError, command: str = "") -> Outcome:
    status = Status.FAIL if err.kind in _CONFIG_KINDS else Status.ERROR
    return Outcome(status, observed=err.kind.value, reason=str(err), command=command)


def skipped(reason: str) -> Outcome:
    return Outcome(Status.SKIP, reason=reason)
