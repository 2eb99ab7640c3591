"""The cluster adapter: reads of the codex-k8s cluster over kubernetes_asyncio.

Every call is bounded by `settings.timeout` and retried once after a short pause when the failure
is transient (5xx, timeout, dropped connection); a read that timed out is asked again with twice the
patience, since a busy API server answers late rather than not at all, and a dead one is still an
error within three timeouts. Every failure becomes an `AdapterError` with a kind and one line. Free
text from the cluster (log lines, messages, annotations, env values) is redacted here, at the
source. The long-lived streams (namespace watch, pod log follow) live in `backends.cluster_streams`,
over the same client and error mapping.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException

from backends import cluster_streams
from backends.cluster_errors import describe_failure
from backends.cluster_forward import HostForward
from backends.cluster_kubeconfig import (
    KubeconfigProblem,
    api_client,
    certificate_expiry,
    destination,
    kubeconfig_client_cert,
    parse,
)
from backends.cluster_models import (
    Access,
    ClusterRoleBinding,
    ConfigMap,
    Event,
    Job,
    LogItem,
    Namespace,
    NetworkPolicy,
    Node,
    Pod,
    WatchEvent,
    Workload,
    cluster_role_binding_from,
    config_map_from,
    event_from,
    job_from,
    namespace_from,
    network_policy_from,
    node_from,
    pod_from,
    workload_from,
)
from backends.config import ClusterSettings
from backends.errors import AdapterError, ErrorKind
from backends.host import HostAdapter
from backends.leaks import Leak, Scan
from backends.redact import Redactor

T = TypeVar("T")

# The client logs whole response bodies (config maps, logs) at DEBUG, unredacted: keep it quieter.
logging.getLogger("kubernetes_asyncio.client.rest").setLevel(logging.INFO)

RETRIES = 1
#: the retry of a read that timed out waits this many times `settings.timeout`
RETRY_PATIENCE = 2.0
#: k3s writes its admin kubeconfig here, root's, mode 600
K3S_YAML = "/etc/rancher/k3s/k3s.yaml"
BACKOFF_S = 0.2
#: a followed stream with no bytes for this long is reopened (from where it was); not a total limit
STREAM_IDLE_S = 300.0


#: how long the attempt under way may take: `settings.timeout`, or more on the retry of a read
_patience: contextvars.ContextVar[float | None] = contextvars.ContextVar("cluster_patience", default=None)


def _opts(**kwargs: Any) -> dict[str, Any]:
    """Optional query parameters, leaving out the unset ones (the client's stubs take no None)."""
    return {k: v for k, v in kwargs.items() if v not in (None, "")}


def _config_reason(exc: Exception) -> str:
    """The loader's complaint without the file's content (its messages can quote a whole user entry)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "Expected key" in text or "Invalid kube-config" in text:
        text = text.split(" in ", 1)[0]
    return text[:200]


class ClusterAdapter:
    def __init__(
        self,
        settings: ClusterSettings,
        redactor: Redactor | None = None,
        *,
        stream_idle: float = STREAM_IDLE_S,
        host: HostAdapter | None = None,
    ) -> None:
        self.settings = settings
        self.redactor = redactor
        self.stream_idle = stream_idle
        #: the host whose SSH connection carries the API (`via_host`)
        self.host = host
        self.forward: HostForward | None = None
        self._api: client.ApiClient | None = None
        self._server = ""
        self._context = settings.context or ""
        self._lock = asyncio.Lock()
        #: the client certificate's notAfter (None: no client certificate), to name a refusal
        self._cert_expiry: dt.datetime | None = None
        self._forward_listeners: list[Callable[[str], None]] = []

    # -- connection ----------------------------------------------------------------------------------
    @property
    def target(self) -> str:
        return f"cluster {self._context}" if self._context else "cluster"

    def describe(self) -> str:
        where = self._server or "(not connected)"
        return f"{where} (context {self._context})" if self._context else where

    @property
    def route(self) -> str:
        """How the API is reached, for the operator: directly, or through a host's SSH connection."""
        if self.settings.via_host is None:
            return "direct"
        source = (
            f"k3s.yaml read over SSH from {self.settings.via_host}"
            if self.settings.kubeconfig_on_host
            else ""
        )
        via = f"SSH port forward over {self.settings.via_host}"
        return f"{via}, {source}" if source else via

    def kubeconfig_path(self) -> Path:
        if self.settings.kubeconfig is not None:
            return Path(self.settings.kubeconfig)
        env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        return Path(env or "~/.kube/config").expanduser()

    async def __aenter__(self) -> ClusterAdapter:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        async with self._lock:
            if self._api is not None:
                return
            api = await self._load()
            self._api = api
            self._server = str(api.configuration.host)
        try:
            await self.version()
        except AdapterError:
            await self.aclose()
            raise

    async def _load(self) -> client.ApiClient:
        if self.settings.in_cluster:
            cfg = client.Configuration()
            try:
                config.load_incluster_config(client_configuration=cfg)
            except ConfigException as exc:
                raise self._error(ErrorKind.LOCAL, f"no in-cluster service account: {exc}") from None
            self._context = self._context or "in-cluster"
            return client.ApiClient(configuration=cfg)
        if self.settings.kubeconfig_on_host:
            return await self._load_from_host()
        path = self.kubeconfig_path()
        if not path.is_file():
            raise self._error(ErrorKind.LOCAL, f"kubeconfig {path} not found")
        cfg = client.Configuration()
        try:
            _, current = config.list_kube_config_contexts(str(path))
            self._context = self.settings.context or (current or {}).get("name", "")
            await config.load_kube_config(
                config_file=str(path),
                context=self.settings.context,
                client_configuration=cfg,
                persist_config=False,
            )
        except Exception as exc:  # a malformed file fails in yaml, in the loader, or on a missing key
            reason = _config_reason(exc)
            raise self._error(
                ErrorKind.LOCAL, self.clean(f"kubeconfig {path} cannot be used: {reason}")
            ) from None
        self._cert_expiry = certificate_expiry(
            kubeconfig_client_cert(path.read_text(encoding="utf-8", errors="replace"), self.settings.context)
        )
        if self.settings.via_host is not None:
            name, port = destination(str(cfg.host))
            cfg.host = f"https://127.0.0.1:{await self._forward(name, port)}"
            if not name.replace(".", "").isdigit() and ":" not in name:
                cfg.tls_server_name = cfg.tls_server_name or name
        return client.ApiClient(configuration=cfg)

    def _via(self) -> HostAdapter:
        if self.host is None:
            raise self._error(ErrorKind.LOCAL, f"via_host {self.settings.via_host!r} has no SSH connection")
        return self.host

    def subscribe_forward(self, listener: Callable[[str], None]) -> None:
        """Told, one line each, when the port forward drops and when it is re-made."""
        self._forward_listeners.append(listener)
        if self.forward is not None:
            self.forward.subscribe(listener)

    async def _forward(self, dest_host: str, dest_port: int) -> int:
        if self.forward is None:
            self.forward = HostForward(self._via(), dest_host, dest_port)
            for listener in self._forward_listeners:
                self.forward.subscribe(listener)
        return await self.forward.start()

    async def _load_from_host(self) -> client.ApiClient:
        """k3s.yaml over SSH with sudo: parsed in memory, its secrets redacted from here on."""
        host = self._via()
        result = await host.run(f"sudo -n cat {K3S_YAML}", raw=True)
        if not result.ok:
            why = (result.stderr.strip().splitlines() or [f"exit status {result.exit_status}"])[0]
            raise self._error(ErrorKind.LOCAL, self.clean(f"cannot read {K3S_YAML} on {host.name}: {why}"))
        try:
            creds = parse(result.stdout, self.settings.context)
        except KubeconfigProblem as exc:
            raise self._error(ErrorKind.LOCAL, f"{K3S_YAML} on {host.name} cannot be used: {exc}") from None
        if self.redactor is not None:
            for secret in creds.secrets():
                self.redactor.add_secret(secret)
        self._context = creds.context
        self._cert_expiry = certificate_expiry(creds.cert)
        port = await self._forward(*destination(creds.server))
        return api_client(creds, f"https://127.0.0.1:{port}")

    async def aclose(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            await api.close()
        forward, self.forward = self.forward, None
        if forward is not None:
            await forward.aclose()

    @property
    def api(self) -> client.ApiClient:
        if self._api is None:
            raise self._error(ErrorKind.LOCAL, "not connected (call connect() first)")
        return self._api

    # -- errors and calls ----------------------------------------------------------------------------
    def _error(self, kind: ErrorKind, message: str) -> AdapterError:
        return AdapterError(kind, message, target=self.target)

    def clean(self, text: str) -> str:
        return self.redactor.redact(text) if self.redactor is not None and text else text

    def translate(self, exc: BaseException, what: str) -> AdapterError:
        """Any failure of a call to the API server as one typed line."""
        if isinstance(exc, AdapterError):
            return exc
        kind, message = describe_failure(
            exc, server=self._server, timeout=self.settings.timeout, client_cert_expiry=self._cert_expiry
        )
        return self._error(kind, self.clean(f"{what}: {message}"))

    @property
    def request_timeout(self) -> float:
        """The bound of the request under way (`_request_timeout` of the client's calls)."""
        return _patience.get() or self.settings.timeout

    async def call(self, what: str, fn: Callable[[], Awaitable[T]], *, retry: bool = True) -> T:
        """`retry` is for reads only (access reviews included: they change nothing); a write whose
        answer timed out may have happened, so it must not be sent again."""
        attempts = 1 + (RETRIES if retry else 0)
        patience = self.settings.timeout
        for attempt in range(1, attempts + 1):
            token = _patience.set(patience)
            try:
                if self.forward is not None:
                    await self.forward.ready(self.settings.timeout)
                async with asyncio.timeout(patience):
                    return await fn()
            except Exception as exc:
                err = self.translate(exc, what)
                # through a forward, a refused or dropped connection is the SSH link being re-made
                forwarded = self.forward is not None and err.kind in {
                    ErrorKind.UNREACHABLE,
                    ErrorKind.DROPPED,
                }
                if attempt < attempts and (err.transient or forwarded):
                    if err.kind is ErrorKind.TIMEOUT:
                        patience = self.settings.timeout * RETRY_PATIENCE
                    await asyncio.sleep(BACKOFF_S * attempt)
                    continue
                if err.kind is ErrorKind.TIMEOUT and patience > self.settings.timeout:
                    again = (
                        f"no answer within {self.settings.timeout:g}s, nor within {patience:g}s on a retry"
                    )
                    err = self._error(err.kind, self.clean(f"{what}: {again}"))
                raise err from None
            finally:
                _patience.reset(token)
        raise AssertionError("unreachable")

    @property
    def _kw(self) -> dict[str, Any]:
        return {"_request_timeout": self.request_timeout}

    def _core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    # -- reads ---------------------------------------------------------------------------------------
    async def version(self) -> str:
        info = await self.call("GET /version", lambda: client.VersionApi(self.api).get_code(**self._kw))
        return str(info.git_version)

    async def nodes(self) -> list[Node]:
        res = await self.call("list nodes", lambda: self._core().list_node(**self._kw))
        return [node_from(n, self.clean) for n in res.items]

    async def namespaces(self, label_selector: str = "") -> list[Namespace]:
        res = await self.call(
            "list namespaces",
            lambda: self._core().list_namespace(**_opts(label_selector=label_selector), **self._kw),
        )
        return [namespace_from(n, self.clean) for n in res.items]

    async def list_namespaces(self, label_selector: str | None = "") -> list[Namespace]:
        return await self.namespaces(label_selector or "")

    def watch_namespaces(self, label_selector: str | None = "") -> AsyncIterator[WatchEvent]:
        """(type, namespace) for every change; re-lists and resumes by itself after a drop."""
        return cluster_streams.watch_namespaces(self, label_selector or "")

    async def pods(self, namespace: str, label_selector: str | None = "") -> list[Pod]:
        res = await self.call(
            f"list pods in {namespace}",
            lambda: self._core().list_namespaced_pod(
                namespace, **_opts(label_selector=label_selector), **self._kw
            ),
        )
        return [pod_from(p, self.clean) for p in res.items]

    async def list_pods(self, namespace: str, label_selector: str | None = "") -> list[Pod]:
        return await self.pods(namespace, label_selector)

    async def pod_phase(self, namespace: str, pod: str) -> str:
        obj = await self.call(
            f"read pod {namespace}/{pod}",
            lambda: self._core().read_namespaced_pod(pod, namespace, **self._kw),
        )
        return str(obj.status.phase or "") if obj.status else ""

    async def deployments(self, namespace: str) -> list[Workload]:
        apps = client.AppsV1Api(self.api)
        res = await self.call(
            f"list deployments in {namespace}", lambda: apps.list_namespaced_deployment(namespace, **self._kw)
        )
        return [workload_from("Deployment", d) for d in res.items]

    async def statefulsets(self, namespace: str) -> list[Workload]:
        apps = client.AppsV1Api(self.api)
        res = await self.call(
            f"list statefulsets in {namespace}",
            lambda: apps.list_namespaced_stateful_set(namespace, **self._kw),
        )
        return [workload_from("StatefulSet", s) for s in res.items]

    async def jobs(self, namespace: str) -> list[Job]:
        batch = client.BatchV1Api(self.api)
        res = await self.call(
            f"list jobs in {namespace}", lambda: batch.list_namespaced_job(namespace, **self._kw)
        )
        return [job_from(j) for j in res.items]

    async def events(self, namespace: str) -> list[Event]:
        res = await self.call(
            f"list events in {namespace}", lambda: self._core().list_namespaced_event(namespace, **self._kw)
        )
        return [event_from(e, self.clean) for e in res.items]

    async def config_maps(self, namespace: str) -> list[ConfigMap]:
        res = await self.call(
            f"list configmaps in {namespace}",
            lambda: self._core().list_namespaced_config_map(namespace, **self._kw),
        )
        return [config_map_from(c, self.clean) for c in res.items]

    async def network_policies(self, namespace: str) -> list[NetworkPolicy]:
        net = client.NetworkingV1Api(self.api)
        res = await self.call(
            f"list networkpolicies in {namespace}",
            lambda: net.list_namespaced_network_policy(namespace, **self._kw),
        )
        return [network_policy_from(p) for p in res.items]

    async def cluster_role_bindings(self) -> list[ClusterRoleBinding]:
        rbac = client.RbacAuthorizationV1Api(self.api)
        res = await self.call("list clusterrolebindings", lambda: rbac.list_cluster_role_binding(**self._kw))
        return [cluster_role_binding_from(b) for b in res.items]

    # -- logs ----------------------------------------------------------------------------------------
    async def read_pod_log(
        self, namespace: str, pod: str, container: str | None = None, tail_lines: int | None = None
    ) -> str:
        text = await self.call(
            f"read log of {namespace}/{pod}",
            lambda: self._core().read_namespaced_pod_log(
                pod, namespace, **_opts(container=container, tail_lines=tail_lines), **self._kw
            ),
        )
        return self.clean(str(text))

    def follow_pod_log(
        self, namespace: str, pod: str, container: str | None = None
    ) -> AsyncIterator[LogItem]:
        """Lines as they are written; after a drop, a gap item, then the lines from where it broke."""
        return cluster_streams.follow_pod_log(self, namespace, pod, container)

    # -- leak scans: raw text goes to `scan` as it arrives and no further (see backends.leaks) ----------
    async def pod_log_leaks(self, namespace: str, pod: Pod, scan: Scan) -> list[Leak]:
        out: list[Leak] = []
        several = len(pod.containers) > 1
        for container in pod.containers if several else [""]:
            text = await self._raw_log(namespace, pod.name, container)
            where = f"{namespace}/{pod.name}" + (f" [{container}]" if several else "")
            out += scan(text, "pod-log", where)
        return out

    async def _raw_log(self, namespace: str, pod: str, container: str) -> str:
        text = await self.call(
            f"read log of {namespace}/{pod}",
            lambda: self._core().read_namespaced_pod_log(
                pod, namespace, **_opts(container=container), **self._kw
            ),
        )
        return str(text)

    async def event_leaks(self, namespace: str, scan: Scan) -> list[Leak]:
        res = await self.call(
            f"list events in {namespace}", lambda: self._core().list_namespaced_event(namespace, **self._kw)
        )
        out: list[Leak] = []
        for e in res.items:
            inv = e.involved_object
            out += scan(e.message or "", "event", f"{namespace} {e.reason or ''} on {inv.kind}/{inv.name}")
        return out

    async def config_map_leaks(self, namespace: str, scan: Scan) -> list[Leak]:
        res = await self.call(
            f"list configmaps in {namespace}",
            lambda: self._core().list_namespaced_config_map(namespace, **self._kw),
        )
        out: list[Leak] = []
        for cm in res.items:
            for key, value in (cm.data or {}).items():
                # the key goes with the value: `github_token: ghp_…` and `API_KEY=…` are both findings
                out += scan(f"{key}: {value}", "configmap", f"{namespace}/{cm.metadata.name} key {key}")
        return out

    async def plain_env_leaks(self, namespace: str, scan: Scan) -> list[Leak]:
        """Env vars given as literal values (not secretKeyRef) that carry a secret, by name or by shape."""
        res = await self.call(
            f"list pods in {namespace}", lambda: self._core().list_namespaced_pod(namespace, **self._kw)
        )
        out: list[Leak] = []
        for p in res.items:
            for c in p.spec.containers or []:
                for e in c.env or []:
                    if e.value is None or e.value_from is not None:
                        continue
                    where = f"{namespace}/{p.metadata.name} [{c.name}] env {e.name}"
                    out += scan(f"{e.name}={e.value}", "env", where)
        return out

    # -- access reviews ------------------------------------------------------------------------------
    @staticmethod
    def _attributes(verb: str, resource: str, namespace: str, group: str) -> client.V1ResourceAttributes:
        """`pods/log` is the resource `pods` with the subresource `log`, as the API server expects it."""
        base, _, sub = resource.partition("/")
        return client.V1ResourceAttributes(
            verb=verb, resource=base, subresource=sub or None, namespace=namespace, group=group
        )

    async def can_i(self, verb: str, resource: str, namespace: str, group: str = "") -> Access:
        """Whether this kubeconfig's user may do it (SelfSubjectAccessReview)."""
        attrs = self._attributes(verb, resource, namespace, group)
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs)
        )
        auth = client.AuthorizationV1Api(self.api)
        res = await self.call(
            f"can-i {verb} {resource} in {namespace or 'the cluster'}",
            lambda: auth.create_self_subject_access_review(body, **self._kw),
        )
        return Access(bool(res.status.allowed), self.clean(res.status.reason or ""))

    async def can(self, user: str, verb: str, resource: str, namespace: str, group: str = "") -> Access:
        """Whether `user` (e.g. system:serviceaccount:<ns>:<sa>) may do it (SubjectAccessReview)."""
        attrs = self._attributes(verb, resource, namespace, group)
        body = client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=attrs)
        )
        auth = client.AuthorizationV1Api(self.api)
        res = await self.call(
            f"can {user} {verb} {resource} in {namespace or 'the cluster'}",
            lambda: auth.create_subject_access_review(body, **self._kw),
        )
        return Access(bool(res.status.allowed), self.clean(res.status.reason or ""))
