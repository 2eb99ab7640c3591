"""Typed engine events and the bus that fans them out.

One path for every consumer: the evidence store, the TUI and the headless reporter all subscribe to
the same bus, so what the operator sees, what CI reports and what the owner signs cannot diverge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from backends.results import CheckResult, Status

_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    #: whether the evidence store keeps it as a record (log lines go to log files instead)
    recorded: ClassVar[bool] = True

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _REGISTRY[cls.kind] = cls

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        return cls(**payload)


def event_from_record(kind: str, payload: dict[str, Any]) -> Event | None:
    """Rebuild an event from a stored record; unknown kinds (newer versions) are skipped."""
    cls = _REGISTRY.get(kind)
    if cls is None:
        return None
    try:
        return cls.from_payload(payload)
    except (TypeError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class SessionOpened(Event):
    kind: ClassVar[str] = "session.opened"
    session_id: str
    target: str
    plan: str
    resumed: bool = False


@dataclass(frozen=True)
class CheckStarted(Event):
    kind: ClassVar[str] = "check.started"
    recorded: ClassVar[bool] = False
    key: str
    check_id: str
    area: str
    title: str
    target: str = ""


@dataclass(frozen=True)
class CheckFinished(Event):
    kind: ClassVar[str] = "check.finished"
    result: CheckResult

    def to_payload(self) -> dict[str, Any]:
        return {"result": self.result.to_payload()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        return cls(result=CheckResult.from_payload(payload["result"]))


@dataclass(frozen=True)
class ScenarioStepChanged(Event):
    kind: ClassVar[str] = "scenario.step"
    scenario_id: str
    step_index: int
    status: str
    description: str = ""
    expected: str = ""
    actual: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # what the scenario is, so a scenario still running (or waiting for the operator) reads right
    # from the evidence alone: ScenarioFinished says it again at the end
    priority: str = ""
    title: str = ""


@dataclass(frozen=True)
class ScenarioFinished(Event):
    kind: ClassVar[str] = "scenario.finished"
    scenario_id: str
    status: str
    priority: str = "P0"
    title: str = ""
    reason: str = ""
    duration_s: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogLines(Event):
    kind: ClassVar[str] = "log.lines"
    recorded: ClassVar[bool] = False
    source: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LogExcerpt(Event):
    """A range of log lines copied into evidence, attached to a scenario or a check.

    The lines (already redacted) are in the session's excerpt file at [start, end) with that SHA-256,
    so the chain covers them: `attach_to` is "scenario:<id>", "check:<key>" or "session".
    """

    kind: ClassVar[str] = "log.excerpt"
    attach_to: str
    file: str
    start: int
    end: int
    sha256: str
    lines: int
    first_ts: float
    last_ts: float
    streams: tuple[str, ...] = ()
    note: str = ""

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        return cls(**{**payload, "streams": tuple(payload.get("streams", ()))})


@dataclass(frozen=True)
class Waived(Event):
    kind: ClassVar[str] = "waiver"
    item_key: str
    reason: str
    by: str


@dataclass(frozen=True)
class VerdictChanged(Event):
    kind: ClassVar[str] = "verdict"
    go: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        return cls(go=bool(payload["go"]), reasons=tuple(payload.get("reasons", ())))


@dataclass(frozen=True)
class DecisionRecorded(Event):
    kind: ClassVar[str] = "decision"
    decision: str  # GO / NO-GO
    by: str
    comment: str
    chain_head: str
    bundle_digest: str = ""
    role: str = ""  # owner / operator; "" for decisions recorded before roles existed
    #: the decider's SSH signature (OpenSSH format) over `signing.decision_statement`; "" if unsigned
    signature: str = ""
    #: the bundle layout `bundle_digest` was computed under (`backends.bundle.content.LAYOUTS`)
    bundle_layout: int = 1

    def to_payload(self) -> dict[str, Any]:
        # a decision is recorded exactly as before signatures and layouts existed (same bytes, same
        # hash) when it has neither
        payload = asdict(self)
        if not self.signature:
            del payload["signature"]
        if self.bundle_layout == 1:
            del payload["bundle_layout"]
        return payload


@dataclass(frozen=True)
class LoginRecorded(Event):
    """Someone connected to `gateroom serve` (or was refused): who by key fingerprint, and as what."""

    kind: ClassVar[str] = "serve.login"
    fingerprint: str
    role: str
    accepted: bool
    comment: str = ""
    peer: str = ""
    note: str = ""


@dataclass(frozen=True)
class ActionRecorded(Event):
    """Something a served user did or tried to do, with whether their role allowed it."""

    kind: ClassVar[str] = "serve.action"
    fingerprint: str
    role: str
    action: str
    allowed: bool
    detail: str = ""


@dataclass(frozen=True)
class Progress(Event):
    """A human-readable progress line (headless prints it; the TUI shows it in the status bar)."""

    kind: ClassVar[str] = "progress"
    recorded: ClassVar[bool] = False
    message: str
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run.finished"
    go: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        return cls(go=bool(payload["go"]), reasons=tuple(payload.get("reasons", ())))


@dataclass(frozen=True)
class WitnessPosted(Event):
    """The chain head as it stood before this record was posted outside the session (see
    `backends.evidence.witness`); `reason` is set instead of `url` when posting failed."""

    kind: ClassVar[str] = "witness"
    phase: str
    issue: str  # owner/name#number, or "" when it could not be opened
    records: int
    head: str
    url: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AttentionNeeded(Event):
    """Something waits for the operator (see `backends.attention`): the screen rings and shows it,
    the configured hook is told. `message` is one line, already redacted."""

    kind: ClassVar[str] = "attention"
    need: str  # manual / approval / failure / verdict
    message: str
    title: str = ""
    status: str = ""
    scenario_id: str = ""
    check_key: str = ""
    severity: str = "warning"  # information / warning / error, as the screen shows it
    ts: float = 0.0


@dataclass(frozen=True)
class HookRan(Event):
    """The attention hook took an event and exited 0."""

    kind: ClassVar[str] = "attention.hook"
    need: str
    item: str  # "scenario:<id>", "check:<key>" or "gate"
    duration_s: float


@dataclass(frozen=True)
class HookFailed(Event):
    """The attention hook did not deliver: `reason` is one line (exit status, timeout, missing
    program, events dropped while the hook was busy)."""

    kind: ClassVar[str] = "attention.hook-failed"
    need: str
    item: str
    reason: str
    duration_s: float = 0.0


@dataclass(frozen=True)
class RunObserved(Event):
    """One platform run as the gate saw it when its scenario ended (see `backends.scenarios.observe`):
    what the bundle's `runs.json` holds per run. `notes` say what could not be read, and why."""

    kind: ClassVar[str] = "run.observed"
    scenario_id: str
    attempt: int
    run_id: str
    trigger_kind: str = ""
    status: str = ""
    repo: str = ""
    issue: int | None = None
    issue_url: str = ""
    pr: int | None = None
    pr_url: str = ""
    namespace: str = ""
    job_name: str = ""
    job_namespace: str = ""
    created_at: str = ""
    #: {"thread", "label", "action", "actor", "at"} in the order GitHub lists them
    label_transitions: tuple[dict[str, Any], ...] = ()
    #: name -> a staff API address or a kubectl command (control_plane, worker, job, staff_logs, …)
    logs: dict[str, str] = field(default_factory=dict)
    #: {"event_type", "created_at", "payload"}, oldest first
    flow_events: tuple[dict[str, Any], ...] = ()
    #: the run's MCP action requests: {"id", "tool_name", "action", "approval_mode", "state", …}
    action_requests: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        lists = ("label_transitions", "flow_events", "action_requests", "notes")
        return cls(**{**payload, **{k: tuple(payload.get(k, ())) for k in lists}})


@dataclass(frozen=True)
class PublishStep(Event):
    """One step of `gateroom publish` and what it did: created / updated / unchanged / failed."""

    kind: ClassVar[str] = "publish.step"
    step: str  # preflight / branch / file / release / asset / pull / comment
    target: str
    status: str
    url: str = ""
    detail: str = ""
    digest: str = ""  # the bundle digest being published


@dataclass(frozen=True)
class PublishFinished(Event):
    """The end of one `gateroom publish`: `reason` (one line) is set when it stopped part-way."""

    kind: ClassVar[str] = "publish.finished"
    ok: bool
    repo: str
    digest: str
    head: str
    records: int
    reason: str = ""
    links: dict[str, str] = field(default_factory=dict)


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out; subscribers must be quick (queue work, don't do it inline)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)


def check_status_counts(results: list[CheckResult]) -> dict[Status, int]:
    counts: dict[Status, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts
