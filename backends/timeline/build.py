"""Fold evidence records into a timeline. Pure: the same records give the same timeline.

Times come from the records' own stamps, never from the clock, so the report built from a bundle
and the screen built from the session agree. While the gate runs, an open item (a scenario still
running, a checklist still waiting) reaches the newest record that bears on the timeline; a waiting
step reports its progress every few seconds, so that record is never far behind.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from backends.events import (
    CheckFinished,
    RunFinished,
    ScenarioFinished,
    ScenarioStepChanged,
    SessionOpened,
    event_from_record,
)
from backends.signoff import pane_of
from backends.timeline.critical import critical_path
from backends.timeline.model import ACTION, OPERATOR, PAUSE, WAIT, Item, PhaseMark, RunBar, Segment, Timeline

#: records whose time stamps move the timeline's "now"
TIMED_KINDS = frozenset(
    {ScenarioStepChanged.kind, ScenarioFinished.kind, CheckFinished.kind, RunFinished.kind}
)
CONCLUDED = frozenset({"PASS", "FAIL", "SKIP", "ERROR"})
#: a wave of checks shows its worst result
WAVE_RANK = {"PASS": 0, "SKIP": 1, "WARN": 2, "FAIL": 3, "ERROR": 4}
#: a check that starts within this long after its pane's wave ended still belongs to that wave
WAVE_GAP_S = 1.0


def step_kind(description: str, status: str) -> str:
    """What a step spent its time on, from the step kind that starts its description."""
    if status == "MANUAL":
        return OPERATOR
    word = description.split(" ", 1)[0]
    if word == "wait":
        return PAUSE
    return WAIT if word.startswith("expect_") else ACTION


class TimelineFold:
    """Records in, a timeline out, as often as wanted: `add` records as they come (in chain order),
    `timeline()` draws what they say so far without changing what was folded."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.open: dict[str, Item] = {}  # scenario id -> its attempt still running
        self.attempts: dict[str, int] = {}  # scenario id -> attempts seen
        self.waves: dict[str, Item] = {}  # pane -> its latest wave of checks
        self.runs: dict[int, dict[str, RunBar]] = {}  # id(item) -> run id -> bar
        self.now = float("-inf")
        self.finished_at: float | None = None
        self.resumes: list[float] = []

    def add(self, record: Mapping[str, Any]) -> None:
        try:
            ts = float(record["ts"])
            kind = str(record["kind"])
            payload = dict(record["payload"])
        except (KeyError, TypeError, ValueError):
            return  # not a record this version can read: the chain check reports it, not us
        self.record(ts, kind, payload)

    def record(self, ts: float, kind: str, payload: dict[str, Any]) -> None:
        event = event_from_record(kind, payload)
        if event is None:
            return
        if kind in TIMED_KINDS:
            self.now = max(self.now, ts)
        match event:
            case SessionOpened() if event.resumed:
                self.resumes.append(ts)
            case CheckFinished():
                self.check(ts, event)
            case ScenarioStepChanged():
                self.step(ts, event)
            case ScenarioFinished():
                self.finish(ts, event)
            case RunFinished():
                self.finished_at = ts

    def check(self, ts: float, event: CheckFinished) -> None:
        r = event.result
        pane = pane_of(r.area)
        start = ts - max(r.duration_s, 0.0)
        wave = self.waves.get(pane)
        if wave is None or start > wave.end + WAVE_GAP_S:
            number = sum(1 for i in self.items if i.kind == "checks" and i.name == pane) + 1
            key = f"checks:{pane}" + (f"#{number}" if number > 1 else "")
            wave = Item(key, "checks", pane, f"{pane} checks", "PASS", start, ts, attempt=number)
            self.waves[pane] = wave
            self.items.append(wave)
        wave.start, wave.end = min(wave.start, start), max(wave.end, ts)
        wave.count += 1
        status = str(r.status)
        if WAVE_RANK.get(status, 0) > WAVE_RANK.get(wave.status, 0):
            wave.status = status

    def _item(self, ts: float, scenario_id: str, attempt: int, title: str, priority: str) -> Item:
        item = self.open.get(scenario_id)
        if item is not None and item.attempt == attempt:
            return item
        self.attempts[scenario_id] = max(self.attempts.get(scenario_id, 0), attempt)
        key = f"scenario:{scenario_id}" + (f"#{attempt}" if attempt > 1 else "")
        item = Item(key, "scenario", scenario_id, title, "RUNNING", ts, ts, open=True, attempt=attempt)
        item.priority = priority
        self.items.append(item)
        self.open[scenario_id] = item
        return item

    def step(self, ts: float, event: ScenarioStepChanged) -> None:
        attempt = _int(event.detail.get("attempt"), 1)
        item = self._item(ts, event.scenario_id, attempt, event.title, event.priority)
        item.title = event.title or item.title
        item.priority = event.priority or item.priority
        item.end = max(item.end, ts)
        seg = next((s for s in item.segments if s.index == event.step_index), None)
        if seg is None:
            kind = step_kind(event.description, event.status)
            seg = Segment(event.step_index, event.description, kind, event.status, ts, ts)
            item.segments.append(seg)
        seg.status = event.status
        seg.end = max(seg.end, ts)
        seg.open = event.status not in CONCLUDED
        if event.status == "MANUAL":
            item.status = "MANUAL"
        if "phases" in event.detail and event.detail.get("run_id"):
            self.run(item, seg, ts, event.detail)

    def run(self, item: Item, seg: Segment, ts: float, detail: Mapping[str, Any]) -> None:
        runs = self.runs.setdefault(id(item), {})
        run_id = str(detail["run_id"])
        bar = runs.get(run_id)
        phase_at = detail.get("phase_at")
        timed = isinstance(phase_at, dict) and bool(phase_at)
        if bar is None:
            bar = RunBar(run_id, str(detail.get("trigger_kind", "")), seg.start, ts, timed=timed)
            runs[run_id] = bar
            item.runs.append(bar)
        bar.outcome = str(detail.get("run_status") or bar.outcome)
        seen = {m.phase: m.at for m in bar.phases}
        for phase in detail.get("phases") or ():
            at = _float(phase_at.get(phase)) if timed and isinstance(phase_at, dict) else None
            if phase not in seen or (at is not None and at < seen[phase]):
                seen[phase] = at if at is not None else ts
        ordered = sorted(seen.items(), key=lambda p: p[1]) if timed else list(seen.items())
        bar.phases = [PhaseMark(phase, at) for phase, at in ordered]
        if timed:
            bar.start = min(m.at for m in bar.phases)
            ended = bar.last_phase in ("finished", "namespace_deleted")
            bar.end = max(m.at for m in bar.phases) if ended else max(bar.end, ts)
        else:
            bar.timed = False
            bar.start, bar.end = min(bar.start, seg.start), max(bar.end, ts)

    def finish(self, ts: float, event: ScenarioFinished) -> None:
        item = self.open.pop(event.scenario_id, None)
        if item is None:
            # finished without a step of its own (skipped, or cancelled before its first step)
            attempt = self.attempts.get(event.scenario_id, 0) + 1
            item = self._item(ts, event.scenario_id, attempt, event.title, event.priority)
            self.open.pop(event.scenario_id, None)
        item.status, item.end, item.open = event.status, max(item.end, ts), False
        item.title = event.title or item.title
        item.priority = event.priority or item.priority
        for seg in item.segments:
            seg.open = False

    def timeline(self, now: float | None = None) -> Timeline:
        # a copy: open items are drawn to `now` here, and the fold goes on from what it knew
        items = copy.deepcopy(sorted(self.items, key=lambda i: (i.start, i.key)))
        if not items:
            at = self.now if self.now != float("-inf") else 0.0
            return Timeline([], at, at, at, finished=False)
        latest = max([self.now, *(i.end for i in items)])
        now = latest if now is None else max(now, latest)
        for item in items:
            if item.open:
                item.end = now
                for seg in item.segments:
                    if seg.open:
                        seg.end = now
        start = min(i.start for i in items)
        end = max(i.end for i in items)
        # a checklist left for the operator does not keep the gate's own run from having finished
        finished = self.finished_at is not None and not any(i.open and i.status != "MANUAL" for i in items)
        resumes = [t for t in self.resumes if start < t <= end]
        return Timeline(items, start, end, now, finished, critical_path(items, start), resumes)


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return default


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def build_timeline(records: Iterable[Mapping[str, Any]], now: float | None = None) -> Timeline:
    """The timeline of these records (in chain order). `now`, if later than the newest record,
    is where open items end (the screen may pass the clock; the report never does)."""
    fold = TimelineFold()
    for record in records:
        fold.add(record)
    return fold.timeline(now)
