"""Secret leakage: the raw sources the gate can read (pod logs of the platform and the agents, GitHub
comments, Kubernetes events and ConfigMaps, literal env values of pods) scanned with the redactor's
detector set. A finding names where, which kind and a fingerprint; the value never leaves the adapter.
"""

from __future__ import annotations

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB, repos
from backends.checks.probe_runs import ProbeFailed, live_run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError, ErrorKind
from backends.leaks import Leak, Scan, scanner, summary
from backends.redact import Redactor
from backends.results import Status
from backends.signals import kodex, sources

RUN_SELECTOR = kodex.RUN_NAMESPACE_SELECTOR
EXPECTED = "no secret in any scanned source"
#: the agent's workload (joblauncher/launcher.go): pods labelled so, whose container is `run`
AGENT_SELECTOR = "=".join(kodex.JOB_APP_LABEL)
AGENT_CONTAINER = "run"


def _scan(ctx: CheckContext) -> Scan:
    # the engine's redactor: the same shapes, and the literal secrets learnt from the env files
    return scanner(ctx.cluster.redactor or Redactor())


async def _namespaces(ctx: CheckContext) -> list[str]:
    prod = ctx.settings.cluster.production_namespace if ctx.settings.cluster else "kodex-prod"
    runs = [ns.name for ns in await ctx.cluster.namespaces(RUN_SELECTOR) if ns.phase != "Terminating"]
    return [prod, *runs]


def _outcome(leaks: list[Leak], scanned: str, command: str) -> Outcome:
    output = "\n".join(x.line() for x in leaks)
    observed = f"{len(leaks)} finding(s) in {scanned}"
    if leaks:
        return failed(summary(leaks), observed, EXPECTED, command=command, output=output)
    return passed(observed, EXPECTED, command=command)


def _tolerate_gone(err: AdapterError) -> bool:
    # a run namespace swept between listing and reading is not a finding
    return err.kind is ErrorKind.NOT_FOUND


