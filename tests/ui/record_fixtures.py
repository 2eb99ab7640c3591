"""Record the UI tests' fixtures from real sandbox gate runs: the security checks' results (a healthy
world and one with findings) and the scenario events of a gate whose platform has two faults.

Run it when the checks, the plan or the simulated platform change, then look at the snapshots it
changes before accepting them: `python3 -m tests.ui.record_fixtures`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from backends.checks.registry import REGISTRY
from backends.gate import open_demo_gate
from backends.signoff import pane_of
from tests.ui.support import SCENARIOS_AT

HERE = Path(__file__).parent
FINDINGS = (
    "cluster.netpol-missing",
    "cluster.secret-in-event",
    "platform.secret-in-log",
    "platform.agent-reads-secrets",
    "platform.duplicate-run-on-redelivery",
)
#: the scenario recording: three scenarios fail (D2; A3 and L-revise)
SCENARIO_FAULTS = ("platform.revise-new-namespace", "platform.production-candidate-profile")
SECURITY = {cid for cid, spec in REGISTRY.items() if pane_of(spec.area) == "security"}


async def _security(root: Path, faults: tuple[str, ...]) -> list[dict[str, Any]]:
    gate = await open_demo_gate(root, list(faults))
    try:
        await gate.engine.run_checks()
        results = [r for r in gate.session.state.checks.values() if r.check_id in SECURITY]
        return [r.to_payload() for r in sorted(results, key=lambda r: r.check_id)]
    finally:
        await gate.aclose()


def _shifted(payload: dict[str, Any], shift: float) -> dict[str, Any]:
    """The payload with the run phase times it holds moved by `shift` seconds."""
    detail = payload.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("phase_at"), dict):
        return payload
    moved = {phase: round(at + shift, 3) for phase, at in detail["phase_at"].items()}
    return {**payload, "detail": {**detail, "phase_at": moved}}


async def _scenarios(root: Path) -> list[tuple[str, dict[str, Any], float]]:
    gate = await open_demo_gate(root, list(SCENARIO_FAULTS))
    try:
        assert gate.engine.scenarios is not None
        gate.engine.scenarios.max_within = 20.0
        await gate.engine.run_scenarios()
        kinds = ("scenario.step", "scenario.finished")
        records = [r for r in gate.session.store.records() if r["kind"] in kinds]
        # times moved to start at SCENARIOS_AT (the timeline draws them as they were, on fixed dates)
        shift = SCENARIOS_AT - (records[0]["ts"] if records else 0.0)
        return [(r["kind"], _shifted(r["payload"], shift), round(r["ts"] + shift, 3)) for r in records]
    finally:
        await gate.aclose()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        healthy, findings, events = await asyncio.gather(
            _security(root / "healthy", ()), _security(root / "findings", FINDINGS), _scenarios(root / "scen")
        )
    (HERE / "security_results.json").write_text(
        json.dumps({"healthy": healthy, "findings": findings}, indent=1, ensure_ascii=False) + "\n"
    )
    (HERE / "scenario_events.json").write_text(json.dumps(events, indent=0, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
