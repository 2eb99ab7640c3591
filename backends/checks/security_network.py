"""Network: the platform's baseline NetworkPolicies exist in production and in a live run namespace
(deploy/base/** of codex-k8s). The run namespace is read once it is set up and counts only if it is
still there after the read: a namespace deleted under the read has lost its policies with it, which
says nothing about them (whether an active run's namespace may go is sec.sweep's question)."""

from __future__ import annotations

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB
from backends.checks.probe_runs import SETUP_READ, NamespaceGone, Probe, ProbeFailed, examine_live
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError
from backends.results import Status
from backends.signals import sources

PRODUCTION_POLICIES = ("kodex-postgres-ingress-from-platform", "kodex-egress-baseline")
RUN_POLICIES = (
    "kodex-default-deny-all",
    "kodex-allow-ingress-from-platform-and-system",
    "kodex-allow-egress-dns",
    "kodex-allow-egress-to-platform-mcp",
    "kodex-allow-egress-web",
)


@check("sec.netpol", area="network", title="Baseline network policies", scope=Scope.GLOBAL)
async def baseline(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    prod = ctx.settings.cluster.production_namespace if ctx.settings.cluster else "kodex-prod"
    command = "GET networkpolicies in the production namespace and a live run namespace"
    expected = (
        f"{len(PRODUCTION_POLICIES)} platform policies in {prod}, {len(RUN_POLICIES)} in each run namespace "
        f"({sources.NETWORK_POLICIES}); the run namespace {SETUP_READ}"
    )

    async def read(probe: Probe) -> tuple[list[str], list[str]]:
        missing, lines = [], []
        for namespace, wanted in ((prod, PRODUCTION_POLICIES), (probe.namespace, RUN_POLICIES)):
            present = {p.name for p in await ctx.cluster.network_policies(namespace)}
            lines.append(f"{namespace}: {', '.join(sorted(present)) or '(none)'}")
            missing += [f"{namespace}/{name}" for name in wanted if name not in present]
        return missing, lines

    try:
        _probe, (missing, lines) = await examine_live(ctx, read)
    except NamespaceGone as err:
        return Outcome(Status.SKIP, reason=f"no complete run namespace to examine: {err}", command=command)
    except ProbeFailed as err:
        return Outcome(Status.ERROR, reason=f"no run namespace to look into: {err}", command=command)
    except AdapterError as err:
        return from_error(err, command)
    total = len(PRODUCTION_POLICIES) + len(RUN_POLICIES)
    observed = f"{total - len(missing)}/{total} present"
    out = {"command": command, "output": "\n".join(lines)}
    if missing:
        more = f" (+{len(missing) - 2} more)" if len(missing) > 2 else ""
        return failed(f"missing {', '.join(missing[:2])}{more}", observed, expected, **out)
    return passed(observed, expected, **out)
