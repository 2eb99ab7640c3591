"""Plan files: the shipped default plan loads; a broken plan is rejected with its file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import ConfigError
from backends.plan.loader import load_plan

TL = "services/internal/control-plane/internal/domain/webhook/trigger_labels.go"
SH = "services/internal/control-plane/internal/domain/webhook/service_helpers.go"
PE = "services/jobs/agent-runner/internal/runner/templates/prompt_envelope.tmpl"
GOOD = f"""\
name: small plan
checks: ["host.*"]
labels: [run:intake, state:in-review]
scenarios:
  - id: A1
    title: intake
    group: A
    priority: P0
    covers: [run:intake]
    steps:
      - create_issue: {{title: "gate A1", source: {SH}}}
      - add_label: {{label: run:intake, source: {TL}}}
      - expect_label: {{label: state:in-review, within: 30s, source: {PE}}}
  - id: A2
    title: second
    group: A
    priority: P1
    steps:
      - wait: 2s
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line "), message
    assert "\n" not in message
    return message


def test_default_plan_loads_with_every_catalogue_label_declared() -> None:
    plan = load_plan(None)
    ids = [s.id for s in plan.scenarios]
    assert len(ids) == len(set(ids))
    assert {"A1", "A1.128", "B1", "C1", "D1", "E1", "F3"} <= set(ids)
    declared = {label for s in plan.scenarios for label in s.covers}
    assert set(plan.labels) <= declared, set(plan.labels) - declared
    assert any(s.mode == "manual" and s.checklist for s in plan.scenarios)


def test_a_good_small_plan_loads(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GOOD))
    assert [s.id for s in plan.scenarios] == ["A1", "A2"]
    assert plan.scenario("A1").steps[2].within == 30


def test_unknown_step_names_the_line(tmp_path: Path) -> None:
    message = _error(
        tmp_path, GOOD.replace("- add_label: {label: run:intake", "- add_lable: {label: run:intake")
    )
    assert "line 12:" in message and "unknown step 'add_lable'" in message


def test_bad_duration_names_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("within: 30s", "within: soon"))
    assert "line 13:" in message and "soon" in message


def test_duplicate_id_names_the_second_scenario(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("id: A2", "id: A1"))
    assert "line 14:" in message and "duplicate scenario id 'A1'" in message


def test_unknown_priority_names_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("priority: P1", "priority: P7"))
    assert "line 17:" in message and "priority" in message


def test_not_yaml_and_missing_file_are_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_plan(tmp_path / "nope.yaml")


def test_every_expectation_of_the_default_plan_cites_a_known_platform_file() -> None:
    from backends.signals.sources import KNOWN

    plan = load_plan(None)
    for scenario in plan.scenarios:
        for index, step in enumerate(scenario.steps):
            if step.kind != "wait":
                assert step.source, f"{scenario.id} step {index + 1} ({step.kind}) has no source"
            if step.source:
                assert step.source in KNOWN, f"{scenario.id} step {index + 1}: unknown source {step.source}"
    # coverage counts only steps with a source: every declared label is touched by one
    for scenario in plan.scenarios:
        assert set(scenario.covers) <= scenario.touched_labels(), scenario.id


def test_a_step_without_a_source_is_refused_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace(f", source: {PE}", "")
    message = _error(tmp_path, text)
    assert "line 13:" in message and "source" in message


def test_an_unknown_phase_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(
        "- expect_label: {label: state:in-review, within: 30s,",
        "- expect_run: {trigger_kind: intake, phase: waiting_mcp,",
    )
    message = _error(tmp_path, text)
    assert "unknown phase 'waiting_mcp'" in message
