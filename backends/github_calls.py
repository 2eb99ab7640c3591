"""Running blocking PyGithub calls from asyncio: bounded in time, errors typed, rate limits waited out.

PyGithub is synchronous (requests underneath), so each call runs in a worker thread under
`asyncio.wait_for`. Its own retry and throttling are switched off by the adapter: this runner is the
one place that decides to wait or retry, so it can show the wait to the operator and never hammer.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import requests
from github import GithubException

from backends.errors import AdapterError, ErrorKind

T = TypeVar("T")
OnWait = Callable[[str], None]

TIMEOUT_MARGIN_S = 5.0  # a paginated call makes several requests, each bounded by the client timeout
SERVER_RETRY_BACKOFF_S = 0.5


def _header(headers: dict[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def rate_limit_wait(exc: GithubException) -> float | None:
    """Seconds to wait when `exc` is a rate-limit refusal (primary or secondary), else None."""
    headers = exc.headers
    limited = exc.status == 429 or (
        exc.status == 403
        and (_header(headers, "X-RateLimit-Remaining") == "0" or _header(headers, "Retry-After") is not None)
    )
    if not limited:
        message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
        limited = exc.status == 403 and "rate limit" in message.lower()
    if not limited:
        return None
    retry_after = _header(headers, "Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    reset = _header(headers, "X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return max(float(reset) - time.time(), 1.0)
    return 60.0  # GitHub's advice when it names no time: wait at least a minute


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc.message or f"HTTP {exc.status}")


def translate(exc: BaseException, what: str, target: str, redact: Callable[[str], str]) -> AdapterError:
    """One typed, one-line error for anything a PyGithub call can raise."""

    def err(kind: ErrorKind, text: str) -> AdapterError:
        return AdapterError(kind, redact(f"{what}: {text}"), target=target)

    if isinstance(exc, AdapterError):
        return exc
    if isinstance(exc, GithubException):
        status, text = exc.status, _message(exc)
        if status == 401:
            return err(ErrorKind.AUTH, "token rejected (expired or revoked)")
        if rate_limit_wait(exc) is not None:
            return err(ErrorKind.RATE_LIMITED, f"rate limited by GitHub ({text})")
        if status == 403:
            return err(ErrorKind.FORBIDDEN, f"forbidden: {text}")
        if status == 404:
            return err(ErrorKind.NOT_FOUND, "not found (or the token cannot see it)")
        if status in (409, 422):
            return err(ErrorKind.CONFLICT, text)
        if status >= 500:
            return err(ErrorKind.SERVER, f"GitHub answered {status} ({text})")
        return err(ErrorKind.BAD_RESPONSE, f"unexpected HTTP {status} ({text})")
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
        return err(ErrorKind.TIMEOUT, "no answer in time")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return err(ErrorKind.UNREACHABLE, "cannot connect to the GitHub API")
    if isinstance(exc, requests.exceptions.RequestException):
        return err(ErrorKind.DROPPED, f"request failed: {type(exc).__name__}")
    return err(ErrorKind.BAD_RESPONSE, f"unreadable answer ({type(exc).__name__}: {exc})")


class CallRunner:
    def __init__(
        self,
        *,
        target: str,
        timeout: float,
        redact: Callable[[str], str],
        on_wait: OnWait | None = None,
        max_rate_wait_s: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.redact = redact
        self.on_wait = on_wait
        self.max_rate_wait_s = max_rate_wait_s
        self._sleep = sleep

    async def __call__(self, what: str, fn: Callable[[], T], *, read: bool = True) -> T:
        """Run `fn` in a thread; wait out one rate limit, retry a read once after a 5xx."""
        waited = retried = False
        while True:
            try:
                return await asyncio.wait_for(asyncio.to_thread(fn), self.timeout + TIMEOUT_MARGIN_S)
            except Exception as exc:
                wait = rate_limit_wait(exc) if isinstance(exc, GithubException) else None
                if wait is not None and not waited and wait <= self.max_rate_wait_s:
                    waited = True
                    await self._countdown(wait)
                    continue
                error = translate(exc, what, self.target, self.redact)
                if error.kind is ErrorKind.SERVER and read and not retried:
                    retried = True
                    await self._sleep(SERVER_RETRY_BACKOFF_S)
                    continue
                if wait is not None and wait > self.max_rate_wait_s:
                    raise AdapterError(
                        ErrorKind.RATE_LIMITED,
                        f"{what}: rate limited by GitHub for {math.ceil(wait)}s "
                        f"(more than the {self.max_rate_wait_s:g}s we wait)",
                        target=self.target,
                    ) from None
                raise error from None

    async def _countdown(self, seconds: float) -> None:
        """Sleep through the limit, telling the operator each second how long is left."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.on_wait is not None:
                self.on_wait(f"GitHub rate limit: waiting {math.ceil(left)}s")
            await self._sleep(min(1.0, left))
