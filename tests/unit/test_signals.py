"""The readers of the platform's signals: the run-status marker (both locales, edits followed), the
"run not created" warning's reason code, the trigger conflict, and malformed markers named."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from backends.sandbox import kodex_render as render
from backends.signals import runstatus
from backends.signals.runstatus import MarkerError
from backends.signals.thread import ThreadSignals
from backends.signals.warnings import parse_conflict, parse_warning


@dataclass(frozen=True)
class C:
    id: int
    body: str
    updated_at: str = ""


def _state(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "run_id": "6f1c",
        "phase": "created",
        "trigger_kind": "intake",
        "run_status": "pending",
    }
    return base | changes


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_the_marker_reads_the_same_in_every_locale(locale: str) -> None:
    body = render.run_status_comment(
        _state(phase="finished", run_status="succeeded", namespace="codex-issue-a-i1-r6f1c", model="gpt-5.4"),
        locale=locale,
        reports=["done"],
        phases=["created", "started", "finished"],
    )
    state = runstatus.parse(body)
    assert state is not None
    assert (state.run_id, state.phase, state.run_status, state.trigger_kind) == (
        "6f1c",
        "finished",
        "succeeded",
        "intake",
    )
    assert state.namespace == "codex-issue-a-i1-r6f1c" and state.model == "gpt-5.4"
    assert state.terminal


def test_marker_json_is_written_as_go_writes_it() -> None:
    line = runstatus.render_marker({"phase": "started", "run_id": "r", "namespace": "<x>&", "deleted": False})
    assert (
        line
        == '<!-- kodex:run-status {"run_id":"r","phase":"started","namespace":"\\u003cx\\u003e\\u0026"} -->'
    )
    state = runstatus.parse(line)
    assert state is not None and state.namespace == "<x>&" and state.deleted is False


def test_the_last_marker_line_wins_and_prose_is_not_read() -> None:
    body = "phase=finished run_status=succeeded\n" + runstatus.render_marker(
        {"run_id": "a", "phase": "started"}
    )
    state = runstatus.parse(body)
    assert state is not None and state.phase == "started"
    assert runstatus.parse("codex-k8s: run r1 stage=intake phase=finished") is None


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("<!-- kodex:run-status {not json -->", "not JSON"),
        ('<!-- kodex:run-status ["a"] -->', "not a JSON object"),
        ('<!-- kodex:run-status {"phase":"started"} -->', "no run_id"),
        ('<!-- kodex:run-status {"run_id":"a","phase":"waiting_mcp"} -->', "unknown phase 'waiting_mcp'"),
        (
            '<!-- kodex:run-status {"run_id":"a","phase":"finished","run_status":"paused"} -->',
            "unknown run_status",
        ),
        ('<!-- kodex:run-status {"run_id":"a","phase":"started","issue_number":"7"} -->', "issue_number"),
    ],
)
def test_a_malformed_marker_is_named_in_one_line(line: str, why: str) -> None:
    with pytest.raises(MarkerError) as err:
        runstatus.parse("### heading\n" + line)
    assert why in str(err.value) and "\n" not in str(err.value)


def test_a_follower_sees_the_phases_of_an_edited_comment() -> None:
    signals = ThreadSignals()
    phases = []
    for phase, status in [
        ("created", "pending"),
        ("started", "running"),
        ("started", "running"),
        ("finished", "failed"),
    ]:
        phases.append(phase)
        body = render.run_status_comment(
            _state(phase=phase, run_status=status), locale="ru", reports=[], phases=phases
        )
        signals.observe([C(10, body, f"t{len(phases)}")], thread=3)
    trace = signals.runs["6f1c"]
    assert trace.phases == ["created", "started", "finished"]
    assert trace.latest.run_status == "failed" and trace.thread == 3
    assert signals.runs_after(9) == [trace] and signals.runs_after(10) == []


def test_a_malformed_comment_is_kept_as_an_error_and_cleared_when_fixed() -> None:
    signals = ThreadSignals()
    signals.observe([C(5, "x\n<!-- kodex:run-status {oops -->", "t1")], thread=1)
    assert "comment 5 on #1" in signals.errors[5]
    signals.observe([C(5, runstatus.render_marker(_state()), "t2")], thread=1)
    assert signals.errors == {} and "6f1c" in signals.runs


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_a_warning_gives_its_reason_code(locale: str) -> None:
    body = render.trigger_warning(
        "issue_trigger_candidate_not_found", locale=locale, labels=["run:dev", "run:dev:revise"]
    )
    warning = parse_warning(body)
    assert warning is not None and warning.known
    assert warning.reason_code == "issue_trigger_candidate_not_found"
    assert warning.labels == ("run:dev", "run:dev:revise")
    assert parse_conflict(body) is None and runstatus.parse(body) is None


def test_sender_reason_codes_are_known() -> None:
    warning = parse_warning(render.trigger_warning("sender_role_read_not_permitted", locale="ru"))
    assert warning is not None and warning.known


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_a_conflict_names_the_added_and_the_conflicting_labels(locale: str) -> None:
    conflict = parse_conflict(render.trigger_conflict("run:vision", ["run:intake"], locale=locale))
    assert conflict is not None
    assert conflict.trigger_label == "run:vision" and conflict.conflicting == ("run:intake",)


def test_ordinary_comments_are_neither() -> None:
    for body in ["LGTM", "### ⚠️ careful\nsomething `run:dev`", ""]:
        assert parse_warning(body) is None and runstatus.parse(body) is None
