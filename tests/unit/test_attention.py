"""Which gate events call the operator back, what the call says, and the [attention] settings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from backends.attention import Attention
from backends.attention_hook import hook_document, hook_environment
from backends.config import ATTENTION_NEEDS, Settings, load_settings
from backends.errors import ConfigError
from backends.events import (
    AttentionNeeded,
    CheckFinished,
    Event,
    EventBus,
    RunFinished,
    ScenarioFinished,
    ScenarioStepChanged,
)
from backends.plan.loader import load_plan
from backends.plan.steps import DecideApproval, ExpectApproval
from backends.redact import Redactor
from backends.results import CheckResult, Status
from backends.state import GateState

PLAN = load_plan(None)
SECRET = "s3cr3t-hook-value-42"


def attention(needs: Iterable[str] = ATTENTION_NEEDS) -> tuple[Attention, list[Event]]:
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append)
    redact = Redactor([SECRET]).redact
    subscriber = Attention(bus, PLAN, GateState(), redact, needs=needs, clock=lambda: 1000.0)
    bus.subscribe(subscriber)
    return subscriber, seen


def calls(seen: list[Event]) -> list[AttentionNeeded]:
    return [e for e in seen if isinstance(e, AttentionNeeded)]


def check(status: Status, reason: str = "") -> CheckFinished:
    return CheckFinished(
        CheckResult(
            "host.os", "host", "OS is Ubuntu 24.04", status, "Debian 12", reason=reason, target="prod"
        )
    )


def step_index(scenario_id: str, kind: type, n: int = 0) -> int:
    steps = PLAN.scenario(scenario_id).steps
    return [i for i, s in enumerate(steps) if isinstance(s, kind)][n]


def test_a_failing_or_erroring_check_calls_and_a_passing_one_does_not() -> None:
    sub, seen = attention()
    sub.bus.publish(check(Status.PASS))
    sub.bus.publish(check(Status.SKIP, "host not reachable"))
    sub.bus.publish(check(Status.WARN, "close to the limit"))
    assert calls(seen) == []
    sub.bus.publish(check(Status.FAIL, "Debian GNU/Linux 12, expected Ubuntu 24.04"))
    sub.bus.publish(check(Status.ERROR, "no result within 60s"))
    found = calls(seen)
    assert [(c.need, c.status, c.check_key, c.severity) for c in found] == [
        ("failure", "FAIL", "prod/host.os", "error"),
        ("failure", "ERROR", "prod/host.os", "error"),
    ]
    assert found[0].message == "Check prod/host.os FAIL: Debian GNU/Linux 12, expected Ubuntu 24.04"
    assert found[0].title == "OS is Ubuntu 24.04" and found[0].ts == 1000.0


def test_the_call_comes_after_its_cause_on_the_bus() -> None:
    sub, seen = attention()
    cause = check(Status.FAIL, "wrong OS")
    sub.bus.publish(cause)
    assert seen[0] is cause and isinstance(seen[1], AttentionNeeded)


def test_only_p0_and_p1_scenario_failures_call() -> None:
    sub, seen = attention()
    sub.bus.publish(ScenarioFinished("D3", "FAIL", "P2", "manual scenario", "nope"))
    sub.bus.publish(ScenarioFinished("C3", "PASS", "P0", "approvals"))
    sub.bus.publish(ScenarioFinished("C3", "SKIP", "P0", "approvals", "skipped by the operator"))
    assert calls(seen) == []
    sub.bus.publish(
        ScenarioFinished("C3", "FAIL", "P0", "approvals", "step 4 (expect_approval): not within 60s")
    )
    sub.bus.publish(ScenarioFinished("B3", "FAIL", "P1", "revise", "step 2: no run"))
    found = calls(seen)
    assert [(c.need, c.scenario_id, c.status, c.severity) for c in found] == [
        ("failure", "C3", "FAIL", "error"),
        ("failure", "B3", "FAIL", "error"),
    ]
    assert found[0].message == "Scenario C3 (P0) FAIL: step 4 (expect_approval): not within 60s"


def test_a_manual_scenario_calls_once_for_its_whole_checklist() -> None:
    manual = next(s for s in PLAN.scenarios if s.mode == "manual")
    sub, seen = attention()
    for index, item in enumerate(manual.checklist):
        sub.bus.publish(
            ScenarioStepChanged(
                manual.id,
                index,
                "MANUAL",
                item,
                "the operator confirms",
                "",
                {},
                manual.priority,
                manual.title,
            )
        )
    found = calls(seen)
    assert len(found) == 1
    assert (found[0].need, found[0].scenario_id, found[0].status) == ("manual", manual.id, "MANUAL")
    assert (
        found[0].message
        == f"Scenario {manual.id} ({manual.priority}) waits for your manual check: {manual.title}"
    )
    # once recorded, a later run that finds it waiting again (a resumed session) calls again
    sub.bus.publish(ScenarioFinished(manual.id, "PASS", manual.priority, manual.title))
    sub.bus.publish(
        ScenarioStepChanged(manual.id, 0, "MANUAL", manual.checklist[0], priority=manual.priority)
    )
    assert len(calls(seen)) == 2


def test_an_approval_the_platform_holds_calls_once_and_the_gates_own_decision_does_not() -> None:
    sub, seen = attention()
    held = step_index("C3", ExpectApproval)
    step = PLAN.scenario("C3").steps[held]
    assert isinstance(step, ExpectApproval)
    detail = {"approval_id": 17, "run_id": "run-abc"}
    running = ScenarioStepChanged(
        "C3", held, "RUNNING", "expect approval", "", "", {"run_id": "run-abc"}, "P0", "t"
    )
    passed = ScenarioStepChanged(
        "C3", held, "PASS", "expect approval", "", "request 17: requested", detail, "P0", "t"
    )
    sub.bus.publish(running)
    sub.bus.publish(passed)
    sub.bus.publish(passed)  # the same request seen again (a progress repeat, a resume)
    decided = step_index("C3", DecideApproval)
    sub.bus.publish(
        ScenarioStepChanged("C3", decided, "PASS", "decide", "", "denied request 17", detail, "P0", "t")
    )
    found = calls(seen)
    assert [(c.need, c.scenario_id, c.status) for c in found] == [("approval", "C3", "requested")]
    assert found[0].message == (
        f"Scenario C3: the platform holds approval request 17 for {step.tool} on run run-abc"
    )


def test_an_approval_step_of_an_unknown_scenario_is_ignored() -> None:
    sub, seen = attention()
    sub.bus.publish(ScenarioStepChanged("ZZ9", 0, "PASS", "x", "", "", {"approval_id": 1}))
    sub.bus.publish(ScenarioStepChanged("C3", 999, "PASS", "x", "", "", {"approval_id": 1}))
    assert calls(seen) == []


def test_the_end_of_the_gate_calls_with_the_verdict() -> None:
    sub, seen = attention()
    sub.bus.publish(RunFinished(True))
    sub.bus.publish(RunFinished(False, ("scenario C3 (P0) FAIL", "chain broken")))
    found = calls(seen)
    assert [(c.need, c.status, c.severity) for c in found] == [
        ("verdict", "GO", "information"),
        ("verdict", "NO-GO", "error"),
    ]
    assert found[0].message == "Gate finished: GO"
    assert found[1].message == "Gate finished: NO-GO, 2 blocker(s): scenario C3 (P0) FAIL"


def test_on_chooses_what_calls() -> None:
    sub, seen = attention(needs=["verdict"])
    sub.bus.publish(check(Status.FAIL, "wrong"))
    sub.bus.publish(RunFinished(False))
    assert [c.need for c in calls(seen)] == ["verdict"]


def test_the_message_is_one_redacted_line() -> None:
    sub, seen = attention()
    sub.bus.publish(check(Status.FAIL, f"line one\nKODEX_GITHUB_PAT={SECRET}\n" + "x" * 600))
    (found,) = calls(seen)
    assert SECRET not in found.message and "[REDACTED" in found.message
    assert "\n" not in found.message and len(found.message) <= 300
    assert found.message.endswith("…")


def test_a_secret_split_by_the_cut_is_still_hidden() -> None:
    # redacted before the line is shortened: a cut never leaves the start of a secret behind
    sub, seen = attention()
    sub.bus.publish(check(Status.FAIL, "y" * 270 + SECRET))
    (found,) = calls(seen)
    assert SECRET[:8] not in found.message


def test_the_hook_document_names_the_item_and_the_session() -> None:
    event = AttentionNeeded(
        "failure", "Check prod/host.os FAIL: x", "OS", "FAIL", check_key="prod/host.os", ts=5.0
    )
    assert hook_document(event, "abc123", "codex@203.0.113.10:22") == {
        "kind": "failure",
        "scenario": None,
        "check": "prod/host.os",
        "title": "OS",
        "status": "FAIL",
        "session": "abc123",
        "target": "codex@203.0.113.10:22",
        "ts": 5.0,
        "message": "Check prod/host.os FAIL: x",
    }


def test_the_hook_environment_leaves_out_the_gates_tokens() -> None:
    env = hook_environment(
        {"GATEROOM_GITHUB_TOKEN", "MY_STAFF"}, {"GATEROOM_GITHUB_TOKEN": "t", "MY_STAFF": "s", "PATH": "/bin"}
    )
    assert env == {"PATH": "/bin"}


# -- [attention] in gateroom.toml ------------------------------------------------------------------------

HOSTS = """
[[hosts]]
name = "prod"
address = "203.0.113.10"
"""


def settings_with(tmp_path: Path, section: str) -> Settings:
    path = tmp_path / "gateroom.toml"
    path.write_text(HOSTS + "\n[attention]\n" + section)
    return load_settings(path)


def test_attention_defaults_call_for_everything_without_a_command(tmp_path: Path) -> None:
    config = settings_with(tmp_path, "").attention
    assert config.command is None and config.bell
    assert config.on == ["manual", "approval", "failure", "verdict"] and config.timeout_s == 10


def test_a_script_path_is_relative_to_the_config_and_a_bare_name_is_left_to_path(tmp_path: Path) -> None:
    assert settings_with(tmp_path, 'command = ["./hooks/notify.sh", "--quiet"]').attention.command == [
        str(tmp_path / "hooks" / "notify.sh"),
        "--quiet",
    ]
    assert settings_with(tmp_path, 'command = ["notify-send", "Gate Room"]').attention.command == [
        "notify-send",
        "Gate Room",
    ]


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("command = []", "attention.command: give the program to run first"),
        ('command = ["  "]', "attention.command: give the program to run first"),
        ("command = [1]", "attention.command[0]:"),
        ('command = "notify-send"', "attention.command:"),
        ("timeout_s = 0", "attention.timeout_s:"),
        ('on = ["failure", "lunch"]', "attention.on[1]:"),
        ("ring = true", "attention.ring: unknown key"),
    ],
)
def test_a_bad_attention_section_is_one_line_naming_the_key(tmp_path: Path, section: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(tmp_path, section)
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert message.startswith(str(tmp_path / "gateroom.toml"))
