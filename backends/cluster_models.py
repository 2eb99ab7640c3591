"""What the cluster adapter hands out: small frozen records, free of kubernetes_asyncio types.

Each `*_from` function reads one kubernetes_asyncio model (or, for watch events, the raw JSON) and
passes every free-text string through `clean`, the adapter's redactor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Clean = Callable[[str], str]


@dataclass(frozen=True)
class Node:
    name: str
    ready: bool
    reason: str = ""  # the Ready condition's reason and message when not ready
    kubelet_version: str = ""
    os_image: str = ""
    cpu: str = ""
    memory: str = ""


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    phase: str = ""


class WatchEvent(NamedTuple):
    """Unpacks as `(type, namespace)`; `.type`/`.object` for callers that read events by attribute."""

    type: str  # ADDED / MODIFIED / DELETED
    object: Namespace


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    phase: str
    labels: dict[str, str] = field(default_factory=dict)
    containers: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    #: (container, variable, value) for every env var given as a literal value (redacted)
    env_plain: list[tuple[str, str, str]] = field(default_factory=list)
    service_account: str = ""
    ready: bool = False
    restarts: int = 0


@dataclass(frozen=True)
class Workload:
    """A Deployment or a StatefulSet."""

    kind: str
    name: str
    namespace: str
    replicas: int
    ready: int
    available: int
    images: list[str] = field(default_factory=list)
    #: rollout state: pods on the current template, all pods (old ReplicaSets too), and whether the
    #: controller has seen the current spec (status.observedGeneration >= metadata.generation)
    updated: int = 0
    current: int = 0
    generation_observed: bool = True
    #: the Progressing condition's reason (NewReplicaSetAvailable, ProgressDeadlineExceeded, ...)
    progress: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    namespace: str
    active: int
    succeeded: int
    failed: int
    complete: bool
    images: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    namespace: str
    type: str
    reason: str
    message: str
    object: str  # Kind/name
    count: int
    last_seen: dt.datetime | None


@dataclass(frozen=True)
class ConfigMap:
    name: str
    namespace: str
    data: dict[str, str]


@dataclass(frozen=True)
class NetworkPolicy:
    name: str
    namespace: str
    pod_selector: dict[str, str]  # matchLabels; {} selects every pod
    policy_types: list[str]
    ingress_rules: int
    egress_rules: int


@dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""


@dataclass(frozen=True)
class ClusterRoleBinding:
    name: str
    role: str
    subjects: list[Subject]


@dataclass(frozen=True)
class LogItem:
    """One pod log line, or (`gap`) a note that the stream dropped and was resumed."""

    ts: dt.datetime | None
    line: str
    gap: bool = False
    message: str = ""


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str


def _labels(meta: Any) -> dict[str, str]:
    return dict(meta.labels or {}) if meta is not None else {}


def node_from(obj: Any, clean: Clean) -> Node:
    status = obj.status
    ready = next((c for c in status.conditions or [] if c.type == "Ready"), None)
    is_ready = ready is not None and ready.status == "True"
    reason = "" if is_ready or ready is None else clean(f"{ready.reason or ''}: {ready.message or ''}")
    info = status.node_info
    capacity = status.capacity or {}
    return Node(
        name=obj.metadata.name,
        ready=is_ready,
        reason=reason if ready is not None else "no Ready condition",
        kubelet_version=info.kubelet_version if info else "",
        os_image=info.os_image if info else "",
        cpu=capacity.get("cpu", ""),
        memory=capacity.get("memory", ""),
    )


def namespace_from(obj: Any, clean: Clean) -> Namespace:
    meta = obj.metadata
    return Namespace(
        name=meta.name,
        labels=_labels(meta),
        annotations={k: clean(v) for k, v in (meta.annotations or {}).items()},
        phase=obj.status.phase if obj.status else "",
    )


def namespace_from_json(raw: dict[str, Any], clean: Clean) -> Namespace:
    meta = raw.get("metadata") or {}
    return Namespace(
        name=meta.get("name", ""),
        labels=dict(meta.get("labels") or {}),
        annotations={k: clean(v) for k, v in (meta.get("annotations") or {}).items()},
        phase=(raw.get("status") or {}).get("phase", ""),
    )


def pod_from(obj: Any, clean: Clean) -> Pod:
    spec, status = obj.spec, obj.status
    containers = spec.containers or []
    env = [
        (c.name, e.name, clean(e.value))
        for c in containers
        for e in c.env or []
        if e.value is not None and e.value_from is None
    ]
    statuses = (status.container_statuses or []) if status else []
    return Pod(
        name=obj.metadata.name,
        namespace=obj.metadata.namespace,
        phase=(status.phase or "") if status else "",
        labels=_labels(obj.metadata),
        containers=[c.name for c in containers],
        images=[c.image or "" for c in containers],
        env_plain=env,
        service_account=spec.service_account_name or "",
        ready=bool(statuses) and all(s.ready for s in statuses),
        restarts=sum(s.restart_count for s in statuses),
    )


def workload_from(kind: str, obj: Any) -> Workload:
    status = obj.status
    conditions = (getattr(status, "conditions", None) or []) if status else []
    progress = next((c.reason or "" for c in conditions if c.type == "Progressing"), "")
    observed = getattr(status, "observed_generation", None) if status else None
    generation = obj.metadata.generation
    return Workload(
        kind=kind,
        name=obj.metadata.name,
        namespace=obj.metadata.namespace,
        replicas=obj.spec.replicas or 0,
        ready=(status.ready_replicas or 0) if status else 0,
        available=(getattr(status, "available_replicas", None) or 0) if status else 0,
        images=[c.image or "" for c in obj.spec.template.spec.containers],
        updated=(status.updated_replicas or 0) if status else 0,
        current=(status.replicas or 0) if status else 0,
        generation_observed=generation is None or (observed is not None and observed >= generation),
        progress=progress,
    )


def job_from(obj: Any) -> Job:
    status = obj.status
    conditions = (status.conditions or []) if status else []
    template = obj.spec.template.spec if obj.spec and obj.spec.template else None
    return Job(
        name=obj.metadata.name,
        namespace=obj.metadata.namespace,
        active=(status.active or 0) if status else 0,
        succeeded=(status.succeeded or 0) if status else 0,
        failed=(status.failed or 0) if status else 0,
        complete=any(c.type == "Complete" and c.status == "True" for c in conditions),
        images=[c.image or "" for c in template.containers] if template else [],
        labels=dict(obj.metadata.labels or {}),
    )


def event_from(obj: Any, clean: Clean) -> Event:
    inv = obj.involved_object
    return Event(
        namespace=obj.metadata.namespace or "",
        type=obj.type or "",
        reason=obj.reason or "",
        message=clean(obj.message or ""),
        object=f"{inv.kind}/{inv.name}",
        count=obj.count or 1,
        last_seen=obj.last_timestamp or obj.event_time or obj.first_timestamp,
    )


def config_map_from(obj: Any, clean: Clean) -> ConfigMap:
    data = {k: clean(v) for k, v in (obj.data or {}).items()}
    return ConfigMap(obj.metadata.name, obj.metadata.namespace, data)


def network_policy_from(obj: Any) -> NetworkPolicy:
    spec = obj.spec
    selector = spec.pod_selector.match_labels if spec.pod_selector else None
    return NetworkPolicy(
        name=obj.metadata.name,
        namespace=obj.metadata.namespace,
        pod_selector=dict(selector or {}),
        policy_types=list(spec.policy_types or []),
        ingress_rules=len(spec.ingress or []),
        egress_rules=len(spec.egress or []),
    )


def cluster_role_binding_from(obj: Any) -> ClusterRoleBinding:
    subjects = [Subject(s.kind, s.name, s.namespace or "") for s in obj.subjects or []]
    return ClusterRoleBinding(obj.metadata.name, obj.role_ref.name, subjects)


def parse_log_time(text: str) -> dt.datetime | None:
    """RFC 3339 as the kubelet stamps lines (up to 9 fraction digits; Python keeps 6)."""
    try:
        head, _, frac = text.rstrip("Z").partition(".")
        base = dt.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())
    return base + dt.timedelta(microseconds=int((digits + "000000")[:6])) if digits else base
