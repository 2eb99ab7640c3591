"""The sandbox Kubernetes API server: the subset Gate Room reads, over HTTP on 127.0.0.1.

Real paths, real JSON shapes (what kubernetes_asyncio's models deserialize), bearer tokens, RBAC
on every read, `watch=true` streams with resourceVersion resumption, and pod logs with
follow/sinceTime/timestamps/tailLines. Faults switch single behaviours off, the way a sick API
server would show them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from backends.sandbox.faults import FaultSet, register
from backends.sandbox.kube_seed import OPERATOR_USER
from backends.sandbox.kube_selectors import matches, parse_selector
from backends.sandbox.kube_state import TERMINAL_PHASES, Gone, KubeState, LogLine, WatchEvent

register(
    "cluster.api-500",
    "cluster",
    "every Kubernetes API call answers 500 Internal Server Error",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.token-expired",
    "cluster",
    "the kubeconfig's token is refused (401 Unauthorized)",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.api-slow",
    "cluster",
    "the Kubernetes API answers only after the client gave up",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.log-stream-drop",
    "cluster",
    "followed pod logs drop the connection after a few lines (once per stream; the adapter resumes)",
    [],
)
register("cluster.node-not-ready", "cluster", "the node sandbox-vps reports Ready=False", ["cluster.nodes"])

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4+k3s1",
    "gitCommit": "a562d7b1e1f7f1a6e4b4f7f3f2f1f0e9d8c7b6a5",
    "gitTreeState": "clean",
    "buildDate": "2024-12-12T01:02:03Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}
USER = web.RequestKey("user", str)
#: lines a followed log sends before the drop fault cuts it
DROP_AFTER = 3


@dataclass(frozen=True)
class Resource:
    group: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"


RESOURCES = {
    "namespaces": Resource("", "Namespace", False),
    "nodes": Resource("", "Node", False),
    "pods": Resource("", "Pod", True),
    "events": Resource("", "Event", True),
    "configmaps": Resource("", "ConfigMap", True),
    "serviceaccounts": Resource("", "ServiceAccount", True),
    "deployments": Resource("apps", "Deployment", True),
    "statefulsets": Resource("apps", "StatefulSet", True),
    "jobs": Resource("batch", "Job", True),
    "networkpolicies": Resource("networking.k8s.io", "NetworkPolicy", True),
    "clusterroles": Resource("rbac.authorization.k8s.io", "ClusterRole", False),
    "clusterrolebindings": Resource("rbac.authorization.k8s.io", "ClusterRoleBinding", False),
    "roles": Resource("rbac.authorization.k8s.io", "Role", True),
    "rolebindings": Resource("rbac.authorization.k8s.io", "RoleBinding", True),
}
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 410: "Expired"}


def status(code: int, message: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "InternalError"),
        "code": code,
    }


class ApiFailure(Exception):
    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.body = status(code, message, reason)


def _fail(code: int, message: str, reason: str | None = None) -> web.Response:
    return web.json_response(status(code, message, reason), status=code)


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """RFC 3339 with any number of fraction digits (Python reads at most 6)."""
    head, _, frac = text.rstrip("Z").partition(".")
    base = dt.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return base + dt.timedelta(microseconds=int((frac + "000000")[:6])) if frac else base


def _truthy(value: str | None) -> bool:
    return value in ("true", "1", "True")


class SandboxKubeApi:
    def __init__(self, state: KubeState, faults: FaultSet, *, slow_s: float = 30.0) -> None:
        self.state = state
        self.faults = faults
        self.slow_s = slow_s  # the api-slow fault's delay: longer than any client timeout in use
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        # Handlers stop with the client: a dropped watch or log follow must not linger server-side.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def write_kubeconfig(self, path: Path | str, context: str = "sandbox", user: str = OPERATOR_USER) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.url}}],
            "users": [{"name": user, "user": {"token": self.state.token_for(user)}}],
            "contexts": [{"name": context, "context": {"cluster": "sandbox", "user": user}}],
            "current-context": context,
        }
        path = Path(path)
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        path.chmod(0o600)
        return path

    # -- faults and authentication, before any handler --------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.faults.active("cluster.api-slow"):
            await asyncio.sleep(self.slow_s)
        if self.faults.active("cluster.api-500"):
            return _fail(500, "Internal error occurred: etcdserver: request timed out")
        header = request.headers.get("Authorization", "")
        user = (
            self.state.tokens.get(header.removeprefix("Bearer ").strip())
            if header.startswith("Bearer ")
            else None
        )
        if user is None or self.faults.active("cluster.token-expired"):
            return _fail(401, "Unauthorized")
        request[USER] = user
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except ApiFailure as failure:
            return web.json_response(failure.body, status=failure.body["code"])

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(VERSION)

    # -- routing -------------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["path"].split("/") if p]
        if parts[:2] == ["api", "v1"]:
            group, rest = "", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis" and parts[2] == "v1":
            group, rest = parts[1], parts[3:]
        else:
            raise ApiFailure(404, "the server could not find the requested resource")
        if group == "authorization.k8s.io" and request.method == "POST" and len(rest) == 1:
            return await self._access_review(request, rest[0])
        if request.method != "GET":
            raise ApiFailure(405, f"{request.method} is not served by the sandbox", "MethodNotAllowed")
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = [*rest, "", "", ""][:3]
        res = RESOURCES.get(plural)
        if res is None or res.group != group or len(rest) > 3 or (namespace and not res.namespaced):
            raise ApiFailure(404, "the server could not find the requested resource")
        if sub:
            if (plural, sub) != ("pods", "log"):
                raise ApiFailure(404, "the server could not find the requested resource")
            self._authorize(request, "get", "pods/log", namespace, group)
            return await self._log(request, namespace, name)
        if name:
            self._authorize(request, "get", plural, namespace, group)
            return self._get(plural, res, namespace, name)
        if _truthy(request.query.get("watch")):
            self._authorize(request, "watch", plural, namespace, group)
            return await self._watch(request, plural, namespace or None)
        self._authorize(request, "list", plural, namespace, group)
        return self._list(request, plural, res, namespace or None)

    def _authorize(self, request: web.Request, verb: str, resource: str, namespace: str, group: str) -> None:
        user = request[USER]
        if self.state.decide(user, verb, resource, namespace, group)[0]:
            return
        base, _, sub = resource.partition("/")
        what = f'resource "{base}"' + (f' in API group "{group}"') + (f' subresource "{sub}"' if sub else "")
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        raise ApiFailure(403, f'{base} is forbidden: User "{user}" cannot {verb} {what}{where}')

    def _view(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        res = RESOURCES[plural]
        obj = {"kind": res.kind, "apiVersion": res.api_version, **obj}
        if plural == "nodes" and self.faults.active("cluster.node-not-ready"):
            for cond in obj["status"]["conditions"]:
                if cond["type"] == "Ready":
                    cond.update(status="False", reason="KubeletNotReady", message="PLEG is not healthy")
        return obj

    def _get(self, plural: str, res: Resource, namespace: str, name: str) -> web.Response:
        obj = self.state.get(plural, namespace, name)
        if obj is None:
            raise ApiFailure(404, f'{plural} "{name}" not found')
        return web.json_response(self._view(plural, obj))

    def _list(self, request: web.Request, plural: str, res: Resource, namespace: str | None) -> web.Response:
        selector = parse_selector(request.query.get("labelSelector", ""))
        items = [
            self._view(plural, o)
            for o in self.state.objects(plural, namespace)
            if matches(selector, o["metadata"].get("labels") or {})
        ]
        return web.json_response(
            {
                "kind": f"{res.kind}List",
                "apiVersion": res.api_version,
                "metadata": {"resourceVersion": self.state.resource_version},
                "items": items,
            }
        )

    # -- watch ---------------------------------------------------------------------------------------
    async def _watch(self, request: web.Request, plural: str, namespace: str | None) -> web.StreamResponse:
        selector = parse_selector(request.query.get("labelSelector", ""))
        since = request.query.get("resourceVersion", "")
        limit = float(request.query.get("timeoutSeconds", "0") or 0)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        try:
            backlog, queue = self.state.watch(plural, int(since) if since.isdigit() else None)
        except Gone as gone:
            await resp.write(json.dumps({"type": "ERROR", "object": status(410, str(gone))}).encode() + b"\n")
            return resp

        async def send(event: WatchEvent) -> None:
            meta = event.obj["metadata"]
            if namespace and meta.get("namespace") != namespace:
                return
            if not matches(selector, meta.get("labels") or {}):
                return
            line = {"type": event.type, "object": self._view(plural, event.obj)}
            await resp.write(json.dumps(line).encode() + b"\n")

        try:
            async with asyncio.timeout(limit or None):
                for event in backlog:
                    await send(event)
                while True:
                    await send(await queue.get())
        except TimeoutError:
            pass  # timeoutSeconds ran out: a normal end, the client watches again
        finally:
            self.state.unwatch(plural, queue)
        return resp

    # -- pod logs ------------------------------------------------------------------------------------
    async def _log(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        pod = self.state.get("pods", namespace, name)
        log = self.state.pod_log(namespace, name)
        if pod is None or log is None:
            raise ApiFailure(404, f'pods "{name}" not found')
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = request.query.get("container") or (names[0] if len(names) == 1 else "")
        if container not in names:
            raise ApiFailure(
                400,
                f"container {container} is not valid for pod {name}"
                if container
                else f"a container name must be specified for pod {name}, choose one of: {names}",
            )
        q = request.query
        stamps = _truthy(q.get("timestamps"))
        since = parse_time(q["sinceTime"]) if q.get("sinceTime") else None
        if q.get("sinceSeconds"):
            since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=int(q["sinceSeconds"]))
        lines = [item for item in log.lines if since is None or item[0] >= since]
        if q.get("tailLines"):
            lines = lines[-int(q["tailLines"]) :] if int(q["tailLines"]) else []

        def render(item: LogLine) -> bytes:
            return ((f"{_stamp(item[0])} " if stamps else "") + item[1] + "\n").encode()

        if not _truthy(q.get("follow")):
            return web.Response(body=b"".join(render(i) for i in lines), content_type="text/plain")
        queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
        log.followers.add(queue)
        # A resumed follow (sinceTime) is not cut again, so every stream drops at most once.
        drop = self.faults.active("cluster.log-stream-drop") and since is None
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        sent = 0
        try:
            pending: list[LogLine | None] = list(lines)
            ended = log.finished or pod["status"]["phase"] in TERMINAL_PHASES
            while True:
                if not pending:
                    if ended:
                        break
                    pending.append(await queue.get())
                item = pending.pop(0)
                if item is None:
                    break
                await resp.write(render(item))
                sent += 1
                if drop and sent >= DROP_AFTER:
                    if request.transport is not None:
                        request.transport.close()
                    return resp
        finally:
            log.followers.discard(queue)
        with contextlib.suppress(ConnectionError):
            await resp.write_eof()
        return resp

    # -- access reviews ------------------------------------------------------------------------------
    async def _access_review(self, request: web.Request, plural: str) -> web.Response:
        kinds = {
            "selfsubjectaccessreviews": "SelfSubjectAccessReview",
            "subjectaccessreviews": "SubjectAccessReview",
        }
        if plural not in kinds:
            raise ApiFailure(404, "the server could not find the requested resource")
        try:
            body = await request.json()
            spec = body["spec"]
        except (ValueError, KeyError, TypeError):
            raise ApiFailure(400, f"invalid {kinds[plural]} body") from None
        if plural == "subjectaccessreviews":
            self._authorize(request, "create", plural, "", "authorization.k8s.io")
            user, groups = spec.get("user", ""), spec.get("groups") or []
        else:
            user, groups = request[USER], []
        attrs = spec.get("resourceAttributes") or {}
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource = f"{resource}/{attrs['subresource']}"
        allowed, reason = self.state.decide(
            user, attrs.get("verb", ""), resource, attrs.get("namespace", ""), attrs.get("group", ""), groups
        )
        out = {
            "kind": kinds[plural],
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": spec,
            "status": {"allowed": allowed, "reason": reason},
        }
        return web.json_response(out, status=201)
