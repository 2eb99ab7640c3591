"""What went wrong in a call to the Kubernetes API, as an error kind and a short message."""

from __future__ import annotations

import datetime as dt
import json

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

from backends.cluster_tls import describe_tls, expired_line
from backends.errors import ErrorKind

_STATUS_KINDS = {
    401: ErrorKind.AUTH,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    409: ErrorKind.CONFLICT,
    410: ErrorKind.CONFLICT,
    429: ErrorKind.RATE_LIMITED,
}


def _status_message(exc: ApiException) -> str:
    """The Status object's message when the server sent one, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except (ValueError, TypeError):
        pass
    return str(exc.reason or "no reason given")


def describe_failure(
    exc: BaseException, *, server: str, timeout: float, client_cert_expiry: dt.datetime | None = None
) -> tuple[ErrorKind, str]:
    if isinstance(exc, ApiException):
        status = exc.status or 0
        kind = _STATUS_KINDS.get(status) or (ErrorKind.SERVER if status >= 500 else ErrorKind.BAD_RESPONSE)
        if status == 401 and client_cert_expiry is not None:
            refused = expired_line(client_cert_expiry) or "the API server refused the client certificate"
            return kind, f"{refused} (HTTP 401)"
        return kind, f"{_status_message(exc)} (HTTP {status})"
    tls = describe_tls(exc, client_cert_expiry)
    if tls is not None:
        return tls
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT, f"no answer within {timeout:g}s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ErrorKind.UNREACHABLE, f"cannot reach {server}: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionError)):
        return ErrorKind.DROPPED, "the connection was dropped"
    if isinstance(exc, aiohttp.ClientOSError):
        return ErrorKind.DROPPED, f"connection error: {exc.strerror or exc}"
    if isinstance(exc, aiohttp.ClientError):
        return ErrorKind.UNREACHABLE, str(exc)
    return ErrorKind.BAD_RESPONSE, f"unreadable answer ({exc})"
