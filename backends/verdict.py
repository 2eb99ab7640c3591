"""The engine's recommendation. The owner decides; this only says what the evidence supports.

GO only when every P0/P1 scenario passed (P1 may be waived with a reason), every check passed or
warned (or was waived), the evidence chain verifies and the secret scan is clean.
"""

from __future__ import annotations

from backends.results import Status, Verdict
from backends.state import GateState

CHECK_OK = {Status.PASS, Status.WARN}
SCENARIO_OK = {"PASS"}
WAIVABLE_PRIORITIES = {"P1", "P2"}


def compute_verdict(
    state: GateState,
    *,
    expected_checks: int | None = None,
    expected_scenarios: list[tuple[str, str]] | None = None,
    chain_ok: bool = True,
    chain_problem: str = "",
    secret_findings: int = 0,
) -> Verdict:
    reasons: list[str] = []
    for key, result in sorted(state.checks.items()):
        if result.status in CHECK_OK or key in state.waivers:
            continue
        why = f": {result.reason}" if result.reason else ""
        reasons.append(f"check {key} {result.status}{why}")
    if expected_checks is not None and len(state.checks) < expected_checks:
        reasons.append(f"{expected_checks - len(state.checks)} check(s) have not run")
    for scenario_id, priority in expected_scenarios or []:
        sc = state.scenarios.get(scenario_id)
        status = sc.status if sc else "PENDING"
        if status in SCENARIO_OK or priority == "P2":
            continue
        if priority in WAIVABLE_PRIORITIES and scenario_id in state.waivers:
            continue
        why = f": {sc.reason}" if sc and sc.reason else ""
        reasons.append(f"scenario {scenario_id} ({priority}) {status}{why}")
    if not chain_ok:
        reasons.append(f"evidence chain broken: {chain_problem}")
    if secret_findings:
        reasons.append(f"secret scan found {secret_findings} secret(s) in the evidence")
    return Verdict(go=not reasons, reasons=tuple(reasons))
