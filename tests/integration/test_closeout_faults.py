"""The closeout groups of the Day 20 epic (S self-deploy, X cross-project, O docset governance, R image
builds) and the host's image-management checks, against sandboxes through the real adapters.

Healthy, the closeout scenarios pass with the platform's evidence in their steps. Their faults break
different scenarios and checks through unrelated behaviours (the self-deploy's rollout, a run's
project, the docset sync, a Kaniko build, the registry, the prune timer), so one world carries them
all: the whole gate there fails exactly what they name, each scenario at one step whose actual says
what the platform did instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.gate import open_demo_gate
from backends.plan.loader import load_plan
from backends.results import Status, Verdict
from backends.sandbox import kodex_images as images
from backends.sandbox.faults import CATALOGUE
from backends.sandbox.world import DEMO_WAIVERS, PROJECT_REPO, fault_descriptions
from backends.signals.sources import KNOWN
from backends.state import ScenarioState
from backends.waivers import WaiverRefused, record_waiver

#: the faults of the closeout groups (tested here, not among the other platform faults' worlds)
CLOSEOUT_FAULTS = (
    "platform.selfdeploy-stuck",
    "platform.cross-project-token",
    "platform.docset-sync-fails",
    "platform.image-build-fails",
)
HOST_FAULTS = ("vps.registry-down", "vps.image-prune-off")
CLOSEOUT = {"S1", "X1", "X2", "O-project", "O-platform", "R1"}
SCENARIO_IDS = {s.id for s in load_plan(None).scenarios}
#: what each failing step's actual must say: the platform's own words for what went wrong
SAYS = {
    "S1": ("status=running", "kodex-prod"),
    "X1": ("recorded under project kodex", "expected project-example"),
    "O-project": ("docset sync", "500"),
    "R1": ("status=failed", "build failed: demo-app", "runtime_deploy_failed", "wait kaniko job"),
}


@dataclass
class Outcome:
    scenarios: dict[str, ScenarioState]
    checks: dict[str, Status]
    verdict: Verdict


async def _healthy(root: Path) -> Outcome:
    """The closeout scenarios alone (the whole healthy plan is the session's demo gate)."""
    gate = await open_demo_gate(root / "healthy")
    try:
        await gate.engine.run_scenarios(CLOSEOUT)
        return Outcome(dict(gate.session.state.scenarios), {}, gate.engine.verdict())
    finally:
        await gate.aclose()


async def _broken(root: Path) -> Outcome:
    gate = await open_demo_gate(root / "broken", [*CLOSEOUT_FAULTS, *HOST_FAULTS])
    try:
        await gate.engine.run()  # the whole gate: checks, then scenarios
        for key, reason in DEMO_WAIVERS.items():  # the stock platform's known finding, as the demo does
            with contextlib.suppress(WaiverRefused):
                record_waiver(gate, key, reason)
        checks = {r.check_id: r.status for r in gate.session.state.checks.values()}
        return Outcome(dict(gate.session.state.scenarios), checks, gate.engine.verdict())
    finally:
        await gate.aclose()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Outcome]:
    root = tmp_path_factory.mktemp("closeout")

    async def both() -> tuple[Outcome, Outcome]:
        healthy, broken = await asyncio.gather(_healthy(root), _broken(root))
        return healthy, broken

    return asyncio.run(both())


def _breaks(names: tuple[str, ...]) -> set[str]:
    return {item for name in names for item in CATALOGUE[name].breaks}


def test_the_faults_are_listed_and_break_disjoint_things() -> None:
    listed = "\n".join(fault_descriptions())
    for name in (*CLOSEOUT_FAULTS, *HOST_FAULTS):
        assert name in CATALOGUE and name in listed, name
    named = [item for name in (*CLOSEOUT_FAULTS, *HOST_FAULTS) for item in CATALOGUE[name].breaks]
    assert len(named) == len(set(named)), named
    assert _breaks(CLOSEOUT_FAULTS) == set(SAYS)
    assert _breaks(HOST_FAULTS) == {"host.registry", "host.image-prune"}


