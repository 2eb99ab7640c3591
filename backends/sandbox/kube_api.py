"""The sandbox Kubernetes API server: the subset Gate Room reads, as k3s serves it on 127.0.0.1.

HTTPS with the sandbox's own CA; users authenticate with client certificates (CN = user, O =
groups) or bearer tokens, and may impersonate others as RBAC allows (`kubectl auth can-i --as`).
Discovery, server-side printing (Tables) and real JSON shapes, so kubectl and kubernetes_asyncio both
work against it. RBAC on every read, `watch=true` streams with resourceVersion resumption, and pod
logs with follow/sinceTime/timestamps/tailLines. Faults switch single behaviours off, the way a sick
API server (or a wrong certificate) would show them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from backends.pem_memory import pem_paths
from backends.sandbox import kube_discovery as discovery
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.kube_discovery import RESOURCES, Resource
from backends.sandbox.kube_kubeconfig import kubeconfig
from backends.sandbox.kube_pki import (
    Authority,
    Pem,
    client_certificate,
    new_authority,
    server_certificate,
)
from backends.sandbox.kube_seed import OPERATOR_USER
from backends.sandbox.kube_selectors import matches, parse_selector
from backends.sandbox.kube_state import TERMINAL_PHASES, Gone, KubeState, LogLine, WatchEvent
from backends.sandbox.kube_tables import table, wants_table

register(
    "cluster.api-500",
    "cluster",
    "every Kubernetes API call answers 500 Internal Server Error",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.token-expired",
    "cluster",
    "bearer tokens are refused (401 Unauthorized): the kubeconfig's token user, not its certificate",
    [],
)
register(
    "cluster.client-cert-expired",
    "cluster",
    "the kubeconfig's client certificate has expired (the API server refuses it)",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.client-cert-refused",
    "cluster",
    "the kubeconfig's client certificate is signed by a CA the API server does not trust",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.wrong-ca",
    "cluster",
    "the kubeconfig's certificate-authority-data is not the CA that signed the API server",
    ["cluster.api", "cluster.nodes"],
)
register(
    "cluster.server-cert-name",
    "cluster",
    "the API server's certificate is for another name (not 127.0.0.1)",
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
GROUPS = web.RequestKey("groups", tuple[str, ...])
#: the k3s admin that /etc/rancher/k3s/k3s.yaml authenticates as
K3S_ADMIN = ("system:admin", ("system:masters",))
#: the address k3s writes into k3s.yaml; a forward over SSH reaches it
K3S_SERVER = "https://127.0.0.1:6443"
#: lines a followed log sends before the drop fault cuts it
DROP_AFTER = 3
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


def _peer_identity(request: web.Request) -> tuple[str, tuple[str, ...]] | None:
    """CN and O of a client certificate the TLS layer has already verified against the client CA."""
    cert = request.transport.get_extra_info("peercert") if request.transport is not None else None
    if not cert:
        return None
    attrs = [pair for rdn in cert.get("subject", ()) for pair in rdn]
    names = [v for k, v in attrs if k == "commonName"]
    groups = tuple(v for k, v in attrs if k == "organizationName")
    return (names[0], groups) if names else None


def _service_account_groups(user: str) -> tuple[str, ...]:
    parts = user.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        return ("system:serviceaccounts", f"system:serviceaccounts:{parts[2]}")
    return ()


class SandboxKubeApi:
    def __init__(self, state: KubeState, faults: FaultSet, *, slow_s: float = 30.0) -> None:
        self.state = state
        self.faults = faults
        self.slow_s = slow_s  # the api-slow fault's delay: longer than any client timeout in use
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.server_ca = new_authority("k3s-server-ca")
        self.client_ca = new_authority("k3s-client-ca")
        #: signs what the faults make untrustworthy: a foreign CA, a foreign client certificate
        self._stranger = new_authority("k3s-server-ca")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _tls(self) -> ssl.SSLContext:
        if self.faults.active("cluster.server-cert-name"):
            served = server_certificate(self.server_ca, names=("kubernetes.other.test",), ips=("10.43.0.1",))
        else:
            served = server_certificate(self.server_ca)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with pem_paths(served.cert, served.key) as (cert, key):
            ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(cadata=self.client_ca.cert_pem.decode())
        # a client certificate is optional (tokens are fine) but, when sent, must be the client CA's
        ctx.verify_mode = ssl.CERT_OPTIONAL
        # k3s refuses a bad client certificate with a 401 after the handshake; Python's ssl can only
        # refuse it in the handshake, and under TLS 1.3 the client would see that as a bare disconnect.
        # TLS 1.2 delivers the refusal as an alert the client can name.
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        # Handlers stop with the client: a dropped watch or log follow must not linger server-side.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls())
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- kubeconfigs ---------------------------------------------------------------------------------
    def client_pem(self, user: str, groups: tuple[str, ...] = ()) -> Pem:
        """A client certificate for `user`, as the faults would have it."""
        refused = self.faults.active("cluster.client-cert-refused")
        return client_certificate(
            self._stranger if refused else self.client_ca,
            user,
            groups,
            expired=self.faults.active("cluster.client-cert-expired"),
        )

    def _ca_for_clients(self) -> Authority:
        return self._stranger if self.faults.active("cluster.wrong-ca") else self.server_ca

    def kubeconfig_text(
        self,
        *,
        context: str = "default",
        user: str = OPERATOR_USER,
        groups: tuple[str, ...] = (),
        server: str | None = None,
        with_token: bool = True,
    ) -> str:
        return kubeconfig(
            server or self.url,
            self._ca_for_clients().cert_pem,
            self.client_pem(user, groups),
            name=context,
            token=self.state.token_for(user) if with_token and user in self.state.tokens.values() else None,
        )

    def k3s_yaml(self) -> str:
        """What /etc/rancher/k3s/k3s.yaml holds on the VPS: the admin's certificate, k3s's address."""
        user, groups = K3S_ADMIN
        return self.kubeconfig_text(user=user, groups=groups, server=K3S_SERVER, with_token=False)

    def write_kubeconfig(self, path: Path | str, context: str = "sandbox", user: str = OPERATOR_USER) -> Path:
        path = Path(path)
        path.write_text(self.kubeconfig_text(context=context, user=user), encoding="utf-8")
        path.chmod(0o600)
        return path

    # -- faults and authentication, before any handler --------------------------------------------
    def _authenticate(self, request: web.Request) -> tuple[str, tuple[str, ...]] | None:
        peer = _peer_identity(request)
        if peer is not None:
            return peer
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or self.faults.active("cluster.token-expired"):
            return None
        user = self.state.tokens.get(header.removeprefix("Bearer ").strip())
        return (user, ()) if user is not None else None

    def _impersonate(
        self, request: web.Request, user: str, groups: tuple[str, ...]
    ) -> tuple[str, tuple[str, ...]]:
        """`Impersonate-User` / `Impersonate-Group`, allowed only to whom RBAC grants `impersonate`."""
        target = request.headers.get("Impersonate-User")
        if not target:
            return user, groups
        parts = target.split(":")
        if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
            resource, namespace, name = "serviceaccounts", parts[2], parts[3]
        else:
            resource, namespace, name = "users", "", target
        if not self.state.decide(
            user, "impersonate", resource, namespace, "", [*groups, "system:authenticated"]
        )[0]:
            raise ApiFailure(
                403,
                f'{resource} "{name}" is forbidden: User "{user}" cannot impersonate resource "{resource}"',
            )
        extra = tuple(request.headers.getall("Impersonate-Group", []))
        return target, (*_service_account_groups(target), *extra)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.faults.active("cluster.api-slow"):
            await asyncio.sleep(self.slow_s)
        if self.faults.active("cluster.api-500"):
            return _fail(500, "Internal error occurred: etcdserver: request timed out")
        who = self._authenticate(request)
        if who is None:
            return _fail(401, "Unauthorized")
        try:
            user, groups = self._impersonate(request, *who)
            request[USER] = user
            request[GROUPS] = (*groups, "system:authenticated")
            response: web.StreamResponse = await handler(request)
            return response
        except ApiFailure as failure:
            return web.json_response(failure.body, status=failure.body["code"])

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(VERSION)

    def _discovery(self, parts: list[str]) -> web.Response | None:
        doc: dict[str, Any] | None = None
        if parts == ["api"]:
            doc = discovery.api_versions(f"127.0.0.1:{self.port}")
        elif parts == ["api", "v1"]:
            doc = discovery.resource_list("")
        elif parts == ["apis"]:
            doc = discovery.api_group_list()
        elif len(parts) == 2 and parts[0] == "apis" and parts[1] in discovery.GROUPS:
            doc = discovery.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis" and parts[2] == "v1":
            doc = discovery.resource_list(parts[1])
        return web.json_response(doc) if doc is not None else None

    # -- routing -------------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["path"].split("/") if p]
        if request.method == "GET" and (found := self._discovery(parts)) is not None:
            return found
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
            return self._get(request, plural, namespace, name)
        if _truthy(request.query.get("watch")):
            self._authorize(request, "watch", plural, namespace, group)
            return await self._watch(request, plural, namespace or None)
        self._authorize(request, "list", plural, namespace, group)
        return self._list(request, plural, res, namespace or None)

    def _authorize(self, request: web.Request, verb: str, resource: str, namespace: str, group: str) -> None:
        user, groups = request[USER], request.get(GROUPS, ())
        if self.state.decide(user, verb, resource, namespace, group, groups)[0]:
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

    def _get(self, request: web.Request, plural: str, namespace: str, name: str) -> web.Response:
        obj = self.state.get(plural, namespace, name)
        if obj is None:
            raise ApiFailure(404, f'{plural} "{name}" not found')
        if wants_table(request.headers.get("Accept", "")):
            return web.json_response(table(plural, [self._view(plural, obj)], self.state.resource_version))
        return web.json_response(self._view(plural, obj))

    def _list(self, request: web.Request, plural: str, res: Resource, namespace: str | None) -> web.Response:
        selector = parse_selector(request.query.get("labelSelector", ""))
        items = [
            self._view(plural, o)
            for o in self.state.objects(plural, namespace)
            if matches(selector, o["metadata"].get("labels") or {})
        ]
        if wants_table(request.headers.get("Accept", "")):
            return web.json_response(table(plural, items, self.state.resource_version))
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
            own: tuple[str, ...] = request.get(GROUPS, ())
            user, groups = request[USER], list(own)
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
