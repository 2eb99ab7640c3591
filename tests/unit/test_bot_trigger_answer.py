"""sec.bot-trigger tells a conflict the gate caused (its own probe label, removed too late, still on the
issue when the agent added its label) from the platform's answer about the agent as a sender."""

from __future__ import annotations

from backends.checks.probe_runs import Probe
from backends.checks.security_approvals import _Answer
from backends.signals.thread import Refusal
from backends.signals.warnings import TriggerConflict, TriggerWarning

PROBE = Probe("codex-k8s/codex-k8s", 7, "run:intake")


def _answer(*refusals: Refusal) -> _Answer:
    return _Answer(PROBE, "run-1", "run:vision", "kodex-bot[bot]", list(refusals), [])


def test_a_conflict_with_the_probes_own_label_is_the_gates_doing() -> None:
    own = Refusal(11, 7, conflict=TriggerConflict("run:vision", ("run:intake",)))
    assert _answer(own).own_conflict()


def test_a_sender_refusal_or_a_conflict_with_another_label_is_the_platforms_answer() -> None:
    sender = Refusal(12, 7, warning=TriggerWarning("sender_type_bot_not_permitted", ("run:vision",)))
    other = Refusal(13, 7, conflict=TriggerConflict("run:vision", ("run:dev",)))
    own = Refusal(11, 7, conflict=TriggerConflict("run:vision", ("run:intake",)))
    assert not _answer(sender).own_conflict()
    assert not _answer(other).own_conflict()
    assert not _answer(own, sender).own_conflict()
    assert not _answer().own_conflict()
