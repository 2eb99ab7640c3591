"""A cluster with nothing in it: no namespace, workload, binding or event, and no platform installed.

The gate reaches it as k3s's admin (group system:masters), whom the API server authorizes without
any binding: kube-apiserver admits that group before RBAC is asked (its privileged-groups
authorizer), so an empty cluster still answers every read, with nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from backends.sandbox.kube_state import KubeState

#: the group kube-apiserver authorizes before RBAC (k8s.io/apiserver user.SystemPrivilegedGroup)
PRIVILEGED_GROUP = "system:masters"


class EmptyKubeState(KubeState):
    def _seed(self) -> None:
        """Nothing: not the production namespace, not the platform's RBAC, not a node."""

    def decide(
        self,
        user: str,
        verb: str,
        resource: str,
        namespace: str,
        group: str | None = None,
        groups: Iterable[str] = (),
    ) -> tuple[bool, str]:
        groups = list(groups)
        if PRIVILEGED_GROUP in groups:
            return True, ""
        return super().decide(user, verb, resource, namespace, group, groups)
