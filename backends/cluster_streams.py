"""The cluster adapter's long-lived reads: the namespace watch and the pod log follow.

Both survive a dropped connection without losing or repeating anything. The watch resumes from the
last resourceVersion it saw (and re-lists, reporting the difference, when the server says that
version is gone). The log follow reopens with `sinceTime` = the last line's timestamp, skips the
lines it already handed out, and hands over a gap item first so the reader can mark the seam.
A stream that stays silent longer than the adapter's `stream_idle` is reopened the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from backends.cluster_models import (
    LogItem,
    Namespace,
    WatchEvent,
    namespace_from,
    namespace_from_json,
    parse_log_time,
)
from backends.errors import AdapterError, ErrorKind

if TYPE_CHECKING:
    from backends.cluster import ClusterAdapter

#: reopen attempts in a row before the stream gives up with the last error
MAX_FAILURES = 4
_DROPS = (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)
_FINISHED = ("Succeeded", "Failed")


def _backoff(failures: int) -> float:
    return float(min(0.25 * 2 ** (failures - 1), 5.0))


def _worth_retrying(err: AdapterError) -> bool:
    return err.transient or err.kind is ErrorKind.UNREACHABLE


async def _open(
    adapter: ClusterAdapter, what: str, path: str, params: dict[str, str], query: list[tuple[str, str]]
) -> aiohttp.ClientResponse:
    """The streaming GET, once its headers are in; an error status becomes an AdapterError."""
    t = adapter.settings.timeout
    # Only the connect is bounded here; reads are bounded one at a time by `stream_idle`.
    timeout = aiohttp.ClientTimeout(total=None, connect=t, sock_connect=t, sock_read=None)

    async def go() -> aiohttp.ClientResponse:
        resp: aiohttp.ClientResponse = await adapter.api.call_api(
            path,
            "GET",
            params,
            query,
            {"Accept": "*/*"},
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout,
        )
        if resp.status >= 400:
            body = await resp.text()
            resp.close()
            exc = ApiException(status=resp.status, reason=resp.reason)
            exc.body = body.encode()
            raise exc
        return resp

    return await adapter.call(what, go, retry=False)


async def _readline(adapter: ClusterAdapter, resp: aiohttp.ClientResponse) -> bytes:
    # not wait_for: on 3.11 it drops a cancel that lands as a line arrives, and the follower, told to
    # stop, waits for the next line instead (up to `stream_idle`), holding up the gate's close
    async with asyncio.timeout(adapter.stream_idle):
        return await resp.content.readline()


# -- pod logs ------------------------------------------------------------------------------------------
async def follow_pod_log(
    adapter: ClusterAdapter, namespace: str, pod: str, container: str | None
) -> AsyncIterator[LogItem]:
    what = f"follow log of {namespace}/{pod}"
    redact = adapter.redactor.line_stream() if adapter.redactor is not None else None
    last: Any = None  # datetime of the last line handed out
    since = ""  # that line's stamp as the server wrote it
    seen_at_last: list[str] = []  # lines handed out with exactly that stamp
    failures = 0
    gap = ""
    while True:
        query = [("follow", "true"), ("timestamps", "true")]
        if container:
            query.append(("container", container))
        if since:
            query.append(("sinceTime", since))
        try:
            resp = await _open(
                adapter,
                what,
                "/api/v1/namespaces/{namespace}/pods/{name}/log",
                {"namespace": namespace, "name": pod},
                query,
            )
        except AdapterError as err:
            failures += 1
            if not _worth_retrying(err) or failures > MAX_FAILURES:
                raise
            await asyncio.sleep(_backoff(failures))
            continue
        if gap:
            yield LogItem(last, "", gap=True, message=gap)
            gap = ""
        already = list(seen_at_last)
        try:
            while line := await _readline(adapter, resp):
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                stamp, _, body = text.partition(" ")
                ts = parse_log_time(stamp)
                if ts is None:
                    body = text
                elif last is not None and (ts < last or (ts == last and body in already)):
                    if ts == last:
                        already.remove(body)
                    continue
                else:
                    if ts != last:
                        last, seen_at_last = ts, []
                    since = stamp
                    seen_at_last.append(body)
                failures = 0
                yield LogItem(ts, redact.feed_line(body) if redact is not None else body)
        except TimeoutError:
            continue  # silent for `stream_idle`: reopen from the last line, nothing was lost
        except _DROPS as exc:
            failures += 1
            if failures > MAX_FAILURES:
                raise adapter.translate(exc, what) from None
            gap = f"log stream dropped; resumed from {since or 'the start'}"
            await asyncio.sleep(_backoff(failures))
            continue
        finally:
            resp.close()
        # A clean end means the container exited, unless the server just closed a long stream.
        try:
            phase = await adapter.pod_phase(namespace, pod)
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return
            raise
        if phase in _FINISHED or not phase:
            return


# -- namespaces ----------------------------------------------------------------------------------------
async def _list_namespaces(adapter: ClusterAdapter, selector: str) -> tuple[dict[str, Namespace], str]:
    core = client.CoreV1Api(adapter.api)
    res = await adapter.call(
        "list namespaces",
        lambda: core.list_namespace(_request_timeout=adapter.request_timeout, **_selector(selector)),
    )
    items = {n.metadata.name: namespace_from(n, adapter.clean) for n in res.items}
    return items, str(res.metadata.resource_version or "")


def _selector(selector: str) -> dict[str, Any]:
    return {"label_selector": selector} if selector else {}


def _diff(old: dict[str, Namespace], new: dict[str, Namespace]) -> list[WatchEvent]:
    events = [WatchEvent("DELETED", ns) for name, ns in old.items() if name not in new]
    for name, ns in new.items():
        if name not in old:
            events.append(WatchEvent("ADDED", ns))
        elif old[name] != ns:
            events.append(WatchEvent("MODIFIED", ns))
    return events


async def watch_namespaces(adapter: ClusterAdapter, selector: str) -> AsyncIterator[WatchEvent]:
    what = "watch namespaces"
    known: dict[str, Namespace] = {}
    rv = ""
    failures = 0
    while True:
        try:
            if not rv:
                current, rv = await _list_namespaces(adapter, selector)
                for event in _diff(known, current):
                    yield event
                known = current
            query = [("watch", "true"), ("resourceVersion", rv), ("allowWatchBookmarks", "true")]
            if selector:
                query.append(("labelSelector", selector))
            resp = await _open(adapter, what, "/api/v1/namespaces", {}, query)
        except AdapterError as err:
            failures += 1
            if not _worth_retrying(err) or failures > MAX_FAILURES:
                raise
            await asyncio.sleep(_backoff(failures))
            continue
        try:
            while line := await _readline(adapter, resp):
                event = json.loads(line)
                etype, obj = event.get("type", ""), event.get("object") or {}
                if etype == "ERROR":
                    if obj.get("code") == 410:
                        rv = ""  # our version was compacted away: list again, report the difference
                        break
                    raise adapter.translate(
                        ApiException(status=obj.get("code"), reason=obj.get("message")), what
                    )
                rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                if etype not in ("ADDED", "MODIFIED", "DELETED"):
                    continue  # BOOKMARK: only the version moves on
                ns = namespace_from_json(obj, adapter.clean)
                if etype == "DELETED":
                    known.pop(ns.name, None)
                else:
                    known[ns.name] = ns
                failures = 0
                yield WatchEvent(etype, ns)
        except TimeoutError:
            continue
        except _DROPS as exc:
            failures += 1
            if failures > MAX_FAILURES:
                raise adapter.translate(exc, what) from None
            await asyncio.sleep(_backoff(failures))
        except ValueError as exc:
            raise adapter.translate(exc, what) from None
        finally:
            resp.close()
