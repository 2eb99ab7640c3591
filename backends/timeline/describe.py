"""The timeline in words: its state, the critical path as a chain, where the path's time went.

Plain strings (item names and titles are the plan's text: whoever shows them keeps them data).
"""

from __future__ import annotations

import time

from backends.timeline.model import KIND_LABEL, Item, RunBar, Timeline
from backends.timeline.rows import run_outcome
from backends.timeline.scale import duration_text, offset_text

#: shares of the path smaller than this are left out of the one-line breakdown
SMALL_SHARE = 0.005


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def clock(ts: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(ts))


def state(tl: Timeline) -> str:
    if tl.empty:
        return "nothing has run yet"
    waiting = tl.waiting_for_operator()
    if tl.finished:
        text = f"finished {clock(tl.end)}"
    else:
        running = len(tl.running())
        text = f"running ({running} open) · as of {clock(tl.now)}, the newest record"
    if waiting:
        text += f"; {len(waiting)} checklist(s) wait for the operator"
    if tl.resumes:
        text += f"; resumed {len(tl.resumes)} time(s)"
    return text


def path_links(tl: Timeline) -> list[tuple[str, float]]:
    """(name, seconds) of each link of the critical path, in order; idle links are named "idle",
    an item still open says so (its time grows with the next record)."""
    links: list[tuple[str, float]] = []
    for part in tl.path:
        if part.item is None:
            links.append(("idle", part.duration))
        else:
            links.append((part.item.label + (" (open)" if part.item.open else ""), part.duration))
    return links


def path_chain(tl: Timeline) -> str:
    return " → ".join(f"{name} {duration_text(seconds)}" for name, seconds in path_links(tl))


def breakdown(tl: Timeline) -> list[tuple[str, float, float]]:
    """(what, seconds, share of the total) on the critical path, largest first."""
    total = tl.total or 1.0
    shares = sorted(tl.breakdown().items(), key=lambda kv: (-kv[1], kv[0]))
    return [(KIND_LABEL.get(kind, kind), seconds, seconds / total) for kind, seconds in shares]


def breakdown_line(tl: Timeline) -> str:
    parts = [
        f"{what} {duration_text(seconds)} ({share:.0%})"
        for what, seconds, share in breakdown(tl)
        if share >= SMALL_SHARE
    ]
    return " · ".join(parts) or "nothing yet"


def item_summary(tl: Timeline, item: Item) -> str:
    """Status, when (as offsets from the gate's start), how long, spent on what."""
    when = f"{offset_text(item.start - tl.start)} → {offset_text(item.end - tl.start)}"
    parts = [item.status, f"{when} ({duration_text(item.duration)})"]
    if item.kind == "scenario":
        for kind, seconds in sorted(item.time_by_kind().items(), key=lambda kv: -kv[1]):
            if seconds >= 0.05:
                parts.append(f"{KIND_LABEL[kind]} {duration_text(seconds)}")
        if item.runs:
            parts.append(f"{len(item.runs)} run(s)")
    else:
        parts.append(f"{item.count} check(s)")
    if tl.on_path(item):
        parts.append("on the critical path")
    return " · ".join(parts)


def slowest_step(item: Item) -> str:
    if not item.segments:
        return ""
    seg = max(item.segments, key=lambda s: (s.duration, -s.start))
    return f"slowest step {seg.index + 1} ({duration_text(seg.duration)}): {seg.label}"


def phase_marks(tl: Timeline, run: RunBar) -> str:
    """Each phase with when it was first seen, as an offset from the gate's start."""
    if not run.timed:
        return " → ".join(m.phase for m in run.phases) + " (this evidence predates phase times)"
    return " · ".join(f"{m.phase} {offset_text(m.at - tl.start)}" for m in run.phases)


def run_phases(tl: Timeline, run: RunBar) -> str:
    seen = "phases as first seen" if run.timed else "phases seen"
    return f"{seen}: {phase_marks(tl, run)}"


def run_summary(run: RunBar) -> str:
    return (
        f"run {run.run_id} · {run.trigger_kind or '?'} · {run_outcome(run)} · {duration_text(run.duration)}"
    )
