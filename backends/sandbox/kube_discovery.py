"""The resources the sandbox API serves, and the discovery documents every client reads first.

`/api`, `/api/v1`, `/apis`, `/apis/<group>` and `/apis/<group>/v1` answer in the shapes the real API
server gives a client that does not ask for aggregated discovery (APIVersions, APIResourceList,
APIGroupList, APIGroup): kubectl and the client libraries fall back to them by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_READ = ("get", "list", "watch")
_WRITE = ("create", "delete", "deletecollection", "patch", "update")


@dataclass(frozen=True)
class Resource:
    group: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    #: listed in discovery, like the real server, but never read or written by the sandbox
    verbs: tuple[str, ...] = field(default=(*_READ, *_WRITE))

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"


RESOURCES = {
    "namespaces": Resource("", "Namespace", False, "namespace", ("ns",)),
    "nodes": Resource("", "Node", False, "node", ("no",)),
    "pods": Resource("", "Pod", True, "pod", ("po",)),
    "events": Resource("", "Event", True, "event", ("ev",)),
    "configmaps": Resource("", "ConfigMap", True, "configmap", ("cm",)),
    "secrets": Resource("", "Secret", True, "secret"),
    "services": Resource("", "Service", True, "service", ("svc",)),
    "serviceaccounts": Resource("", "ServiceAccount", True, "serviceaccount", ("sa",)),
    "deployments": Resource("apps", "Deployment", True, "deployment", ("deploy",)),
    "statefulsets": Resource("apps", "StatefulSet", True, "statefulset", ("sts",)),
    "jobs": Resource("batch", "Job", True, "job"),
    "networkpolicies": Resource("networking.k8s.io", "NetworkPolicy", True, "networkpolicy", ("netpol",)),
    "clusterroles": Resource("rbac.authorization.k8s.io", "ClusterRole", False, "clusterrole"),
    "clusterrolebindings": Resource(
        "rbac.authorization.k8s.io", "ClusterRoleBinding", False, "clusterrolebinding"
    ),
    "roles": Resource("rbac.authorization.k8s.io", "Role", True, "role"),
    "rolebindings": Resource("rbac.authorization.k8s.io", "RoleBinding", True, "rolebinding"),
}
#: sub-resources and review kinds: in discovery, handled by their own routes
_EXTRA: dict[str, list[dict[str, Any]]] = {
    "": [
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
    ],
    "authorization.k8s.io": [
        {"name": n, "singularName": "", "namespaced": False, "kind": k, "verbs": ["create"]}
        for n, k in (
            ("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            ("subjectaccessreviews", "SubjectAccessReview"),
        )
    ],
}
GROUPS = sorted({r.group for r in RESOURCES.values() if r.group} | {"authorization.k8s.io"})


def _version(group: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/v1", "version": "v1"}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(group: str) -> dict[str, Any]:
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [_version(group)],
        "preferredVersion": _version(group),
    }


def api_group_list() -> dict[str, Any]:
    groups = []
    for group in GROUPS:
        doc = api_group(group)
        del doc["kind"], doc["apiVersion"]
        groups.append(doc)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group: str) -> dict[str, Any] | None:
    """The APIResourceList of `<group>/v1` (`v1` for the core group); None for a group not served."""
    if group and group not in GROUPS:
        return None
    resources: list[dict[str, Any]] = []
    for plural, res in RESOURCES.items():
        if res.group != group:
            continue
        doc: dict[str, Any] = {
            "name": plural,
            "singularName": res.singular,
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(res.verbs),
        }
        if res.short_names:
            doc["shortNames"] = list(res.short_names)
        resources.append(doc)
    resources += _EXTRA.get(group, [])
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/v1" if group else "v1",
        "resources": resources,
    }
