"""The scenario runner: steps in order, per-step timeouts, parallel where the plan allows, resumable.

Every step is announced (RUNNING) and concluded (PASS/FAIL with expected vs actual) as events, so the
evidence holds what happened and a restarted session knows where it stopped. Actions are idempotent
against the live world (a label already there is not applied again; the test issue and the gate's
comments carry a hidden marker and are found again), so resuming never repeats a side effect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from backends.errors import GateError
from backends.events import EventBus, ScenarioFinished, ScenarioStepChanged
from backends.plan.model import Plan, Scenario
from backends.plan.steps import AddLabel, Step
from backends.scenarios.context import ScenarioContext
from backends.scenarios.observe import observe_runs
from backends.scenarios.steps_exec import StepFailed, execute
from backends.scenarios.world import GateWorld
from backends.state import GateState

#: context fields that steer a resumed run and are not evidence
INTERNAL = {"scenario_id", "resumed", "occurrence", "signals", "interrupted"}
#: a waiting step says what it waits for at most this often (each report is an evidence record)
PROGRESS_EVERY_S = 5.0
PASS, FAIL, SKIP, RUNNING, MANUAL = "PASS", "FAIL", "SKIP", "RUNNING", "MANUAL"


class ScenarioRunner:
    def __init__(
        self,
        plan: Plan,
        world: GateWorld,
        bus: EventBus,
        state: GateState,
        *,
        parallel: int = 6,
        scale: float = 1.0,
    ) -> None:
        #: `[timing] scale`: the plan's waits are written for the real platform (minutes per run)
        self.scale = scale
        #: an upper bound on any one wait after scaling (tests keep a broken behaviour short)
        self.max_within: float | None = None
        self.plan = plan
        self.world = world
        self.bus = bus
        self.state = state
        self._pool = asyncio.Semaphore(parallel)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()

    @property
    def session_id(self) -> str:
        """Read when a step runs: the session's id is known only once the session has opened, and a
        resumed session's markers must be the ones its first process wrote."""
        if not self.state.session_id:
            raise GateError("the session is not open yet: scenarios cannot run")
        return self.state.session_id

    # -- what there is ------------------------------------------------------------------------
    def expected(self) -> list[tuple[str, str]]:
        return [(s.id, s.priority) for s in self.plan.scenarios]

    def _finished(self, scenario_id: str) -> bool:
        sc = self.state.scenarios.get(scenario_id)
        return sc is not None and sc.status in {PASS, FAIL, SKIP}

    # -- running --------------------------------------------------------------------------------
    async def run(self, ids: Iterable[str] | None = None, *, rerun: bool = False) -> None:
        wanted = [s for s in self.plan.scenarios if ids is None or s.id in set(ids)]
        todo = [s for s in wanted if rerun or not self._finished(s.id)]
        parallel = [s for s in todo if s.parallel and s.mode == "auto"]
        serial = [s for s in todo if s not in parallel]
        await asyncio.gather(*(self._spawn(s, rerun) for s in parallel))
        for scenario in serial:
            await self._spawn(scenario, rerun)

    async def _spawn(self, scenario: Scenario, fresh: bool) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks[scenario.id] = task
        try:
            async with self._pool:
                await self.run_scenario(scenario, fresh=fresh)
        except asyncio.CancelledError:
            # only the operator's cancel is a result; a shutdown leaves the scenario to resume
            if scenario.id not in self._cancelled:
                raise
            self._cancelled.discard(scenario.id)
            self._finish(scenario, SKIP, "cancelled by the operator", 0.0, ScenarioContext(scenario.id))
        finally:
            self._tasks.pop(scenario.id, None)

    def cancel(self, scenario_id: str) -> bool:
        task = self._tasks.get(scenario_id)
        if task is None:
            return False
        self._cancelled.add(scenario_id)
        task.cancel()
        return True

    def skip(self, scenario_id: str, reason: str) -> None:
        scenario = self.plan.scenario(scenario_id)
        self._finish(scenario, SKIP, reason, 0.0, ScenarioContext(scenario_id))

    def record_manual(self, scenario_id: str, passed: bool, note: str, by: str) -> None:
        scenario = self.plan.scenario(scenario_id)
        ctx = ScenarioContext(scenario_id)
        for index, item in enumerate(scenario.checklist):
            self._step(scenario, index, PASS if passed else FAIL, item, "confirmed by the operator", note)
        self._finish(scenario, PASS if passed else FAIL, f"{by}: {note}", 0.0, ctx)

    def _restore(self, scenario: Scenario, fresh: bool) -> tuple[ScenarioContext, set[int]]:
        """The context and the steps already done, from evidence (nothing if starting fresh)."""
        sc = self.state.scenarios.get(scenario.id)
        attempt = 1
        if sc is not None:
            attempt = max([1, *(int(s.detail.get("attempt", 1)) for s in sc.steps.values())])
            if fresh and sc.steps:
                attempt += 1
        ctx = ScenarioContext(scenario.id, attempt=attempt)
        done: set[int] = set()
        if sc is not None and not fresh:
            for index, step in sorted(sc.steps.items()):
                if int(step.detail.get("attempt", 1)) != attempt:
                    continue
                ctx.learn(step.detail)
                if step.status == PASS:
                    done.add(index)
                elif step.status == RUNNING:
                    ctx.interrupted.add(index)
            ctx.resumed = any(int(st.detail.get("attempt", 1)) == attempt for st in sc.steps.values())
        seen: dict[tuple[str, str], int] = {}
        for index, planned in enumerate(scenario.steps):
            if isinstance(planned, AddLabel):
                key = (planned.label, planned.target)
                seen[key] = ctx.occurrence[index] = seen.get(key, 0) + 1
        return ctx, done

    async def run_scenario(self, scenario: Scenario, *, fresh: bool = False) -> None:
        if scenario.mode == "manual":
            if not self._finished(scenario.id):
                for index, item in enumerate(scenario.checklist):
                    self._step(scenario, index, MANUAL, item, "the operator confirms", "")
            return
        ctx, done = self._restore(scenario, fresh)
        started = time.monotonic()
        for index, step in enumerate(scenario.steps):
            if index in done:
                continue
            step = self._timed(step)
            cited = {"source": step.source} if step.source else {}
            self._step(scenario, index, RUNNING, step.describe(), _expected(step), "", ctx, cited)
            try:
                result = await execute(
                    step, index, ctx, self.world, self.session_id, self._progress(scenario, index, step, ctx)
                )
            except StepFailed as failure:
                self._step(
                    scenario,
                    index,
                    FAIL,
                    step.describe(),
                    _expected(step),
                    failure.actual,
                    ctx,
                    cited | failure.detail,
                )
                await self._observe(ctx)
                self._finish(
                    scenario,
                    FAIL,
                    f"step {index + 1} ({step.kind}): {failure.actual}",
                    time.monotonic() - started,
                    ctx,
                )
                return
            except GateError as err:
                self._step(scenario, index, FAIL, step.describe(), _expected(step), str(err), ctx, cited)
                await self._observe(ctx)
                self._finish(
                    scenario, FAIL, f"step {index + 1} ({step.kind}): {err}", time.monotonic() - started, ctx
                )
                return
            self._step(
                scenario,
                index,
                PASS,
                step.describe(),
                _expected(step),
                result.actual,
                ctx,
                cited | result.detail,
            )
        await self._observe(ctx)
        self._finish(scenario, PASS, "", time.monotonic() - started, ctx)

    async def _observe(self, ctx: ScenarioContext) -> None:
        """The runs the scenario matched, as evidence for the bundle, before it is concluded."""
        for event in await observe_runs(ctx, self.world):
            self.bus.publish(event)

    def _timed(self, step: Step) -> Step:
        within = getattr(step, "within", None)
        if within is None:
            return step
        scaled = within * self.scale
        if self.max_within is not None:
            scaled = min(scaled, self.max_within)
        return step.model_copy(update={"within": scaled})

    def _progress(
        self, scenario: Scenario, index: int, step: Step, ctx: ScenarioContext
    ) -> Callable[[str, float], None]:
        """What a waiting step shows: what it waits for, on which issue and run, and the time left."""
        last = [0.0]

        def report(seen: str, left: float) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = now
            where = f"{ctx.repo}#{ctx.issue}" if ctx.issue else "no issue yet"
            run = f", run {ctx.run_id}" if ctx.run_id else ""
            actual = f"waiting on {where}{run}, {_left(left)} left; last seen: {seen}"
            cited = {"source": step.source} if step.source else {}
            self._step(scenario, index, RUNNING, step.describe(), _expected(step), actual, ctx, cited)

        return report

    # -- events -----------------------------------------------------------------------------------
    def _step(
        self,
        scenario: Scenario,
        index: int,
        status: str,
        description: str,
        expected: str,
        actual: str,
        ctx: ScenarioContext | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        detail: dict[str, Any] = {"attempt": ctx.attempt if ctx else 1}
        if ctx is not None:
            detail.update({k: v for k, v in vars(ctx).items() if k not in INTERNAL and v not in (None, "")})
        detail.update(extra or {})
        self.bus.publish(
            ScenarioStepChanged(
                scenario.id,
                index,
                status,
                description,
                expected,
                self.world.redact(actual),
                detail,
                scenario.priority,
                scenario.title,
            )
        )

    def _finish(
        self, scenario: Scenario, status: str, reason: str, duration: float, ctx: ScenarioContext
    ) -> None:
        evidence = {k: v for k, v in vars(ctx).items() if k not in INTERNAL and v not in (None, "")}
        self.bus.publish(
            ScenarioFinished(
                scenario.id,
                status,
                scenario.priority,
                scenario.title,
                self.world.redact(reason),
                round(duration, 2),
                evidence,
            )
        )


def _expected(step: Step) -> str:
    return step.describe()


def _left(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
