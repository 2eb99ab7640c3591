"""What the timeline holds. Times are seconds since the epoch, as the evidence records stamp them.

An *item* is a unit the gate schedules: one attempt of a scenario (from its first step record to
its `scenario.finished` record), or one wave of checks of a pane (preflight, security). Its
*segments* are its steps, each from the record that announced it to the one that concluded it, by
what the gate was doing: acting on the world, waiting on the platform, pausing, or waiting for the
operator. Its *runs* are the platform runs its steps matched, with the phases of each run-status
marker as the gate first saw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# what a segment of a scenario's bar was spent on
ACTION = "action"  # the gate acted: created an issue, applied a label, decided an approval
WAIT = "wait"  # an expectation polled the platform until it held (or ran out)
PAUSE = "pause"  # a `wait` step: a fixed pause the plan asks for
OPERATOR = "operator"  # a manual checklist waited for the operator's pass/fail
CHECKS = "checks"  # a wave of preflight or security checks
OTHER = "other"  # inside an item, between its steps
IDLE = "idle"  # on the critical path, nothing ran: the gate waited (a restart, the operator)

KIND_LABEL = {
    WAIT: "waiting on the platform",
    ACTION: "gate actions",
    PAUSE: "fixed pauses",
    OPERATOR: "waiting for the operator",
    CHECKS: "checks",
    OTHER: "between steps",
    IDLE: "idle",
}

#: run outcomes (the marker's run_status) that end a run
ENDED = ("succeeded", "failed", "canceled", "cancelled")


@dataclass
class Segment:
    index: int  # the step's index in its scenario
    label: str  # the step as the plan describes it (plan text: data, never markup)
    kind: str
    status: str
    start: float
    end: float
    open: bool = True

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class PhaseMark:
    phase: str
    at: float


@dataclass
class RunBar:
    run_id: str
    trigger_kind: str
    start: float
    end: float
    #: the phases in the order seen; each with when the gate first saw it (when `timed`)
    phases: list[PhaseMark] = field(default_factory=list)
    #: the marker's run_status at the last look ("" when the records predate it)
    outcome: str = ""
    #: False for records made before phase times were recorded: the bar is the matching step's span
    timed: bool = True

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def last_phase(self) -> str:
        return self.phases[-1].phase if self.phases else ""

    @property
    def short_id(self) -> str:
        return self.run_id[:8]


@dataclass
class Item:
    key: str  # "scenario:A1", "scenario:A1#2" (a second attempt), "checks:preflight"
    kind: str  # "scenario" or "checks"
    name: str  # the scenario id, or the pane of the checks
    title: str
    status: str
    start: float
    end: float
    open: bool = False
    attempt: int = 1
    priority: str = ""
    count: int = 0  # checks in a wave
    segments: list[Segment] = field(default_factory=list)
    runs: list[RunBar] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        if self.kind == "checks":
            return f"{self.name} ({self.count})"
        return self.name if self.attempt == 1 else f"{self.name} #{self.attempt}"

    def time_by_kind(self, start: float | None = None, end: float | None = None) -> dict[str, float]:
        """Seconds per segment kind within [start, end] (the item's own span by default); the
        rest of the window counts as OTHER (a wave of checks counts whole as CHECKS)."""
        lo = self.start if start is None else start
        hi = self.end if end is None else end
        span = max(hi - lo, 0.0)
        if self.kind == "checks":
            return {CHECKS: span} if span else {}
        out: dict[str, float] = {}
        for seg in self.segments:
            part = min(seg.end, hi) - max(seg.start, lo)
            if part > 0:
                out[seg.kind] = out.get(seg.kind, 0.0) + part
        rest = span - sum(out.values())
        if rest > 1e-9:
            out[OTHER] = rest
        return out


@dataclass(frozen=True)
class PathPart:
    """One link of the critical path: an item, or an idle gap before the next one (item None)."""

    item: Item | None
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Timeline:
    items: list[Item]
    start: float
    end: float
    #: the newest record the timeline was built from: open items reach it
    now: float
    #: the gate said it finished (run.finished) and nothing but a manual checklist is still open
    finished: bool
    path: list[PathPart] = field(default_factory=list)
    #: when the session was opened again (a restart) within the timeline
    resumes: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return max(self.end - self.start, 0.0)

    @property
    def empty(self) -> bool:
        return not self.items

    def waiting_for_operator(self) -> list[Item]:
        return [i for i in self.items if i.open and i.status == "MANUAL"]

    def running(self) -> list[Item]:
        return [i for i in self.items if i.open and i.status != "MANUAL"]

    def on_path(self, item: Item) -> bool:
        return any(p.item is item for p in self.path)

    def path_items(self) -> list[Item]:
        return [p.item for p in self.path if p.item is not None]

    def breakdown(self) -> dict[str, float]:
        """Where the critical path's time went, by kind (sums to `total`)."""
        out: dict[str, float] = {}
        for part in self.path:
            shares = (
                {IDLE: part.duration} if part.item is None else part.item.time_by_kind(part.start, part.end)
            )
            for kind, seconds in shares.items():
                out[kind] = out.get(kind, 0.0) + seconds
        return out

    def slowest(self, n: int = 3) -> list[tuple[Item, Segment]]:
        """The longest steps on the critical path, longest first."""
        steps = [(item, seg) for item in self.path_items() for seg in item.segments]
        return sorted(steps, key=lambda p: (-p[1].duration, p[1].start))[:n]
