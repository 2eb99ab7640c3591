"""Secret leakage: the raw sources the gate can read (pod logs of the platform and the agents, GitHub
comments, Kubernetes events and ConfigMaps, literal env values of pods) scanned with the redactor's
detector set. A finding names where, which kind and a fingerprint; the value never leaves the adapter.
"""

from __future__ import annotations

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.cluster_checks import NO_CLUSTER
from backends.checks.github_checks import NO_GITHUB, repos
from backends.checks.probe_runs import ProbeFailed, paused_run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.errors import AdapterError, ErrorKind
from backends.leaks import Leak, Scan, scanner, summary
from backends.redact import Redactor
from backends.results import Status

RUN_SELECTOR = "kodex.works/namespace-purpose=run"
EXPECTED = "no secret in any scanned source"


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
        async with paused_run(ctx):
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
    return _outcome(leaks, f"the logs of {pods} pod(s)", command)


@check("sec.leaks-comments", area="secrets", title="No secrets in GitHub comments", scope=Scope.GLOBAL)
async def comments(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = "GET /repos/{repo}/issues/comments (newest first)"
    scan = _scan(ctx)
    leaks: list[Leak] = []
    try:
        async with paused_run(ctx):  # so the platform has written at least one run's comments
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
    try:
        await ctx.cluster.connect()
        spaces = await _namespaces(ctx)
        for namespace in spaces:
            try:
                leaks += await ctx.cluster.event_leaks(namespace, scan)
                leaks += await ctx.cluster.config_map_leaks(namespace, scan)
            except AdapterError as err:
                if not _tolerate_gone(err):
                    raise
    except AdapterError as err:
        return from_error(err, command)
    return _outcome(leaks, f"events and ConfigMaps of {len(spaces)} namespace(s)", command)


@check("sec.secret-env", area="secrets", title="Secrets only through secretKeyRef", scope=Scope.GLOBAL)
async def plain_env(ctx: CheckContext) -> Outcome:
    if ctx.cluster is None or ctx.github is None:
        return skipped(NO_CLUSTER if ctx.cluster is None else NO_GITHUB)
    command = "GET pods: env entries with a literal value"
    scan = _scan(ctx)
    leaks: list[Leak] = []
    try:
        await ctx.cluster.connect()
        spaces = await _namespaces(ctx)
        for namespace in spaces:
            try:
                leaks += await ctx.cluster.plain_env_leaks(namespace, scan)
            except AdapterError as err:
                if not _tolerate_gone(err):
                    raise
    except AdapterError as err:
        return from_error(err, command)
    outcome = _outcome(leaks, f"pod env of {len(spaces)} namespace(s)", command)
    outcome.expected = "secret values only through secretKeyRef, never as plain env values"
    return outcome
