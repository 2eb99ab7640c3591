"""Pod logs by namespace (or namespace selector) and label selector, following new pods as they appear.

One `PodLogSource` fans out into one stream per pod (named `<namespace>/<pod>`): it lists the matching
pods every `poll` seconds — and, with a namespace selector, watches for new namespaces (each run
namespace's agent pod shows up by itself) — and follows each new pod's log through the cluster
adapter. The adapter's `follow_pod_log` already reconnects with `sinceTime` after a drop and hands
over a gap item; this module turns those into gap marks, and a log that ends into an END mark.

The cluster adapter is duck-typed (backends/cluster.py: `list_pods(namespace, label_selector)`,
`watch_namespaces(label_selector)`, `follow_pod_log(namespace, pod, container)` → items with
`ts`, `line`, `gap`, `message`), so this module does not import kubernetes_asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from backends.errors import AdapterError
from backends.logs.record import END, GAP, NOTE, parse_iso
from backends.logs.source import Chunk, Item, Mark

POLL = 2.0


def _name(obj: Any) -> str | None:
    """A pod or namespace name, whatever shape the adapter returns (str, dict, model, V1 object)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        return obj.get("name") or (meta.get("name") if isinstance(meta, dict) else None)
    for attr in ("name",):
        value = getattr(obj, attr, None)
        if isinstance(value, str):
            return value
    meta = getattr(obj, "metadata", None)
    value = getattr(meta, "name", None)
    return value if isinstance(value, str) else None


def _ts(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return parse_iso(value)
    return None


class PodLogSource:
    def __init__(
        self,
        cluster: Any,
        *,
        namespace: str | None = None,
        namespace_selector: str | None = None,
        selector: str = "",
        container: str | None = None,
        poll: float = POLL,
    ) -> None:
        if (namespace is None) == (namespace_selector is None):
            raise ValueError("give exactly one of namespace and namespace_selector")
        self.cluster = cluster
        self.namespace = namespace
        self.namespace_selector = namespace_selector
        self.selector = selector
        self.container = container
        self.poll = poll
        scope = namespace or f"namespaces[{namespace_selector}]"
        self.name = f"pods:{scope}" + (f"[{selector}]" if selector else "")
        self.namespaces: set[str] = {namespace} if namespace else set()
        self.followed: dict[str, asyncio.Task[None]] = {}

    async def stream(self) -> AsyncIterator[Item]:
        queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=10_000)
        tasks: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        if self.namespace_selector is not None:
            tasks.append(loop.create_task(self._watch_namespaces(queue)))
        tasks.append(loop.create_task(self._discover(queue)))
        try:
            while True:
                yield await queue.get()
        finally:
            for task in [*tasks, *self.followed.values()]:
                task.cancel()
            for task in [*tasks, *self.followed.values()]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _watch_namespaces(self, queue: asyncio.Queue[Item]) -> None:
        """New run namespaces as they appear (the adapter's watch reconnects by itself)."""
        try:
            async for event in self.cluster.watch_namespaces(self.namespace_selector):
                obj = (
                    event.get("object", event) if isinstance(event, dict) else getattr(event, "object", event)
                )
                kind = (
                    event.get("type", "ADDED") if isinstance(event, dict) else getattr(event, "type", "ADDED")
                )
                name = _name(obj)
                if name and kind != "DELETED":
                    self.namespaces.add(name)
        except AdapterError as err:
            await queue.put(Mark(self.name, NOTE, f"cannot watch namespaces ({err}); listing them instead"))

    async def _list_namespaces(self) -> None:
        lister = getattr(self.cluster, "list_namespaces", None)
        if self.namespace_selector is None or lister is None:
            return
        with contextlib.suppress(AdapterError):
            for ns in await lister(self.namespace_selector):
                name = _name(ns)
                if name:
                    self.namespaces.add(name)

    async def _discover(self, queue: asyncio.Queue[Item]) -> None:
        """Every `poll` seconds: the matching pods of every known namespace; follow the new ones."""
        warned = False
        while True:
            await self._list_namespaces()
            for namespace in sorted(self.namespaces):
                try:
                    pods = await self.cluster.list_pods(namespace, self.selector or None)
                except AdapterError as err:
                    if not warned:
                        await queue.put(Mark(self.name, NOTE, f"cannot list pods in {namespace}: {err}"))
                        warned = True
                    continue
                for pod in pods:
                    name = _name(pod)
                    key = f"{namespace}/{name}"
                    if name and key not in self.followed:
                        self.followed[key] = asyncio.get_running_loop().create_task(
                            self._follow(namespace, name, queue)
                        )
            await asyncio.sleep(self.poll)

    async def _follow(self, namespace: str, pod: str, queue: asyncio.Queue[Item]) -> None:
        stream = f"{namespace}/{pod}"
        try:
            async for item in self.cluster.follow_pod_log(namespace, pod, self.container):
                if getattr(item, "gap", False):
                    await queue.put(
                        Mark(stream, GAP, getattr(item, "message", "") or "log stream resumed after a drop")
                    )
                    line = getattr(item, "line", None)
                    if not line:
                        continue
                else:
                    line = getattr(item, "line", "")
                ts = _ts(getattr(item, "ts", None))
                await queue.put(Chunk(stream, str(line).rstrip("\n").split("\n"), ts))
        except AdapterError as err:
            await queue.put(Mark(stream, END, f"stopped following the pod log: {err}"))
            return
        await queue.put(Mark(stream, END, "pod log ended (the container exited or the pod is gone)"))
