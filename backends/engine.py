"""The engine: runs a plan's checks and scenarios through the adapters, publishes events, computes
the verdict.

Work items run as asyncio tasks, bounded by a semaphore; every item has an overall deadline on top
of the adapters' own timeouts, so a stuck peer can never hang the gate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from backends import checks as _checks  # noqa: F401 - registers the built-in checks
from backends.checks.area_needs import AREA_NEEDS
from backends.checks.envsource import EnvSource, read_local, read_remote
from backends.checks.registry import CheckContext, CheckSpec, Outcome, Scope, select
from backends.cluster import ClusterAdapter
from backends.config import HostSettings, Settings
from backends.envfile import parse_env
from backends.errors import AdapterError, ErrorKind, GateError
from backends.events import CheckFinished, CheckStarted, EventBus, Progress, RunFinished, VerdictChanged
from backends.github import GitHubAdapter
from backends.host import HostAdapter
from backends.logs.setup import log_sources
from backends.logs.source import LogSource
from backends.plan.model import Plan
from backends.plan.steps import RUN_WITHIN
from backends.platform_api import PlatformAdapter
from backends.redact import Redactor, is_secret_key
from backends.results import CheckResult, Status, Verdict
from backends.scenarios.runner import ScenarioRunner
from backends.scenarios.world import GateWorld
from backends.session import Session
from backends.verdict import compute_verdict
from backends.witness_step import Witness

SSH_CHECK = "host.ssh"
#: a cluster that fails to connect for one of these was never reached (headless exits 2)
_NOT_REACHED = {ErrorKind.TLS, ErrorKind.UNREACHABLE, ErrorKind.AUTH, ErrorKind.LOCAL}


@dataclass(frozen=True)
class PlannedCheck:
    key: str
    check_id: str
    area: str
    title: str
    target: str


class Engine:
    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        session: Session,
        bus: EventBus,
        redactor: Redactor,
        *,
        github_token: str | None = None,
        platform_token: str | None = None,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.session = session
        self.bus = bus
        self.redactor = redactor
        self.specs = select(plan.checks)
        self.hosts = {h.name: HostAdapter(h, redact=redactor.redact) for h in settings.hosts}
        self._host_pool = asyncio.Semaphore(settings.concurrency)
        self._env_sources: dict[str, EnvSource] = {}
        self.github = (
            GitHubAdapter(settings.github, redactor, token=github_token, on_wait=self._waiting)
            if settings.github is not None
            else None
        )
        self.cluster = (
            ClusterAdapter(
                settings.cluster,
                redactor,
                host=self.hosts.get(settings.cluster.via_host) if settings.cluster.via_host else None,
            )
            if settings.cluster is not None
            else None
        )
        self.platform = (
            PlatformAdapter(settings.platform, redactor, token=platform_token)
            if settings.platform is not None
            else None
        )
        self.witness = Witness(settings, self.github, session.store, bus)
        self.scenarios: ScenarioRunner | None = None
        #: why the cluster could not be reached at all, once a connect has failed that way
        self.cluster_unreached: AdapterError | None = None
        if self.github is not None and self.cluster is not None and settings.github is not None:
            world = GateWorld(self.github, self.cluster, settings.github, redactor, platform=self.platform)
            self.scenarios = ScenarioRunner(plan, world, bus, session.state, scale=settings.timing.scale)

    def _waiting(self, message: str) -> None:
        # called from the adapter's worker thread while it waits out a rate limit
        self.bus.publish(Progress(message, 0, 0))

    # -- what will run ---------------------------------------------------------------------
    def _env_targets(self) -> list[str]:
        targets = ["local"] if self.settings.codex.env_file else []
        return targets + [h.name for h in self.settings.hosts if h.env_file]

    def planned_checks(self) -> list[PlannedCheck]:
        planned = []
        for host in self.settings.hosts:
            planned.append(
                PlannedCheck(f"{host.name}/{SSH_CHECK}", SSH_CHECK, "host", "SSH reachable", host.name)
            )
            for spec in self.specs:
                if spec.scope is Scope.HOST:
                    planned.append(
                        PlannedCheck(
                            f"{host.name}/{spec.check_id}", spec.check_id, spec.area, spec.title, host.name
                        )
                    )
        for target in self._env_targets():
            for spec in self.specs:
                if spec.scope is Scope.ENV:
                    planned.append(
                        PlannedCheck(
                            f"{target}/{spec.check_id}", spec.check_id, spec.area, spec.title, target
                        )
                    )
        for spec in self._global_specs():
            planned.append(
                PlannedCheck(f"{spec.area}/{spec.check_id}", spec.check_id, spec.area, spec.title, spec.area)
            )
        return planned

    def _global_specs(self) -> list[CheckSpec]:
        """GLOBAL checks whose adapters are configured: a gate without a cluster has no cluster checks."""
        configured = {
            "github": self.github is not None,
            "cluster": self.cluster is not None,
            "platform": self.platform is not None,
        }
        return [
            s
            for s in self.specs
            if s.scope is Scope.GLOBAL and all(configured[a] for a in AREA_NEEDS.get(s.area, ()))
        ]

    # -- running -----------------------------------------------------------------------------
    def _publish_result(self, result: CheckResult) -> None:
        self.bus.publish(CheckFinished(result))

    def _result(self, spec: PlannedCheck, outcome: Outcome, duration: float) -> CheckResult:
        return CheckResult(
            check_id=spec.check_id,
            area=spec.area,
            title=spec.title,
            status=outcome.status,
            observed=self.redactor.redact(outcome.observed),
            expected=outcome.expected,
            target=spec.target,
            command=outcome.command,
            output=self.redactor.redact(outcome.output)[-4000:],
            reason=self.redactor.redact(outcome.reason),
            duration_s=round(duration, 3),
        )

    async def _run_one(
        self, planned: PlannedCheck, spec: CheckSpec, ctx: CheckContext, deadline: float
    ) -> CheckResult:
        self.bus.publish(
            CheckStarted(planned.key, planned.check_id, planned.area, planned.title, planned.target)
        )
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                outcome = await spec.fn(ctx)
        except TimeoutError:
            outcome = Outcome(Status.ERROR, reason=f"no result within {deadline:g}s")
        except GateError as err:
            outcome = Outcome(Status.ERROR, reason=str(err))
        except Exception as err:  # a bug in one check must not take the gate down with it
            outcome = Outcome(Status.ERROR, reason=f"check crashed: {type(err).__name__}: {err}")
        result = self._result(planned, outcome, time.monotonic() - started)
        self._publish_result(result)
        return result

    def _wanted(self, key: str, only: set[str] | None, rerun: bool) -> bool:
        if only is not None and key not in only:
            return False
        done = self.session.state.checks.get(key)
        return rerun or done is None

    async def _host_checks(self, host: HostSettings, only: set[str] | None, rerun: bool) -> None:
        adapter = self.hosts[host.name]
        ssh_key = f"{host.name}/{SSH_CHECK}"
        host_specs = [
            s
            for s in self.specs
            if s.scope is Scope.HOST and self._wanted(f"{host.name}/{s.check_id}", only, rerun)
        ]
        needs_env = bool(host.env_file) and self._wanted(f"{host.name}/config.required-keys", only, rerun)
        if not host_specs and not needs_env and not self._wanted(ssh_key, only, rerun):
            return
        async with self._host_pool:
            planned_ssh = PlannedCheck(ssh_key, SSH_CHECK, "host", "SSH reachable", host.name)
            self.bus.publish(CheckStarted(ssh_key, SSH_CHECK, "host", "SSH reachable", host.name))
            started = time.monotonic()
            try:
                await adapter.connect()
                outcome = Outcome(
                    Status.PASS,
                    observed=f"{host.user}@{host.address}:{host.port}",
                    expected="key login, known host key",
                )
            except AdapterError as err:
                outcome = Outcome(Status.ERROR, reason=str(err), observed=err.kind.value)
            self._publish_result(self._result(planned_ssh, outcome, time.monotonic() - started))
            deadline = host.command_timeout * 3
            items = []
            for spec in host_specs:
                planned = PlannedCheck(
                    f"{host.name}/{spec.check_id}", spec.check_id, spec.area, spec.title, host.name
                )
                if outcome.status is not Status.PASS:
                    self._publish_result(
                        self._result(planned, Outcome(Status.SKIP, reason="host not reachable"), 0)
                    )
                    continue
                ctx = CheckContext(self.settings, host=adapter, host_settings=host)
                items.append(self._run_one(planned, spec, ctx, deadline))
            if host.env_file and outcome.status is Status.PASS:
                self._env_sources[host.name] = await read_remote(adapter, host.env_file)
                self._learn_secrets(self._env_sources[host.name])
            elif host.env_file:
                self._env_sources[host.name] = EnvSource(host.name, host.env_file, error="host not reachable")
            await asyncio.gather(*items)

    def _learn_secrets(self, source: EnvSource) -> None:
        """Values of secret-bearing keys are redacted from everything from here on."""
        if source.text is None:
            return
        for entry in parse_env(source.text).entries.values():
            if is_secret_key(entry.key):
                for value in {entry.platform_value, entry.shell_value}:
                    if value:
                        self.redactor.add_secret(value)

    async def _env_checks(self, only: set[str] | None, rerun: bool) -> None:
        if self.settings.codex.env_file:
            self._env_sources["local"] = read_local(self.settings.codex.env_file)
            self._learn_secrets(self._env_sources["local"])
        items = []
        for target, source in self._env_sources.items():
            for spec in self.specs:
                key = f"{target}/{spec.check_id}"
                if spec.scope is not Scope.ENV or not self._wanted(key, only, rerun):
                    continue
                planned = PlannedCheck(key, spec.check_id, spec.area, spec.title, target)
                items.append(
                    self._run_one(planned, spec, CheckContext(self.settings, env_source=source), 30.0)
                )
        await asyncio.gather(*items)

    async def _connect(self, adapter: GitHubAdapter | ClusterAdapter | None) -> str:
        """Connect once; the one-line reason when it fails (each dependent check reports it)."""
        if adapter is None:
            return ""
        try:
            await adapter.connect()
        except AdapterError as err:
            if adapter is self.cluster and err.kind in _NOT_REACHED:
                self.cluster_unreached = err
            return str(err)
        if adapter is self.cluster:
            self.cluster_unreached = None
        return ""

    async def _global_checks(self, only: set[str] | None, rerun: bool) -> None:
        specs = [s for s in self._global_specs() if self._wanted(f"{s.area}/{s.check_id}", only, rerun)]
        if not specs:
            return
        problems = {
            "github": await self._connect(self.github),
            "cluster": await self._connect(self.cluster),
        }
        ctx = CheckContext(self.settings, github=self.github, cluster=self.cluster, platform=self.platform)
        items = []
        for spec in specs:
            planned = PlannedCheck(
                f"{spec.area}/{spec.check_id}", spec.check_id, spec.area, spec.title, spec.area
            )
            if problems.get(spec.area):
                self._publish_result(
                    self._result(planned, Outcome(Status.ERROR, reason=problems[spec.area]), 0)
                )
                continue
            items.append(self._run_one(planned, spec, ctx, self._global_deadline()))
        await asyncio.gather(*items)

    def _global_deadline(self) -> float:
        """The probes of the security checks wait for real runs (up to 45 minutes each on a real
        platform, `[timing] scale` shrinks that): a minute at least, two run lengths at most."""
        return max(60.0, 2 * RUN_WITHIN * self.settings.timing.scale)

    async def run_checks(self, only: set[str] | None = None, *, rerun: bool = True) -> None:
        """Run the plan's checks (or the keys in `only`); finished ones are kept unless `rerun`."""
        total = len(self.planned_checks())
        self.bus.publish(Progress(f"running checks on {self.settings.target_label}", 0, total))
        await asyncio.gather(
            *(self._host_checks(h, only, rerun) for h in self.settings.hosts),
            self._global_checks(only, rerun),
        )
        await self._env_checks(only, rerun)
        self.publish_verdict()
        await self.witness.post(self.session.session_id, "checks")

    async def run_scenarios(self, ids: set[str] | None = None, *, rerun: bool = False) -> None:
        """Run the plan's scenarios (or `ids`); finished ones are kept unless `rerun`."""
        if self.scenarios is None:
            return
        for problem in [await self._connect(self.github), await self._connect(self.cluster)]:
            if problem:
                self.bus.publish(Progress(f"scenarios cannot run: {problem}", 0, 0))
                return
        await self.scenarios.run(ids, rerun=rerun)
        self.publish_verdict()
        await self.witness.post(self.session.session_id, "scenarios")

    def verdict(self) -> Verdict:
        report = self.session.store.verify()
        verdict = compute_verdict(
            self.session.state,
            expected_checks=len(self.planned_checks()),
            expected_scenarios=[(s.id, s.priority) for s in self.plan.scenarios] if self.scenarios else None,
            chain_ok=report.ok,
            chain_problem=report.problem,
        )
        gated = [s for s in self.plan.scenarios if s.priority in ("P0", "P1")]
        if self.scenarios is None and gated:
            # a gate that cannot drive the scenarios has not shown the platform works
            reason = (
                f"{len(gated)} P0/P1 scenario(s) cannot run: GitHub and the cluster must both be configured"
            )
            return Verdict(go=False, reasons=(*verdict.reasons, reason))
        return verdict

    def publish_verdict(self) -> Verdict:
        self.session.store.flush()
        verdict = self.verdict()
        current = self.session.state.verdict
        if current is None or current != verdict:
            self.bus.publish(VerdictChanged(verdict.go, verdict.reasons))
        return verdict

    async def run(self, *, rerun: bool = False, after_checks: Callable[[], None] | None = None) -> Verdict:
        """The whole gate. On a resumed session, finished items are kept unless `rerun`.
        `after_checks` runs between the checks and the scenarios (headless waivers are recorded there)."""
        await self.run_checks(rerun=rerun)
        if after_checks is not None:
            after_checks()
        await self.run_scenarios(rerun=rerun)
        verdict = self.publish_verdict()
        self.bus.publish(RunFinished(verdict.go, verdict.reasons))
        await self.witness.post(self.session.session_id, "finished")
        return verdict

    def log_sources(self) -> list[LogSource]:
        """What the logs pane follows, over the engine's own adapters (one SSH connection per host)."""
        return log_sources(self.settings, self.hosts, self.cluster)

    def connection_errors(self) -> list[str]:
        """One line per target that could not be reached at all (headless exits 2 on these)."""
        lines = [
            f"{r.target}: {r.reason}"
            for r in self.session.state.checks.values()
            if r.check_id == SSH_CHECK and r.status is Status.ERROR
        ]
        if self.cluster_unreached is not None:
            lines.append(str(self.cluster_unreached))
        return lines

    async def aclose(self) -> None:
        if self.cluster is not None:
            # first: its port forward would otherwise re-make the host connection closed under it
            await asyncio.gather(self.cluster.aclose(), return_exceptions=True)
        closing = [h.close() for h in self.hosts.values()]
        if self.github is not None:
            closing.append(self.github.aclose())
        if self.platform is not None:
            closing.append(self.platform.aclose())
        await asyncio.gather(*closing, return_exceptions=True)
