"""Waivers: the owner accepts a finding with a reason. Recorded as an event, so the evidence chain
holds it, a resumed session restores it, the verdict honours it and the sign-off lists it."""

from __future__ import annotations

from backends.events import Waived
from backends.gate import Gate


class WaiverRefused(ValueError):
    """A waiver without a reason, or for something that does not block."""


def record_waiver(gate: Gate, key: str, reason: str) -> Waived:
    reason = " ".join(reason.split())
    if not reason:
        raise WaiverRefused("a waiver needs a reason")
    result = gate.session.state.checks.get(key)
    if result is None or not result.status.blocking:
        raise WaiverRefused(f"{key} does not block the gate: nothing to waive")
    # the reason is typed by a person and may quote what it waives: redact it like any other source
    event = Waived(key, gate.engine.redactor.redact(reason), gate.operator)
    gate.bus.publish(event)
    gate.engine.publish_verdict()
    return event
