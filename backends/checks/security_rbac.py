"""RBAC: what agents may do (asked of the API server, SubjectAccessReview), no agent bound to
cluster-admin, and whether the gate's own credentials can see what the gate must see."""

from __future__ import annotations

import asyncio

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB
from backends.checks.probe_runs import SETUP_READ, NamespaceGone, Probe, ProbeFailed, examine_live
from backends.checks.rbac_matrix import PROD_ACCOUNT, PROD_PROFILE, RUN_ACCOUNT, RUN_PROFILE, Cell
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.cluster_models import Subject
from backends.errors import AdapterError
from backends.results import Status
from backends.signals import sources

#: namespaces whose service accounts are agents: run namespaces and slot namespaces
AGENT_NAMESPACE_PREFIXES = ("codex-issue", "kodex-dev-")
AGENT_GROUPS = ("system:serviceaccounts", "system:authenticated", "system:unauthenticated")
#: (verb, resource, group, cluster-wide?) the gate itself needs
OPERATOR_NEEDS: tuple[tuple[str, str, str, bool], ...] = (
    ("list", "namespaces", "", True),
    ("watch", "namespaces", "", True),
    ("list", "pods", "", False),
    ("get", "pods/log", "", False),
    ("list", "events", "", False),
    ("list", "configmaps", "", False),
    ("list", "networkpolicies", "networking.k8s.io", False),
    ("list", "clusterrolebindings", "rbac.authorization.k8s.io", True),
    ("create", "subjectaccessreviews", "authorization.k8s.io", True),
)


def _production(ctx: CheckContext) -> str:
    return ctx.settings.cluster.production_namespace if ctx.settings.cluster else "kodex-prod"


async def _ask(ctx: CheckContext, namespace: str, account: str, profile: tuple) -> list[Cell]:  # type: ignore[type-arg]
    """One SubjectAccessReview per cell, all at once: the answers are independent, and one at a time
    a busy API server's latency adds up over the matrix."""
    user = f"system:serviceaccount:{namespace}:{account}"

    async def cell(resource: str, group: str, verb: str, expected: bool) -> Cell:
        access = await ctx.cluster.can(user, verb, resource, namespace, group)
        return Cell(f"{namespace}/{account}", resource, verb, expected, access.allowed)

    return list(await asyncio.gather(*(cell(*question) for question in profile)))


@check("sec.rbac-agents", area="rbac", title="Agent access matrix", scope=Scope.GLOBAL)
async def agent_matrix(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    expected = (
        "agents never get/list/watch/create secrets; the documented verbs are allowed "
        f"({sources.RUNNER_RBAC}); the run namespace {SETUP_READ}"
    )
    command = "SubjectAccessReview per account × resource × verb"

    async def ask(probe: Probe) -> list[Cell]:
        return await _ask(ctx, probe.namespace, RUN_ACCOUNT, RUN_PROFILE)

    try:
        # a run namespace counts once set up and only if still there after the questions: in one that is
        # not (yet, or any more) the answers are about missing RoleBindings, not about the agents' rights
        _probe, cells = await examine_live(ctx, ask)
        cells += await _ask(ctx, _production(ctx), PROD_ACCOUNT, PROD_PROFILE)
    except NamespaceGone as err:
        return Outcome(Status.SKIP, reason=f"no complete run namespace to ask about: {err}", command=command)
    except ProbeFailed as err:
        return Outcome(Status.ERROR, reason=f"no run namespace to ask about: {err}", command=command)
    except AdapterError as err:
        return from_error(err, command)
    output = "\n".join(c.line() for c in cells)
    wrong = [c for c in cells if not c.ok]
    observed = f"{len(cells) - len(wrong)}/{len(cells)} answers as documented"
    if not wrong:
        return passed(observed, expected, command=command, output=output)
    secret = [c for c in wrong if c.resource == "secrets"]
    first = (secret or wrong)[0]
    what = "may" if first.allowed else "may not"
    more = f" (+{len(wrong) - 1} more)" if len(wrong) > 1 else ""
    reason = f"{first.account} {what} {first.verb} {first.resource}{more}"
    return failed(reason, observed, expected, command=command, output=output)


def _agent_subject(kind: str, name: str, namespace: str) -> bool:
    if kind == "ServiceAccount":
        return name.startswith("codex-runner") or namespace.startswith(AGENT_NAMESPACE_PREFIXES)
    return kind == "Group" and (name in AGENT_GROUPS or name.startswith("system:serviceaccounts:"))


def _who(subject: Subject) -> str:
    where = f"{subject.namespace}/" if subject.namespace else ""
    return f"{subject.kind} {where}{subject.name}"


@check("sec.rbac-cluster-admin", area="rbac", title="No agent is cluster-admin", scope=Scope.GLOBAL)
async def no_cluster_admin(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    command = "GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
    try:
        await ctx.cluster.connect()
        bindings = await ctx.cluster.cluster_role_bindings()
    except AdapterError as err:
        return from_error(err, command)
    if not bindings:
        # every cluster binds cluster-admin to someone: seeing none means the gate saw nothing
        return Outcome(
            Status.SKIP, reason="the gate sees no ClusterRoleBinding: nothing to examine", command=command
        )
    admin = [b for b in bindings if b.role == "cluster-admin"]
    lines = [f"{b.name}: {', '.join(_who(s) for s in b.subjects)}" for b in admin]
    bad = [
        f"{b.name} → {_who(s)}"
        for b in admin
        for s in b.subjects
        if _agent_subject(s.kind, s.name, s.namespace)
    ]
    observed = f"{len(admin)} cluster-admin binding(s), {len(bad)} to agents"
    expected = "no ClusterRoleBinding of cluster-admin to an agent account or group"
    out = {"command": command, "output": "\n".join(lines)}
    if bad:
        return failed(f"cluster-admin granted: {'; '.join(bad[:3])}", observed, expected, **out)
    return passed(observed, expected, **out)


@check("sec.operator-access", area="rbac", title="Gate's own access is enough", scope=Scope.GLOBAL)
async def operator_access(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None:
        return skipped(NO_CLUSTER)
    prod = _production(ctx)
    command = "SelfSubjectAccessReview per verb × resource"
    lines, missing = [], []
    try:
        await ctx.cluster.connect()
        for verb, resource, group, cluster_wide in OPERATOR_NEEDS:
            namespace = "" if cluster_wide else prod
            access = await ctx.cluster.can_i(verb, resource, namespace, group)
            lines.append(
                f"{verb} {resource} in {namespace or 'the cluster'}: {'yes' if access.allowed else 'no'}"
            )
            if not access.allowed:
                missing.append(f"{verb} {resource}")
    except AdapterError as err:
        return from_error(err, command)
    observed = f"{len(OPERATOR_NEEDS) - len(missing)}/{len(OPERATOR_NEEDS)} allowed"
    expected = "read namespaces, pods, logs, events, ConfigMaps, policies, bindings; create access reviews"
    out = {"command": command, "output": "\n".join(lines)}
    if missing:
        return failed(f"the gate's credentials cannot {', '.join(missing[:3])}", observed, expected, **out)
    return passed(observed, expected, **out)
