"""The objects a freshly bootstrapped codex-k8s cluster holds, as Kubernetes API JSON.

Shapes follow deploy/base/** of the platform: the production namespace's workloads, the platform's
network policies and RBAC, and what the worker puts into each run namespace. `KubeState` fills in
uid, resourceVersion and creationTimestamp; everything here is plain data.
"""

from __future__ import annotations

from typing import Any

from backends.sandbox import kodex_images as images

Obj = dict[str, Any]

NODE_NAME = "sandbox-vps"
RUNNER_SA = "codex-runner"
#: the read-only agent profile `run:postdeploy` / `run:ops` use in production
READONLY_SA = "codex-runner-readonly"
#: a slot namespace (`kodex-dev-*`); the cluster-admin fault binds its agent account there
SLOT_NAMESPACE = "kodex-dev-1"
OPERATOR_USER = "operator"
VIEWER_USER = "gate-viewer"

# Verbs the agent profile grants in its own namespace (docs/architecture/agent_runtime_rbac.md):
# kubectl over the workloads it runs, never secrets.
_AGENT_RESOURCES = [
    "pods",
    "pods/log",
    "pods/exec",
    "services",
    "configmaps",
    "endpoints",
    "events",
    "persistentvolumeclaims",
    "deployments",
    "statefulsets",
    "replicasets",
    "jobs",
]
_ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
_READ = ["get", "list", "watch"]


def meta(name: str, namespace: str | None = None, labels: Obj | None = None, **annotations: str) -> Obj:
    out: Obj = {"name": name, "labels": dict(labels or {}), "annotations": dict(annotations)}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def _container(name: str, image: str, env: list[Obj] | None = None) -> Obj:
    return {"name": name, "image": image, "env": env or [], "imagePullPolicy": "IfNotPresent"}


def pod(namespace: str, name: str, labels: Obj, phase: str, containers: list[Obj], started: str) -> Obj:
    running = phase == "Running"
    return {
        "metadata": meta(name, namespace, labels),
        "spec": {"containers": containers, "nodeName": NODE_NAME, "restartPolicy": "Always"},
        "status": {
            "phase": phase,
            "hostIP": "10.0.0.2",
            "startTime": started,
            "conditions": [{"type": "Ready", "status": "True" if running else "False"}],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": f"{c['image']}@sha256:{'0' * 64}",
                    "ready": running,
                    "restartCount": 0,
                    "started": running,
                }
                for c in containers
            ],
        },
    }


def _template(app: str, containers: list[Obj], sa: str | None = None) -> Obj:
    spec: Obj = {"containers": containers}
    if sa:
        spec["serviceAccountName"] = sa
    return {"metadata": {"labels": {"app": app}}, "spec": spec}


def deployment(namespace: str, name: str, containers: list[Obj], sa: str | None = None) -> Obj:
    metadata = meta(name, namespace, {"app": name, "app.kubernetes.io/part-of": "kodex"})
    metadata["generation"] = 1
    return {
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": _template(name, containers, sa),
        },
        "status": {
            "replicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "updatedReplicas": 1,
            "observedGeneration": 1,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}],
        },
    }


def node(name: str, ready: bool) -> Obj:
    return {
        "metadata": meta(
            name, None, {"kubernetes.io/hostname": name, "node-role.kubernetes.io/master": "true"}
        ),
        "spec": {},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.2"},
                {"type": "Hostname", "address": name},
            ],
            "capacity": {"cpu": "4", "memory": "8131672Ki", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8131672Ki", "pods": "110"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status"
                    if ready
                    else "container runtime network not ready: NetworkReady=false",
                },
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "6a1c0f6e-0000-4000-8000-000000000001",
                "containerRuntimeVersion": "containerd://1.7.23-k3s2",
                "kernelVersion": "6.8.0-51-generic",
                "kubeProxyVersion": "v1.31.4+k3s1",
                "kubeletVersion": "v1.31.4+k3s1",
                "machineID": "0f0e0d0c0b0a09080706050403020100",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.1 LTS",
                "systemUUID": "00000000-0000-4000-8000-000000000002",
            },
        },
    }


