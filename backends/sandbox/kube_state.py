"""The sandbox cluster's state: API objects by kind, a resourceVersion clock, watch fan-out, pod logs, RBAC.

Objects are kept as the JSON the API serves. Every change takes the next resourceVersion and is
broadcast to the watchers of its kind; a short history per kind lets a watch resume from a version
it has seen (older than the history answers 410 Gone, as a real API server does after compaction).
The platform simulation calls the public methods synchronously from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import secrets
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from backends.sandbox import kodex_images as images
from backends.sandbox import kube_seed as seed
from backends.sandbox import platform as _platform  # noqa: F401  registers the platform faults read here
from backends.sandbox.faults import FaultSet, register

register(
    "cluster.netpol-missing",
    "cluster",
    "run namespaces get no kodex-default-deny-all network policy",
    ["sec.netpol"],
)
register(
    "cluster.agent-cluster-admin",
    "cluster",
    "a ClusterRoleBinding grants cluster-admin to the agent account of a slot namespace",
    ["sec.rbac-cluster-admin"],
)
register(
    "cluster.secret-in-configmap",
    "cluster",
    "the kodex-config ConfigMap carries a GitHub token",
    ["sec.leaks-cluster"],
)
register(
    "cluster.secret-in-event",
    "cluster",
    "an image-pull event quotes a registry bearer token",
    ["sec.leaks-cluster"],
)
register(
    "cluster.secret-env-plain",
    "cluster",
    "the worker gets its OpenAI key as a plain env value instead of a secretKeyRef",
    ["sec.secret-env"],
)

Obj = dict[str, Any]
HISTORY = 500
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class NamespaceView:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED / MODIFIED / DELETED
    obj: Obj


class Gone(Exception):
    """The asked resourceVersion is older than the kept history."""


LogLine = tuple[dt.datetime, str]


@dataclass
class PodLog:
    lines: list[LogLine] = field(default_factory=list)
    #: live followers; None tells a follower the log has ended
    followers: set[asyncio.Queue[LogLine | None]] = field(default_factory=set)
    finished: bool = False


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rule_allows(rule: Obj, verb: str, resource: str, group: str | None) -> bool:
    def has(values: Iterable[str], wanted: str) -> bool:
        return "*" in values or wanted in values

    groups_ok = group is None or has(rule.get("apiGroups", []), group)
    return groups_ok and has(rule.get("verbs", []), verb) and has(rule.get("resources", []), resource)


def _subject_matches(subject: Obj, user: str, groups: Iterable[str]) -> bool:
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return user == f"system:serviceaccount:{subject.get('namespace')}:{name}"
    if kind == "Group":
        return name in groups
    return kind == "User" and name == user


class KubeState:
    def __init__(self, faults: FaultSet, *, production_namespace: str = "kodex-prod") -> None:
        self.faults = faults
        self.production_namespace = production_namespace
        #: bearer token -> user; the kubeconfig the API server writes authenticates as one of these
        self.tokens = {secrets.token_hex(24): seed.OPERATOR_USER, secrets.token_hex(24): seed.VIEWER_USER}
        self._rv = 0
        self._objects: dict[str, dict[tuple[str, str], Obj]] = defaultdict(dict)
        self._history: dict[str, deque[WatchEvent]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self._evicted: dict[str, int] = defaultdict(int)
        self._watchers: dict[str, set[asyncio.Queue[WatchEvent]]] = defaultdict(set)
        self._logs: dict[tuple[str, str], PodLog] = {}
        self._last_log_ts = now()
        #: secret values the leak faults plant (tests grep every output for them)
        self.planted: dict[str, str] = {
            "configmap": "ghp_" + secrets.token_hex(18),
            "event": "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(24) + "." + secrets.token_urlsafe(16),
            "env": "sk-proj-9" + secrets.token_urlsafe(36),
        }
        self._seed()

    def token_for(self, user: str) -> str:
        return next(t for t, u in self.tokens.items() if u == user)

    # -- the generic store ---------------------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        obj = self._objects[kind].get((namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def objects(self, kind: str, namespace: str | None = None) -> list[Obj]:
        items = self._objects[kind]
        keys = sorted(k for k in items if namespace is None or k[0] == namespace)
        return [copy.deepcopy(items[k]) for k in keys]

    def put(self, kind: str, obj: Obj) -> Obj:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old = self._objects[kind].get(key)
        if old is None:
            meta.setdefault("uid", secrets.token_hex(16))
            meta.setdefault("creationTimestamp", iso(now()))
        else:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._objects[kind][key] = obj
        self._broadcast(kind, "ADDED" if old is None else "MODIFIED", obj)
        return obj

    def remove(self, kind: str, namespace: str, name: str) -> None:
        obj = self._objects[kind].pop((namespace, name), None)
        if obj is None:
            return
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._broadcast(kind, "DELETED", obj)
        if kind == "pods":
            self._end_log(namespace, name)

    def _broadcast(self, kind: str, etype: str, obj: Obj) -> None:
        event = WatchEvent(self._rv, etype, copy.deepcopy(obj))
        history = self._history[kind]
        if len(history) == history.maxlen:
            self._evicted[kind] = history[0].rv
        history.append(event)
        for queue in self._watchers[kind]:
            queue.put_nowait(event)

    def watch(self, kind: str, since: int | None) -> tuple[list[WatchEvent], asyncio.Queue[WatchEvent]]:
        """Events to send first (from `since`, or the current objects as ADDED), and a live queue."""
        if since:
            if since < self._evicted[kind]:
                raise Gone(f"too old resource version: {since} ({self._evicted[kind] + 1})")
            backlog = [e for e in self._history[kind] if e.rv > since]
        else:
            backlog = [
                WatchEvent(int(o["metadata"]["resourceVersion"]), "ADDED", o) for o in self.objects(kind)
            ]
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self._watchers[kind].add(queue)
        return backlog, queue

    def unwatch(self, kind: str, queue: asyncio.Queue[WatchEvent]) -> None:
        self._watchers[kind].discard(queue)

    # -- RBAC ----------------------------------------------------------------------------------------
    def decide(
        self,
        user: str,
        verb: str,
        resource: str,
        namespace: str,
        group: str | None = None,
        groups: Iterable[str] = (),
    ) -> tuple[bool, str]:
        """Whether RBAC allows it, and the API server's reason text for an allow."""
        groups = list(groups)
        bindings = [("ClusterRoleBinding", b) for b in self._objects["clusterrolebindings"].values()]
        if namespace:
            bindings += [("RoleBinding", b) for b in self.objects("rolebindings", namespace)]
        for binding_kind, b in bindings:
            subject = next((s for s in b.get("subjects", []) if _subject_matches(s, user, groups)), None)
            if subject is None:
                continue
            ref = b["roleRef"]
            role_ns = "" if ref["kind"] == "ClusterRole" else namespace
            role = self._objects["clusterroles" if ref["kind"] == "ClusterRole" else "roles"].get(
                (role_ns, ref["name"])
            )
            if role and any(_rule_allows(r, verb, resource, group) for r in role.get("rules", [])):
                where = f'"{b["metadata"]["name"]}"' + (
                    f' in namespace "{namespace}"' if binding_kind == "RoleBinding" else ""
                )
                return True, (
                    f'RBAC: allowed by {binding_kind} {where} of {ref["kind"]} "{ref["name"]}" '
                    f'to {subject["kind"]} "{subject["name"]}"'
                )
        return False, ""

    def allowed(self, user: str, verb: str, resource: str, namespace: str) -> bool:
        return self.decide(user, verb, resource, namespace)[0]

    # -- namespaces ----------------------------------------------------------------------------------
    def create_namespace(self, name: str, labels: dict[str, str], annotations: dict[str, str]) -> None:
        labels = {**labels, "kubernetes.io/metadata.name": name}
        obj = {"metadata": seed.meta(name, None, labels, **annotations), "status": {"phase": "Active"}}
        self.put("namespaces", obj)

    def update_namespace(
        self, name: str, *, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
    ) -> None:
        obj = self.get("namespaces", "", name)
        if obj is None:
            raise KeyError(name)
        obj["metadata"]["labels"].update(labels or {})
        obj["metadata"]["annotations"].update(annotations or {})
        self.put("namespaces", obj)

    def namespace_exists(self, name: str) -> bool:
        return ("", name) in self._objects["namespaces"]

    def delete_namespace(self, name: str) -> None:
        """Terminating first (watchers see it), then the contents and the namespace go."""
        obj = self.get("namespaces", "", name)
        if obj is None:
            return
        obj["status"] = {"phase": "Terminating"}
        obj["metadata"]["deletionTimestamp"] = iso(now())
        self.put("namespaces", obj)
        for kind, items in self._objects.items():
            if kind == "namespaces":
                continue
            for ns, item in [k for k in items if k[0] == name]:
                self.remove(kind, ns, item)
        self.remove("namespaces", "", name)

    def namespaces_with(self, labels: dict[str, str]) -> list[NamespaceView]:
        out = []
        for obj in self._objects["namespaces"].values():
            meta = obj["metadata"]
            if all(meta["labels"].get(k) == v for k, v in labels.items()):
                out.append(NamespaceView(meta["name"], dict(meta["labels"]), dict(meta["annotations"])))
        return sorted(out, key=lambda n: n.name)

    def seed_run_namespace(self, name: str) -> None:
        reads = self.faults.active("platform.agent-reads-secrets")
        deny = not self.faults.active("cluster.netpol-missing")
        for kind, obj in seed.run_namespace(
            name, self.production_namespace, agent_reads_secrets=reads, default_deny=deny
        ):
            self.put(kind, obj)

    # -- pods and their logs -------------------------------------------------------------------------
    def create_pod(self, namespace: str, name: str, labels: dict[str, str], phase: str) -> None:
        containers = seed.agent_containers(namespace, self.production_namespace)
        obj = seed.pod(namespace, name, labels, phase, containers, iso(now()))
        obj["spec"]["serviceAccountName"] = seed.RUNNER_SA
        self._logs[(namespace, name)] = PodLog()
        self.put("pods", obj)
        self._event(namespace, "Pod", name, "Started", "Started container agent")

    def create_run_workload(
        self, namespace: str, name: str, labels: dict[str, str], env: dict[str, str], *, sa: str, job: bool
    ) -> str:
        """The agent's workload as joblauncher/launcher.go makes it: a Job `name` whose pod runs the
        container `run` (or a bare Pod for ai-repair and discussion runs); returns the pod's name."""
        container = {
            "name": "run",
            "image": images.deployed_ref("agent-runner"),
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "imagePullPolicy": "IfNotPresent",
        }
        pod_name, pod_labels = name, dict(labels)
        if job:
            self.put(
                "jobs",
                {
                    "metadata": seed.meta(name, namespace, labels),
                    "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": labels}}},
                    "status": {"active": 1, "startTime": iso(now())},
                },
            )
            pod_name = f"{name}-{secrets.token_hex(3)}"
            pod_labels["job-name"] = name
        obj = seed.pod(namespace, pod_name, pod_labels, "Running", [container], iso(now()))
        obj["spec"]["serviceAccountName"] = sa
        obj["spec"]["restartPolicy"] = "Never"
        self._logs[(namespace, pod_name)] = PodLog()
        self.put("pods", obj)
        self._event(namespace, "Pod", pod_name, "Started", "Started container run")
        return pod_name

    def ensure_readonly_runner(self, namespace: str) -> None:
        """joblauncher/runtime_namespace.go: the production read-only runner, made at the first
        postdeploy/ops run (get/list/watch and pods/log, no secrets)."""
        if self.get("serviceaccounts", namespace, "codex-runner-readonly") is not None:
            return
        name = "codex-runner-readonly"
        rules = [
            seed.rule(
                ["pods", "services", "configmaps", "events", "endpoints"], ["get", "list", "watch"], [""]
            ),
            seed.rule(["pods/log"], ["get"], [""]),
            seed.rule(["deployments", "statefulsets", "replicasets"], ["get", "list", "watch"], ["apps"]),
            seed.rule(["jobs"], ["get", "list", "watch"], ["batch"]),
        ]
        self.put("serviceaccounts", {"metadata": seed.meta(name, namespace)})
        self.put("roles", seed.role(namespace, name, rules))
        self.put(
            "rolebindings", seed.binding(namespace, name, "Role", name, [seed.sa_subject(namespace, name)])
        )

    def finish_job(self, namespace: str, name: str, succeeded: bool) -> None:
        obj = self.get("jobs", namespace, name)
        if obj is None:
            return
        obj["status"] = {**obj.get("status", {}), **seed.job_status(succeeded)}
        obj["status"].pop("active", None)
        self.put("jobs", obj)

    # -- what the runtime deploy applies: build and migration Jobs, Deployment rollouts ----------------
    def run_job(self, obj: Obj, log: list[str]) -> str:
        """Apply a Job as the runtime deploy does (a previous one of the same name is deleted first)
        and start its pod with `log`; returns the pod's name."""
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        for pod in self.objects("pods", namespace):
            if pod["metadata"]["labels"].get("job-name") == name:
                self.remove("pods", namespace, pod["metadata"]["name"])
        self.remove("jobs", namespace, name)
        obj.setdefault("status", {})["active"] = 1
        obj["status"]["startTime"] = iso(now())
        self.put("jobs", obj)
        template = obj["spec"]["template"]
        labels = {**template.get("metadata", {}).get("labels", {}), "job-name": name}
        pod_name = f"{name}-{secrets.token_hex(3)}"
        pod = seed.pod(namespace, pod_name, labels, "Running", template["spec"]["containers"], iso(now()))
        pod["spec"]["restartPolicy"] = "Never"
        self._logs[(namespace, pod_name)] = PodLog()
        self.put("pods", pod)
        for line in log:
            self.append_pod_log(namespace, pod_name, line)
        return pod_name

    def end_job(self, namespace: str, name: str, pod: str, succeeded: bool, log: Iterable[str] = ()) -> None:
        for line in log:
            self.append_pod_log(namespace, pod, line)
        if self.get("pods", namespace, pod) is not None:
            self.set_pod_phase(namespace, pod, "Succeeded" if succeeded else "Failed")
        self.finish_job(namespace, name, succeeded)

    def start_rollout(self, namespace: str, name: str, image: str) -> str:
        """A Deployment's pod template gets a new image: the controller starts a pod of the new
        ReplicaSet beside the old one (maxUnavailable 0). Returns the new pod's name."""
        obj = self.get("deployments", namespace, name)
        if obj is None:
            raise KeyError(f"{namespace}/{name}")
        generation = int(obj["metadata"].get("generation", 1)) + 1
        obj["metadata"]["generation"] = generation
        containers = obj["spec"]["template"]["spec"]["containers"]
        containers[0]["image"] = image
        replicas = int(obj["spec"].get("replicas", 1))
        obj["status"] = {
            "observedGeneration": generation,
            "replicas": replicas + 1,
            "updatedReplicas": 1,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "unavailableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
            ],
        }
        self.put("deployments", obj)
        template_hash = hashlib.sha1(image.encode()).hexdigest()[:10]
        pod_name = f"{name}-{template_hash}-{secrets.token_hex(3)[:5]}"
        labels = {"app": name, "pod-template-hash": template_hash}
        pod = seed.pod(namespace, pod_name, labels, "Pending", [dict(c) for c in containers], iso(now()))
        self._logs[(namespace, pod_name)] = PodLog()
        self.put("pods", pod)
        return pod_name

    def finish_rollout(self, namespace: str, name: str, pod: str) -> None:
        """The new pod is ready: the old ReplicaSet's pods go and the Deployment is rolled out."""
        self.set_pod_phase(namespace, pod, "Running")
        for line in seed.PROD_LOGS.get(name, [f'level=info msg="{name} started"']):
            self.append_pod_log(namespace, pod, line)
        for old in self.objects("pods", namespace):
            labels = old["metadata"]["labels"]
            if labels.get("app") == name and old["metadata"]["name"] != pod:
                self.remove("pods", namespace, old["metadata"]["name"])
        obj = self.get("deployments", namespace, name)
        if obj is None:
            return
        replicas = int(obj["spec"].get("replicas", 1))
        obj["status"] = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        }
        self.put("deployments", obj)
        self._event(
            namespace, "Deployment", name, "ScalingReplicaSet", f"Scaled down old replica set of {name}"
        )

    def stall_rollout(self, namespace: str, name: str, pod: str, message: str) -> None:
        """The new pod never becomes ready; after progressDeadlineSeconds the controller says so."""
        obj = self.get("pods", namespace, pod)
        if obj is not None:
            for cs in obj["status"].get("containerStatuses", []):
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
                cs["restartCount"] = 4
            self.put("pods", obj)
            self.append_pod_log(namespace, pod, message)
        dep = self.get("deployments", namespace, name)
        if dep is not None:
            dep["status"]["conditions"][1] = {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": f'ReplicaSet "{pod.rsplit("-", 1)[0]}" has timed out progressing.',
            }
            self.put("deployments", dep)
        self._event(namespace, "Pod", pod, "BackOff", "Back-off restarting failed container")

    def set_pod_phase(self, namespace: str, name: str, phase: str) -> None:
        obj = self.get("pods", namespace, name)
        if obj is None:
            raise KeyError(f"{namespace}/{name}")
        status = obj["status"]
        status["phase"] = phase
        running = phase == "Running"
        status["conditions"] = [{"type": "Ready", "status": "True" if running else "False"}]
        for cs in status.get("containerStatuses", []):
            cs["ready"] = cs["started"] = running
            if phase in TERMINAL_PHASES:
                code = 0 if phase == "Succeeded" else 1
                cs["state"] = {
                    "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}
                }
        self.put("pods", obj)
        if phase in TERMINAL_PHASES:
            self._end_log(namespace, name)

    def pod_log(self, namespace: str, name: str) -> PodLog | None:
        return self._logs.get((namespace, name))

    def append_pod_log(self, namespace: str, pod: str, line: str) -> None:
        log = self._logs.setdefault((namespace, pod), PodLog())
        # Strictly increasing stamps: a resumed follow (sinceTime) can then tell old lines from new.
        ts = max(now(), self._last_log_ts + dt.timedelta(microseconds=1))
        self._last_log_ts = ts
        log.lines.append((ts, line))
        for queue in log.followers:
            queue.put_nowait((ts, line))

    def _end_log(self, namespace: str, pod: str) -> None:
        log = self._logs.get((namespace, pod))
        if log is None or log.finished:
            return
        log.finished = True
        for queue in log.followers:
            queue.put_nowait(None)

    def _event(self, namespace: str, kind: str, obj: str, reason: str, message: str) -> None:
        name = f"{obj}.{secrets.token_hex(4)}"
        self.put("events", seed.event(namespace, name, kind, obj, reason, message, iso(now())))

    # -- the cluster as bootstrap leaves it ----------------------------------------------------------
    def _seed(self) -> None:
        ns = self.production_namespace
        for kind, obj in seed.production(ns, iso(now())):
            self.put(kind, obj)
        self._seed_faults(ns)
        for pod in self.objects("pods", ns):
            app = pod["metadata"]["labels"].get("app", "")
            self._logs[(ns, pod["metadata"]["name"])] = PodLog()
            for line in seed.PROD_LOGS.get(app, [f'level=info msg="{app} started"']):
                self.append_pod_log(ns, pod["metadata"]["name"], line)

    def _seed_faults(self, ns: str) -> None:
        """The security faults that live in the cluster's objects rather than in the platform's behaviour."""
        if self.faults.active("cluster.agent-cluster-admin"):
            subject = seed.sa_subject(seed.SLOT_NAMESPACE, seed.RUNNER_SA)
            self.put(
                "clusterrolebindings",
                seed.binding(None, "codex-runner-admin", "ClusterRole", "cluster-admin", [subject]),
            )
        if self.faults.active("cluster.secret-in-configmap"):
            config = self.get("configmaps", ns, "kodex-config")
            if config is not None:
                config["data"]["github_token"] = self.planted["configmap"]
                self.put("configmaps", config)
        if self.faults.active("cluster.secret-in-event"):
            message = (
                f'Failed to pull image "{images.deployed_ref("agent-runner")}": '
                f"unauthorized: Authorization: Bearer {self.planted['event']}"
            )
            self._event(ns, "Pod", "kodex-worker-7c9d8b6f5-x2k4q", "Failed", message)
        if self.faults.active("cluster.secret-env-plain"):
            for kind in ("deployments", "pods"):
                for obj in self.objects(kind, ns):
                    if obj["metadata"]["name"].startswith("kodex-worker"):
                        spec = obj["spec"]["template"]["spec"] if kind == "deployments" else obj["spec"]
                        for env in spec["containers"][0]["env"]:
                            if env["name"] == "KODEX_OPENAI_API_KEY":
                                env.pop("valueFrom", None)
                                env["value"] = self.planted["env"]
                        self.put(kind, obj)
