"""TLS failures talking to the Kubernetes API, each named in one line: a server certificate the
kubeconfig's CA did not sign, one for another name, a client certificate that expired or that the
server refused. The client certificate's expiry is known locally, so an expired one is said so even
when the server only answers with an alert or a 401."""

from __future__ import annotations

import datetime as dt
import ssl

import aiohttp

from backends.errors import ErrorKind

_WRONG_CA = {2, 7, 18, 19, 20, 21}  # no issuer, bad signature, self-signed, cannot verify
_NAME = {62, 64}  # hostname mismatch, IP address mismatch
_SERVER_EXPIRED = {10}
_REFUSED_ALERTS = (
    "CERTIFICATE_EXPIRED",
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "CERTIFICATE_UNKNOWN",
    "CERTIFICATE_REQUIRED",
    "CERTIFICATE_REVOKED",
    "ACCESS_DENIED",
)


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientConnectorCertificateError):
            return current.certificate_error if isinstance(current.certificate_error, ssl.SSLError) else None
        if isinstance(current, ssl.SSLError):
            return current
        os_error = getattr(current, "os_error", None)
        if isinstance(os_error, ssl.SSLError):
            return os_error
        current = current.__cause__ or current.__context__
    return None


def expired_line(expiry: dt.datetime | None) -> str:
    if expiry is None or expiry > dt.datetime.now(dt.UTC):
        return ""
    return f"the kubeconfig's client certificate expired on {expiry:%Y-%m-%d %H:%M} UTC"


def _handshake_reset(exc: BaseException) -> bool:
    """The server cut the TLS handshake (Python's ssl refusing a client certificate does this)."""
    return (
        isinstance(exc, aiohttp.ClientConnectorError)
        and bool(getattr(getattr(exc, "_conn_key", None), "is_ssl", False))
        and isinstance(exc.os_error, ConnectionResetError)
    )


def describe_tls(exc: BaseException, expiry: dt.datetime | None) -> tuple[ErrorKind, str] | None:
    """`expiry` is the client certificate's (None: the kubeconfig has no client certificate)."""
    err = _ssl_error(exc)
    if err is None:
        if expiry is not None and _handshake_reset(exc):
            refused = "the API server refused the client certificate (it cut the TLS handshake)"
            return ErrorKind.AUTH, expired_line(expiry) or refused
        return None
    if isinstance(err, ssl.SSLCertVerificationError):
        code, detail = err.verify_code, err.verify_message
        if code in _NAME:
            return ErrorKind.TLS, f"the API server's certificate is for another name ({detail})"
        if code in _WRONG_CA:
            return ErrorKind.TLS, (
                "the API server's certificate is not signed by the kubeconfig's CA "
                f"(certificate-authority-data): {detail}"
            )
        if code in _SERVER_EXPIRED:
            return ErrorKind.TLS, "the API server's certificate has expired"
        return ErrorKind.TLS, f"the API server's certificate is not trusted: {detail}"
    reason = str(err.reason or err)
    if any(alert in reason.upper() for alert in _REFUSED_ALERTS):
        alert = reason.lower().replace("_", " ")
        return ErrorKind.AUTH, expired_line(
            expiry
        ) or f"the API server refused the client certificate ({alert})"
    return ErrorKind.TLS, f"TLS handshake failed: {reason}"