def test_healthy_closeout_scenarios_pass_with_the_platforms_evidence(
    worlds: tuple[Outcome, Outcome],
) -> None:
    scenarios = worlds[0].scenarios
    assert {sid: scenarios[sid].status for sid in CLOSEOUT} == dict.fromkeys(CLOSEOUT, "PASS")
    # S1: the push's deploy built the bumped images and found the rest; kodex-prod runs them
    deploy = scenarios["S1"].steps[0].detail["deploy"]
    assert deploy["deploy_only"] and deploy["namespace"] == "kodex-prod" and deploy["status"] == "succeeded"
    assert set(deploy["built"]) == {"control-plane", "worker"}
    assert deploy["images"]["control-plane"] == images.ref("control-plane", images.MAIN_HEAD["control-plane"])
    rollout = scenarios["S1"].steps[1].actual
    assert f"Job kodex-migrate ({deploy['images']['control-plane']}) complete" in rollout
    assert f"kodex-worker ({deploy['images']['worker']})" in rollout
    assert "run.succeeded" in scenarios["S1"].steps[2].actual
    # X1/X2: each run is its own project's, in the staff API and in its namespace's label
    assert "kodex.works/project-id=" in scenarios["X1"].steps[3].actual
    assert "project project-example" in scenarios["X1"].steps[3].actual
    assert "own bot token yes" in scenarios["X1"].steps[3].actual
    assert "project kodex" in scenarios["X2"].steps[3].actual
    # O: the platform opened its pull requests in the bound repository
    for index, operation in enumerate(("import", "sync")):
        docset = scenarios["O-project"].steps[index].detail["docset"]
        assert docset["operation"] == operation and docset["repository"] == PROJECT_REPO
        assert docset["branch"].startswith(f"kodex-docset-{operation}/")
    # R1: the run's deploy built the project's image with a Kaniko Job
    built = scenarios["R1"].steps[3].detail["deploy"]
    assert built["built"] == ["demo-app"] and built["status"] == "succeeded"
    for sid in CLOSEOUT:
        for step in scenarios[sid].steps.values():
            assert step.detail.get("source") in KNOWN, (sid, step.description)


def test_each_fault_fails_exactly_what_it_names(worlds: tuple[Outcome, Outcome]) -> None:
    broken = worlds[1]
    named = _breaks((*CLOSEOUT_FAULTS, *HOST_FAULTS))
    failed = {sid for sid, sc in broken.scenarios.items() if sc.status == "FAIL"}
    assert failed == named & SCENARIO_IDS
    waived = {key.split("/", 1)[1] for key in DEMO_WAIVERS}
    failing = {cid for cid, status in broken.checks.items() if status is Status.FAIL} - waived
    assert failing == named - SCENARIO_IDS
    assert not broken.verdict.go
    for reason in broken.verdict.reasons:
        if reason.startswith("check "):
            assert reason.split()[1].split("/", 1)[1] in named, reason
        else:
            assert reason.startswith("scenario ") and reason.split()[1] in named, reason


@pytest.mark.parametrize("scenario", sorted(SAYS))
def test_a_broken_scenario_says_expected_and_actual(worlds: tuple[Outcome, Outcome], scenario: str) -> None:
    broken = worlds[1]
    assert any(reason.startswith(f"scenario {scenario} ") for reason in broken.verdict.reasons)
    failing = [s for s in broken.scenarios[scenario].steps.values() if s.status == "FAIL"]
    assert len(failing) == 1
    step = failing[0]
    assert step.expected and step.actual and step.expected != step.actual
    assert step.detail.get("source") in KNOWN
    for words in SAYS[scenario]:
        assert words in step.actual, (words, step.actual)
    assert "\n" not in step.actual
