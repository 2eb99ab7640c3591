"""Cluster reachability: the kubeconfig loads, the API answers, every node is Ready. Deeper cluster
state (namespaces, workloads, RBAC) belongs to the security checks and the scenarios."""

from __future__ import annotations

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError

NO_CLUSTER = "no cluster configured"


@check("cluster.api", area="cluster", title="Kubernetes API reachable", scope=Scope.GLOBAL)
async def api(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    try:
        await ctx.cluster.connect()  # loads the kubeconfig and context: their errors are this check's
        version = await ctx.cluster.version()
    except AdapterError as err:
        return from_error(err, "load kubeconfig; GET /version")
    route = str(getattr(ctx.cluster, "route", "direct"))
    return passed(version, f"the API answers ({route})", command="GET /version")


@check("cluster.nodes", area="cluster", title="Nodes Ready", scope=Scope.GLOBAL)
async def nodes(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    try:
        await ctx.cluster.connect()
        found = await ctx.cluster.nodes()
    except AdapterError as err:
        return from_error(err, "GET /api/v1/nodes")
    lines = [f"{n.name} ready={n.ready} {n.kubelet_version} {n.reason}".rstrip() for n in found]
    out = {"command": "GET /api/v1/nodes", "output": "\n".join(lines)}
    ready = [n for n in found if n.ready]
    observed = f"{len(ready)}/{len(found)} Ready"
    if not found:
        return failed("the cluster has no nodes", observed, "all nodes Ready", **out)
    if len(ready) < len(found):
        bad = next(n for n in found if not n.ready)
        why = f": {bad.reason}" if bad.reason else ""
        return failed(f"node {bad.name} is not Ready{why}", observed, "all nodes Ready", **out)
    return passed(observed, "all nodes Ready", **out)
