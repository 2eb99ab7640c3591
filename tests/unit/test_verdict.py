from backends.events import CheckFinished, ScenarioFinished, Waived
from backends.results import CheckResult, Status
from backends.state import GateState
from backends.verdict import compute_verdict


def result(check_id: str, status: Status, reason: str = "") -> CheckResult:
    return CheckResult(
        check_id=check_id, area="host", title=check_id, status=status, target="vps", reason=reason
    )


def state_with(*results: CheckResult) -> GateState:
    state = GateState()
    for r in results:
        state.apply(CheckFinished(r))
    return state


def test_all_pass_is_go() -> None:
    state = state_with(result("host.os", Status.PASS), result("host.cpu", Status.WARN))
    verdict = compute_verdict(state, expected_checks=2)
    assert verdict.go and verdict.label == "GO" and verdict.reasons == ()


def test_a_failed_check_is_no_go_and_named() -> None:
    state = state_with(
        result("host.os", Status.FAIL, "Debian 12, expected Ubuntu 24.04"), result("host.cpu", Status.PASS)
    )
    verdict = compute_verdict(state, expected_checks=2)
    assert not verdict.go
    assert verdict.reasons == ("check vps/host.os FAIL: Debian 12, expected Ubuntu 24.04",)


def test_a_waived_check_does_not_block() -> None:
    state = state_with(result("host.os", Status.FAIL))
    state.apply(Waived("vps/host.os", "staging host, accepted by owner", "owner"))
    assert compute_verdict(state, expected_checks=1).go


def test_checks_that_have_not_run_block() -> None:
    state = state_with(result("host.os", Status.PASS))
    verdict = compute_verdict(state, expected_checks=3)
    assert not verdict.go and "2 check(s) have not run" in verdict.reasons


def test_skipped_or_errored_checks_block() -> None:
    state = state_with(
        result("host.ssh", Status.ERROR, "refused"), result("host.os", Status.SKIP, "host not reachable")
    )
    assert len(compute_verdict(state).reasons) == 2


def test_scenarios_by_priority() -> None:
    state = GateState()
    state.apply(ScenarioFinished("A1", "FAIL", "P0", reason="no state:in-review"))
    state.apply(ScenarioFinished("B3", "FAIL", "P1"))
    state.apply(ScenarioFinished("F1", "FAIL", "P2"))
    plan = [("A1", "P0"), ("B3", "P1"), ("F1", "P2"), ("C1", "P0")]
    reasons = compute_verdict(state, expected_scenarios=plan).reasons
    assert [r.split()[1] for r in reasons] == ["A1", "B3", "C1"]
    state.apply(Waived("B3", "known flake, tracked", "owner"))
    state.apply(Waived("A1", "P0 cannot be waived", "owner"))
    reasons = compute_verdict(state, expected_scenarios=plan).reasons
    assert [r.split()[1] for r in reasons] == ["A1", "C1"]


def test_broken_chain_and_secret_findings_block() -> None:
    verdict = compute_verdict(
        GateState(),
        chain_ok=False,
        chain_problem="record 3: content does not match its hash",
        secret_findings=2,
    )
    assert verdict.reasons == (
        "evidence chain broken: record 3: content does not match its hash",
        "secret scan found 2 secret(s) in the evidence",
    )
