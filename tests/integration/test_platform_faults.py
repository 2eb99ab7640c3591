"""Each simulated-platform fault fails exactly the scenarios it names, with a readable expected vs
actual, and the verdict turns NO-GO naming them.

The whole default plan runs against sandboxes (SSH host, Kubernetes API, GitHub API, platform) through
the real adapters. Faults that break different scenarios through different behaviours share a world:
each world fails exactly the union of what its faults name, and each fault its own scenarios, so the
suite pays for two worlds instead of one per fault. The healthy world is the test session's demo gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.gate import open_demo_gate
from backends.plan.loader import load_plan
from backends.results import Verdict
from backends.sandbox.faults import CATALOGUE
from backends.sandbox.world import DEMO_WAIVERS
from backends.state import ScenarioState
from backends.waivers import WaiverRefused, record_waiver
from tests.conftest import DemoRun
from tests.integration.fault_worlds import breaks, group, label
from tests.integration.test_closeout_faults import CLOSEOUT_FAULTS

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first

SCENARIO_IDS = {s.id for s in load_plan(None).scenarios}
#: the closeout groups' faults share a world of their own (test_closeout_faults.py)
PLATFORM_FAULTS = sorted(
    name
    for name, fault in CATALOGUE.items()
    if fault.component == "platform" and set(fault.breaks) & SCENARIO_IDS and name not in CLOSEOUT_FAULTS
)
#: worlds the faults share (more keeps each world's failing scenarios within one round of the
#: runner's parallel slots)
WORLDS = group(PLATFORM_FAULTS, 3)
WORLD_OF = {fault: world for world in WORLDS for fault in world}


@dataclass
class Outcome:
    scenarios: dict[str, ScenarioState]
    verdict: Verdict
    #: (scenario id, actual) of the progress a waiting step reported
    waiting: list[tuple[str, str]]


async def _gate_with(faults: tuple[str, ...], root: Path) -> Outcome:
    gate = await open_demo_gate(root / faults[0], faults)
    try:
        await gate.engine.run()  # the whole gate: checks, then scenarios
        # the stock platform's known finding, waived with its reason as the headless demo does
        for key, reason in DEMO_WAIVERS.items():
            with contextlib.suppress(WaiverRefused):
                record_waiver(gate, key, reason)
        waiting = [
            (r["payload"]["scenario_id"], r["payload"]["actual"])
            for r in gate.session.store.records()
            if r["kind"] == "scenario.step" and r["payload"]["status"] == "RUNNING" and r["payload"]["actual"]
        ]
        return Outcome(dict(gate.session.state.scenarios), gate.engine.verdict(), waiting)
    finally:
        await gate.aclose()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Outcome]:
    root = tmp_path_factory.mktemp("faults")

    async def all_of_them() -> list[Outcome]:
        return await asyncio.gather(*(_gate_with(world, root) for world in WORLDS))

    return dict(zip(WORLDS, asyncio.run(all_of_them()), strict=True))


def _failed(outcome: Outcome) -> set[str]:
    return {sid for sid, sc in outcome.scenarios.items() if sc.status == "FAIL"}


def test_every_platform_fault_is_covered() -> None:
    assert len(PLATFORM_FAULTS) >= 6, PLATFORM_FAULTS
    assert sorted(f for world in WORLDS for f in world) == PLATFORM_FAULTS
    for world in WORLDS:  # no scenario or check is broken by two faults of one world
        named = [item for fault in world for item in CATALOGUE[fault].breaks]
        assert len(named) == len(set(named)), world


@pytest.mark.parametrize("world", WORLDS, ids=label)
def test_world_fails_exactly_what_its_faults_name(
    outcomes: dict[tuple[str, ...], Outcome], world: tuple[str, ...]
) -> None:
    outcome = outcomes[world]
    assert _failed(outcome) == breaks(world) & SCENARIO_IDS
    assert not outcome.verdict.go
    # the faults may also fail the checks they name (and nothing else)
    named_checks = breaks(world) - SCENARIO_IDS
    for reason in outcome.verdict.reasons:
        if reason.startswith("check "):
            assert reason.split()[1].split("/", 1)[1] in named_checks, reason
        else:
            assert reason.startswith("scenario "), reason


@pytest.mark.parametrize("fault", PLATFORM_FAULTS)
def test_fault_fails_its_scenarios_naming_the_signal(
    outcomes: dict[tuple[str, ...], Outcome], fault: str
) -> None:
    outcome = outcomes[WORLD_OF[fault]]
    named = set(CATALOGUE[fault].breaks) & SCENARIO_IDS
    assert named <= _failed(outcome)
    for sid in named:
        assert any(reason.startswith(f"scenario {sid} ") for reason in outcome.verdict.reasons), (
            sid,
            outcome.verdict.reasons,
        )
        failed_steps = [s for s in outcome.scenarios[sid].steps.values() if s.status == "FAIL"]
        assert len(failed_steps) == 1
        step = failed_steps[0]
        # expected vs actual, both in words a person can act on, naming the platform signal
        assert step.expected and step.actual and step.expected != step.actual
        assert step.detail.get("source") or any(
            word in step.actual
            for word in ("run_status=", "phase=", "kodex.works/", "event", "approval", "namespace")
        ), step.actual


def test_a_waiting_step_says_what_it_waits_for_where_and_how_long(
    outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    outcome = outcomes[WORLD_OF["platform.run-never-finishes"]]
    lines = [actual for sid, actual in outcome.waiting if sid == "A3"]
    assert lines, "the stalled postdeploy run showed no progress"
    assert any(line.startswith("waiting on ") and " left; last seen: " in line for line in lines), lines
    assert any("trigger_kind=postdeploy" in line and "phase=" in line for line in lines), lines
    assert any(", run " in line for line in lines), lines  # once a run matched, it is named


# last in the module: by then the session's demo gate (started with the first test) is done
def test_healthy_platform_passes_every_automatic_scenario(demo_run: DemoRun) -> None:
    report = json.loads(demo_run.report.read_text())
    statuses = {s["id"]: s["status"] for s in report["scenarios"]}
    auto = {s.id for s in load_plan(None).scenarios if s.mode == "auto"}
    assert {sid for sid, status in statuses.items() if status == "PASS"} == auto, statuses
    assert not [sid for sid, status in statuses.items() if status == "FAIL"]
    assert report["verdict"] == "GO", report["reasons"]