def network_policy(namespace: str, name: str, selector: Obj, types: list[str], **rules: list[Obj]) -> Obj:
    spec: Obj = {"podSelector": selector, "policyTypes": types}
    spec.update(rules)
    return {"metadata": meta(name, namespace, {"app.kubernetes.io/part-of": "kodex"}), "spec": spec}


def rule(resources: list[str], verbs: list[str], groups: list[str] | None = None) -> Obj:
    return {
        "apiGroups": groups if groups is not None else ["", "apps", "batch"],
        "resources": resources,
        "verbs": verbs,
    }


def role(namespace: str | None, name: str, rules: list[Obj]) -> Obj:
    return {"metadata": meta(name, namespace), "rules": rules}


def binding(namespace: str | None, name: str, role_kind: str, role_name: str, subjects: list[Obj]) -> Obj:
    return {
        "metadata": meta(name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def sa_subject(namespace: str, name: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def user_subject(name: str) -> Obj:
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def event(namespace: str, name: str, kind: str, obj: str, reason: str, message: str, ts: str) -> Obj:
    return {
        "metadata": meta(name, namespace),
        "involvedObject": {"kind": kind, "name": obj, "namespace": namespace, "apiVersion": "v1"},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "count": 1,
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "source": {"component": "kubelet", "host": NODE_NAME},
    }


def _secret_env(key: str, secret: str) -> Obj:
    return {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


# Deployment name -> (container, env); env values are literal only where they are not secrets.
_PROD_DEPLOYMENTS: dict[str, list[Obj]] = {
    "kodex": [{"name": "KODEX_HTTP_ADDR", "value": ":8080"}, _secret_env("KODEX_GITHUB_PAT", "kodex-github")],
    "kodex-control-plane": [
        {"name": "KODEX_GRPC_ADDR", "value": ":9090"},
        _secret_env("KODEX_DB_PASSWORD", "kodex-postgres"),
    ],
    "kodex-worker": [
        {"name": "KODEX_WORKER_RUN_NAMESPACE_PREFIX", "value": "codex-issue"},
        {"name": "KODEX_WORKER_RUN_SERVICE_ACCOUNT", "value": RUNNER_SA},
        _secret_env("KODEX_OPENAI_API_KEY", "kodex-openai"),
    ],
    "kodex-web-console": [{"name": "KODEX_PUBLIC_BASE_URL", "value": "https://kodex.example.test"}],
    "kodex-telegram-interaction-adapter": [_secret_env("KODEX_TELEGRAM_BOT_TOKEN", "kodex-telegram")],
    "oauth2-proxy": [_secret_env("OAUTH2_PROXY_CLIENT_SECRET", "kodex-oauth")],
    "kodex-echo-probe": [],
    "kodex-registry": [{"name": "REGISTRY_HTTP_ADDR", "value": ":5000"}],
}
#: Deployments that run no image the platform builds (the others: kodex_images.DEPLOYMENT_IMAGES)
_PROD_IMAGES = {
    "oauth2-proxy": images.mirror_ref("kodex/mirror/oauth2-proxy"),
    "kodex-echo-probe": images.mirror_ref("kodex/mirror/busybox"),
    "kodex-registry": "registry:2",
}
_SERVICE_ACCOUNTS = {"kodex-control-plane": "kodex-control-plane", "kodex-worker": "kodex-worker"}

PROD_LOGS: dict[str, list[str]] = {
    "kodex": ['level=info msg="webhook receiver listening" addr=:8080', 'level=info msg="ready"'],
    "kodex-control-plane": [
        'level=info msg="migrations up to date" version=42',
        'level=info msg="grpc server listening" addr=:9090',
    ],
    "kodex-worker": [
        'level=info msg="worker started" run_namespace_prefix=codex-issue',
        'level=info msg="namespace sweeper scheduled" every=5m',
    ],
    "postgres": ["LOG:  database system is ready to accept connections"],
}


def production(ns: str, started: str) -> list[tuple[str, Obj]]:
    """Every object of the production namespace and the cluster-wide platform objects."""
    out: list[tuple[str, Obj]] = [("nodes", node(NODE_NAME, True))]
    for name in ("kube-system", "cert-manager", ns):
        labels = {"kubernetes.io/metadata.name": name}
        out.append(("namespaces", {"metadata": meta(name, None, labels), "status": {"phase": "Active"}}))
    for name, env in _PROD_DEPLOYMENTS.items():
        image = _PROD_IMAGES.get(name) or images.deployed_ref(images.DEPLOYMENT_IMAGES[name])
        containers = [_container(name, image, env)]
        out.append(("deployments", deployment(ns, name, containers, _SERVICE_ACCOUNTS.get(name))))
        labels = {"app": name, "pod-template-hash": "7c9d8b6f5"}
        out.append(("pods", pod(ns, f"{name}-7c9d8b6f5-x2k4q", labels, "Running", containers, started)))
        out.append(
            (
                "events",
                event(
                    ns,
                    f"{name}.started",
                    "Pod",
                    f"{name}-7c9d8b6f5-x2k4q",
                    "Started",
                    f"Started container {name}",
                    started,
                ),
            )
        )
    pg = [
        _container(
            "postgres",
            images.mirror_ref("kodex/mirror/pgvector"),
            [_secret_env("POSTGRES_PASSWORD", "kodex-postgres")],
        )
    ]
    sts = deployment(ns, "postgres", pg)
    sts["spec"]["serviceName"] = "postgres"
    sts["status"] = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "currentReplicas": 1}
    out.append(("statefulsets", sts))
    out.append(("pods", pod(ns, "postgres-0", {"app": "postgres"}, "Running", pg, started)))
    out.append(("jobs", migrate_job(ns, images.deployed_ref(images.MIGRATE_IMAGE))))
    out.append(
        ("configmaps", {"metadata": meta("kodex-config", ns), "data": {"KODEX_PRODUCTION_NAMESPACE": ns}})
    )
    for sa in _SERVICE_ACCOUNTS.values():
        out.append(("serviceaccounts", {"metadata": meta(sa, ns)}))
    out.append(("serviceaccounts", {"metadata": meta(READONLY_SA, ns)}))
    out.append(
        ("rolebindings", binding(ns, READONLY_SA, "ClusterRole", "view", [sa_subject(ns, READONLY_SA)]))
    )
    platform = {"matchLabels": {"app.kubernetes.io/part-of": "kodex"}}
    out.append(
        (
            "networkpolicies",
            network_policy(
                ns,
                "kodex-postgres-ingress-from-platform",
                {"matchLabels": {"app": "postgres"}},
                ["Ingress"],
                ingress=[{"from": [{"podSelector": platform}]}],
            ),
        )
    )
    out.append(("networkpolicies", network_policy(ns, "kodex-egress-baseline", {}, ["Egress"], egress=[{}])))
    out += _cluster_rbac(ns)
    return out


def _cluster_rbac(ns: str) -> list[tuple[str, Obj]]:
    everything = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    view = rule(
        [
            "pods",
            "pods/log",
            "services",
            "configmaps",
            "events",
            "namespaces",
            "nodes",
            "deployments",
            "statefulsets",
            "jobs",
            "serviceaccounts",
            "networkpolicies",
        ],
        _READ,
        ["", "apps", "batch", "networking.k8s.io"],
    )
    worker = [
        rule(
            ["namespaces", "serviceaccounts", "resourcequotas", "limitranges", "networkpolicies"],
            _ALL_VERBS,
            ["", "networking.k8s.io"],
        ),
        rule(["roles", "rolebindings"], _ALL_VERBS, ["rbac.authorization.k8s.io"]),
        rule(["pods", "pods/log", "jobs"], _ALL_VERBS),
    ]
    control = [rule(["namespaces", "pods", "pods/log", "events"], _READ), rule(["secrets"], ["get"], [""])]
    return [
        ("clusterroles", role(None, "cluster-admin", [everything])),
        ("clusterroles", role(None, "view", [view])),
        ("clusterroles", role(None, "kodex-worker", worker)),
        ("clusterroles", role(None, "kodex-control-plane", control)),
        (
            "clusterrolebindings",
            binding(
                None,
                "cluster-admin",
                "ClusterRole",
                "cluster-admin",
                [
                    {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"},
                    user_subject(OPERATOR_USER),
                ],
            ),
        ),
        (
            "clusterrolebindings",
            binding(None, "gate-viewer", "ClusterRole", "view", [user_subject(VIEWER_USER)]),
        ),
        (
            "clusterrolebindings",
            binding(None, "kodex-worker", "ClusterRole", "kodex-worker", [sa_subject(ns, "kodex-worker")]),
        ),
        (
            "clusterrolebindings",
            binding(
                None,
                "kodex-control-plane",
                "ClusterRole",
                "kodex-control-plane",
                [sa_subject(ns, "kodex-control-plane")],
            ),
        ),
    ]


def run_namespace(
    ns: str, prod_ns: str, *, agent_reads_secrets: bool, default_deny: bool = True
) -> list[tuple[str, Obj]]:
    """What the worker creates in a run namespace before the agent pod starts."""
    rules = [rule(_AGENT_RESOURCES, _ALL_VERBS)]
    if agent_reads_secrets:
        rules.append(rule(["secrets"], ["get", "list", "create"], [""]))
    dns = {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}],
    }
    prod = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": prod_ns}}}
    web = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}
    deny = [("networkpolicies", network_policy(ns, "kodex-default-deny-all", {}, ["Ingress", "Egress"]))]
    return [
        ("serviceaccounts", {"metadata": meta(RUNNER_SA, ns)}),
        ("roles", role(ns, RUNNER_SA, rules)),
        ("rolebindings", binding(ns, RUNNER_SA, "Role", RUNNER_SA, [sa_subject(ns, RUNNER_SA)])),
        ("configmaps", {"metadata": meta("codex-run-context", ns), "data": {"KODEX_RUN_NAMESPACE": ns}}),
        *(deny if default_deny else []),
        (
            "networkpolicies",
            network_policy(
                ns,
                "kodex-allow-ingress-from-platform-and-system",
                {},
                ["Ingress"],
                ingress=[{"from": [prod]}],
            ),
        ),
        ("networkpolicies", network_policy(ns, "kodex-allow-egress-dns", {}, ["Egress"], egress=[dns])),
        (
            "networkpolicies",
            network_policy(ns, "kodex-allow-egress-to-platform-mcp", {}, ["Egress"], egress=[{"to": [prod]}]),
        ),
        ("networkpolicies", network_policy(ns, "kodex-allow-egress-web", {}, ["Egress"], egress=[web])),
    ]


def agent_containers(ns: str, prod_ns: str) -> list[Obj]:
    env = [
        {"name": "KODEX_RUN_NAMESPACE", "value": ns},
        {"name": "KODEX_MCP_URL", "value": f"http://kodex-control-plane.{prod_ns}:9090"},
    ]
    return [_container("agent", images.deployed_ref("agent-runner"), env)]


def migrate_job(ns: str, image: str, *, done: bool = True) -> Obj:
    """deploy/base/kodex/migrate-job.yaml.tpl: the migrations Job, on the control plane's image."""
    labels = {"app.kubernetes.io/name": "kodex", "app.kubernetes.io/component": "migrate"}
    return {
        "metadata": meta(images.MIGRATE_JOB, ns, labels),
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [_container("migrate", image)], "restartPolicy": "Never"},
            },
        },
        "status": job_status(True) if done else {"active": 1},
    }


def job_status(succeeded: bool) -> Obj:
    """A finished Job's status as the job controller writes it (the Complete or Failed condition)."""
    if succeeded:
        return {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    condition = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
    return {"failed": 1, "conditions": [condition]}
