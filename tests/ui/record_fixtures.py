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


async def _scenarios(root: Path) -> list[tuple[str, dict[str, Any]]]:
    gate = await open_demo_gate(root, list(SCENARIO_FAULTS))
    try:
        assert gate.engine.scenarios is not None
        gate.engine.scenarios.max_within = 20.0
        await gate.engine.run_scenarios()
        return [
            (r["kind"], r["payload"])
            for r in gate.session.store.records()
            if r["kind"] in ("scenario.step", "scenario.finished")
        ]
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