@check("sec.leaks-logs", area="secrets", title="No secrets in pod logs", scope=Scope.GLOBAL)
async def pod_logs(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = "GET pods and their logs in the production and run namespaces"
    scan, pods = _scan(ctx), 0
    leaks: list[Leak] = []
    try:
        # a live agent run, so an agent's log is among the scanned ones even on a fresh installation
        async with live_run(ctx):
            for namespace in await _namespaces(ctx):
                try:
                    for pod in await ctx.cluster.pods(namespace):
                        leaks += await ctx.cluster.pod_log_leaks(namespace, pod, scan)
                        pods += 1
                except AdapterError as err:
                    if not _tolerate_gone(err):
                        raise
    except ProbeFailed as err:
        return Outcome(Status.ERROR, reason=f"no agent run to read: {err}", command=command)
    except AdapterError as err:
        return from_error(err, command)
    if pods == 0:
        return Outcome(
            Status.SKIP, reason="no pod to read in the production and run namespaces", command=command
        )
    return _outcome(leaks, f"the logs of {pods} pod(s)", command)


@check("sec.leaks-comments", area="secrets", title="No secrets in GitHub comments", scope=Scope.GLOBAL)
async def comments(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = "GET /repos/{repo}/issues/comments (newest first)"
    scan = _scan(ctx)
    leaks: list[Leak] = []
    try:
        async with live_run(ctx):  # so the platform has written at least one run's comments
            for repo in repos(ctx):
                leaks += await ctx.github.comment_leaks(repo, scan)
    except ProbeFailed as err:
        return Outcome(Status.ERROR, reason=f"no platform run to read: {err}", command=command)
    except AdapterError as err:
        return from_error(err, command)
    return _outcome(leaks, f"the comments of {', '.join(repos(ctx))}", command)


@check("sec.leaks-cluster", area="secrets", title="No secrets in events or ConfigMaps", scope=Scope.GLOBAL)
async def cluster_objects(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = "GET events and configmaps in the production and run namespaces"
    scan = _scan(ctx)
    leaks: list[Leak] = []
    objects = 0
    try:
        await ctx.cluster.connect()
        spaces = await _namespaces(ctx)
        for namespace in spaces:
            try:
                leaks += await ctx.cluster.event_leaks(namespace, scan)
                leaks += await ctx.cluster.config_map_leaks(namespace, scan)
                # the scans hand back findings only: the lists say whether there was anything to scan
                objects += len(await ctx.cluster.events(namespace)) + len(
                    await ctx.cluster.config_maps(namespace)
                )
            except AdapterError as err:
                if not _tolerate_gone(err):
                    raise
    except AdapterError as err:
        return from_error(err, command)
    if not leaks and objects == 0:
        return Outcome(
            Status.SKIP,
            reason=f"no event or ConfigMap to examine in {len(spaces)} namespace(s)",
            command=command,
        )
    return _outcome(leaks, f"{objects} events and ConfigMaps of {len(spaces)} namespace(s)", command)


def _stock(leak: Leak) -> bool:
    """One of the agent tokens the platform itself sets as literal values on the container `run`."""
    return f"[{AGENT_CONTAINER}] env " in leak.where and leak.where.endswith(
        tuple(f" env {key}" for key in kodex.LITERAL_SECRET_ENV)
    )


def _grouped(leaks: list[Leak]) -> list[str]:
    """One line per distinct value of one variable in one kind of container: the same token sits on
    every agent pod, and a line per pod would bury the one finding that differs."""
    groups: dict[tuple[str, str, str, str], list[Leak]] = {}
    for leak in leaks:
        container = leak.where.partition("[")[2].partition("]")[0]
        key = (leak.kind, container, leak.where.rpartition(" env ")[2], leak.fingerprint)
        groups.setdefault(key, []).append(leak)
    lines = []
    for group in groups.values():
        line = group[0].line()
        if len(group) > 1:
            spaces = sorted({x.where.split("/", 1)[0] for x in group})
            line += f"  (same value in {len(group) - 1} more pod(s); namespaces: {', '.join(spaces)})"
        lines.append(line)
    return lines


async def _env_scan(ctx: CheckContext, scan: Scan) -> tuple[list[Leak], list[str], int]:
    """Literal env findings in the production and run namespaces, the agent pods seen, namespaces read."""
    leaks: list[Leak] = []
    agents: list[str] = []
    spaces = await _namespaces(ctx)
    for namespace in spaces:
        try:
            leaks += await ctx.cluster.plain_env_leaks(namespace, scan)
            for pod in await ctx.cluster.pods(namespace, AGENT_SELECTOR):
                if AGENT_CONTAINER in pod.containers:
                    agents.append(f"{namespace}/{pod.name}")
        except AdapterError as err:
            if not _tolerate_gone(err):
                raise
    return leaks, agents, len(spaces)


@check("sec.secret-env", area="secrets", title="Secrets only through secretKeyRef", scope=Scope.GLOBAL)
async def plain_env(ctx: CheckContext) -> Outcome:
    """Agent pods are the point: code-only runs' Jobs live in the production namespace, full-env runs'
    in their run namespace, so both are read, with a live run to make sure one agent pod exists."""
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = (
        f"GET pods in the production and run namespaces: env entries with a literal value "
        f"(agent pods: {AGENT_SELECTOR}, container {AGENT_CONTAINER})"
    )
    expected = (
        "secret values only through secretKeyRef, never as literal env values; a stock platform sets "
        f"{', '.join(kodex.LITERAL_SECRET_ENV)} literally on the agent container `{AGENT_CONTAINER}` "
        f"({sources.JOB_LAUNCHER} buildRunContainerEnv): fix it upstream or waive it"
    )
    scan = _scan(ctx)
    no_probe = ""
    try:
        await ctx.cluster.connect()
        try:
            async with live_run(ctx):
                leaks, agents, spaces = await _env_scan(ctx, scan)
        except ProbeFailed as err:
            no_probe = f" (no live agent run: {err})"
            leaks, agents, spaces = await _env_scan(ctx, scan)
    except AdapterError as err:
        return from_error(err, command)
    stock = [x for x in leaks if _stock(x)]
    observed = f"{len(leaks)} finding(s) in the pod env of {spaces} namespace(s), {len(agents)} agent pod(s)"
    if leaks:
        why = summary(leaks)
        if stock:
            why += (
                f"; {len(stock)} are the agent tokens {sources.JOB_LAUNCHER} sets literally "
                "(buildRunContainerEnv): fix upstream or waive"
            )
        return failed(why, observed, expected, command=command, output="\n".join(_grouped(leaks)))
    if not agents:
        return Outcome(
            Status.SKIP,
            observed=observed,
            expected=expected,
            reason=f"no agent run pod ({AGENT_SELECTOR}) to examine{no_probe}",
            command=command,
        )
    return passed(observed, expected, command=command, output="agent pods examined:\n" + "\n".join(agents))
