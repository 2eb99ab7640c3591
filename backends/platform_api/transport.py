"""HTTP to the staff API: one aiohttp session, a timeout on every call, typed one-line errors, and
retries for transient faults on reads only.

A write (an approval decision) is never repeated: if its answer was lost, the decision may already
stand, and a second POST could record one the operator did not make twice. A read that used its
whole timeout is not repeated either: a stuck peer would hold a check for several timeouts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from backends.errors import AdapterError, ErrorKind

RETRY_KINDS = frozenset({ErrorKind.SERVER, ErrorKind.DROPPED, ErrorKind.RATE_LIMITED})
READ_ATTEMPTS = 3
BACKOFF_S = 0.25  # doubled after each failed attempt
MAX_ERROR_TEXT = 200


def _server_message(body: bytes) -> str:
    """ErrorResponse.message when the body is one, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        code = data.get("code")
        return f"{code}: {data['message']}" if isinstance(code, str) else data["message"]
    return body[:MAX_ERROR_TEXT].decode("utf-8", "replace").strip()


def status_error(status: int, body: bytes, what: str) -> tuple[ErrorKind, str]:
    said = _server_message(body)
    detail = f" ({said})" if said else ""
    if status == 401:
        return ErrorKind.AUTH, f"{what}: staff token refused or expired{detail}"
    if status == 403:
        return ErrorKind.FORBIDDEN, f"{what}: forbidden{detail}"
    # the platform answers an unknown id with 400 invalid_argument "<field>: not found"
    if status == 404 or (status == 400 and said.endswith("not found")):
        return ErrorKind.NOT_FOUND, f"{what}: not found{detail}"
    if status in (400, 409, 422):
        return ErrorKind.CONFLICT, f"{what}: refused with {status}{detail}"
    if status == 429:
        return ErrorKind.RATE_LIMITED, f"{what}: rate limited{detail}"
    if status >= 500:
        return ErrorKind.SERVER, f"{what}: the staff API answered {status}{detail}"
    return ErrorKind.BAD_RESPONSE, f"{what}: unexpected HTTP {status}{detail}"


def exception_error(exc: BaseException, what: str) -> tuple[ErrorKind, str]:
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
        return ErrorKind.TIMEOUT, f"{what}: no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ErrorKind.UNREACHABLE, f"{what}: cannot connect to the staff API"
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return ErrorKind.DROPPED, f"{what}: connection lost ({type(exc).__name__})"
    return ErrorKind.BAD_RESPONSE, f"{what}: {type(exc).__name__}"


class StaffHttp:
    def __init__(
        self,
        base_url: str,
        timeout: float,
        token: Callable[[], str],
        redact: Callable[[str], str],
        target: str,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = token
        self._redact = redact
        self.target = target
        self._session: aiohttp.ClientSession | None = None

    def _error(self, kind: ErrorKind, message: str) -> AdapterError:
        return AdapterError(kind, self._redact(message), target=self.target)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return await self._call("GET", path, params=params, attempts=READ_ATTEMPTS)

    async def post(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return await self._call("POST", path, body=body, attempts=1)

    async def snapshot(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """The first message of a realtime list stream (a WebSocket the gateway opens after staff
        auth): the list as it is now. The stream is closed once it is read."""
        what = f"GET {path}"
        for attempt in range(READ_ATTEMPTS):
            try:
                return await self._first_message(path, what, params)
            except AdapterError as err:
                if err.kind not in RETRY_KINDS or attempt == READ_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable: the last attempt raises")

    async def _first_message(self, path: str, what: str, params: Mapping[str, str | int] | None) -> Any:
        headers = {"Authorization": f"Bearer {self._token()}"}
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session().ws_connect(
                    self.base_url + path, params=params, headers=headers, autoclose=True
                ) as ws:
                    message = await ws.receive()
        except aiohttp.WSServerHandshakeError as exc:
            # refused before the stream opened (staff auth, the request validator): an HTTP answer
            raise self._error(*status_error(exc.status, exc.message.encode(), what)) from None
        except Exception as exc:
            raise self._error(*exception_error(exc, what)) from None
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise self._error(ErrorKind.DROPPED, f"{what}: the stream closed before its first message")
        try:
            return json.loads(message.data)
        except ValueError:
            raise self._error(ErrorKind.BAD_RESPONSE, f"{what}: the stream's message is not JSON") from None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        attempts: int,
    ) -> Any:
        what = f"{method} {path}"
        for attempt in range(attempts):
            try:
                return await self._once(method, path, what, params, body)
            except AdapterError as err:
                if err.kind not in RETRY_KINDS or attempt == attempts - 1:
                    raise
            await asyncio.sleep(BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable: the last attempt raises")

    async def _once(
        self,
        method: str,
        path: str,
        what: str,
        params: Mapping[str, str | int] | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
        try:
            async with self.session().request(
                method, self.base_url + path, params=params, json=body, headers=headers
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except Exception as exc:
            raise self._error(*exception_error(exc, what)) from None
        if status >= 300:
            raise self._error(*status_error(status, raw, what))
        try:
            return json.loads(raw)
        except ValueError:
            raise self._error(ErrorKind.BAD_RESPONSE, f"{what}: the answer is not JSON") from None
