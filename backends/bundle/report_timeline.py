"""The report's timeline section: where the gate's wall-clock time went, from the records alone.

The same timeline as the screen's (backends/timeline), drawn in plain characters inside a code
block so it reads the same in a terminal, a browser and a printed bundle.
"""

from __future__ import annotations

from backends.bundle.report_md import _cell, _table
from backends.timeline import describe
from backends.timeline.model import ACTION, CHECKS, IDLE, OPERATOR, OTHER, PAUSE, WAIT, Timeline
from backends.timeline.rows import PATH, PHASE_LETTER, timeline_rows
from backends.timeline.scale import Scale, duration_text, offset_text

BAR_WIDTH = 60
LABEL_WIDTH = 16
ASCII = {ACTION: "#", WAIT: "=", PAUSE: "-", OPERATOR: "~", OTHER: ".", CHECKS: "%", PATH: "*", IDLE: "."}
SLOWEST = 5


def _plain(text: str, width: int) -> str:
    # a label inside a code block: one line, no backtick that could close the block
    flat = " ".join(text.split()).replace("`", "'")
    return flat[: width - 1] + "…" if len(flat) > width else flat.ljust(width)


def _gantt(tl: Timeline) -> list[str]:
    scale = Scale(tl.start, tl.end, BAR_WIDTH)
    lead = " " * (2 + LABEL_WIDTH + 1 + 7 + 1)
    out = ["```text", lead + scale.axis().rstrip()]
    for row in timeline_rows(tl):
        if row.kind == "run":
            continue
        bar = "".join(ASCII.get(c, "?") if c is not None else " " for c in row.cells(scale))
        mark = "*" if row.critical or row.kind == "path" else " "
        status = row.status or duration_text(row.duration)
        out.append(f"{mark} {_plain(row.label, LABEL_WIDTH)} {status:<7} {bar}".rstrip())
    out += [
        "",
        "# action  = waiting on the platform  - pause  ~ operator  . between steps / idle",
        "% checks  * on the critical path",
        "```",
    ]
    return out


def section(tl: Timeline) -> list[str]:
    out = ["## Timeline", ""]
    if tl.empty:
        return [*out, "No check or scenario ran in this session."]
    ended = "the last one ended" if tl.finished else "the newest record; the gate had not finished"
    out += [
        f"Gate wall time **{duration_text(tl.total)}**: from {describe.utc(tl.start)} (the first item "
        f"started) to {describe.utc(tl.end)} ({ended}).",
    ]
    waiting = tl.waiting_for_operator()
    if waiting:
        names = ", ".join(i.label for i in waiting)
        out.append(f"Manual checklists still waiting for the operator: {_cell(names)}.")
    if tl.resumes:
        out.append(f"The session was resumed {len(tl.resumes)} time(s) while it ran.")
    out += [
        "",
        "**Critical path** (the chain of items that decided when the gate ended: the item that ended "
        "last, then the item that ended latest before it started, back to the first; time between "
        "them is idle):",
        "",
        _cell(describe.path_chain(tl)),
        "",
    ]
    rows: list[list[object]] = [
        [what, duration_text(seconds), f"{share:.0%}"] for what, seconds, share in describe.breakdown(tl)
    ]
    out += _table(["Where the critical path's time went", "Time", "Share"], rows)
    slow = tl.slowest(SLOWEST)
    if slow:
        out += ["", "Slowest steps on the critical path:", ""]
        out += _table(
            ["Item", "Step", "Started", "Took"],
            [
                [
                    item.label,
                    f"{seg.index + 1}. {seg.label}",
                    offset_text(seg.start - tl.start),
                    duration_text(seg.duration),
                ]
                for item, seg in slow
            ],
        )
    out += ["", *_gantt(tl), ""]
    items: list[list[object]] = [
        [
            i.label,
            i.status,
            offset_text(i.start - tl.start),
            duration_text(i.duration),
            duration_text(i.time_by_kind().get(WAIT, 0.0)),
            len(i.runs),
            "yes" if tl.on_path(i) else "",
        ]
        for i in tl.items
    ]
    out += _table(["Item", "Status", "Started", "Took", "Waiting", "Runs", "Critical"], items)
    runs = [(i, r) for i in tl.items for r in i.runs]
    if runs:
        letters = ", ".join(f"{phase}" for phase in PHASE_LETTER)
        out += [
            "",
            f"Run phases as the gate first saw them (offsets from the gate's start; phases: {letters}):",
            "",
        ]
        out += _table(
            ["Item", "Run", "Trigger", "Outcome", "Took", "Phases"],
            [
                [
                    i.label,
                    f"`{r.run_id}`",
                    r.trigger_kind,
                    r.outcome,
                    duration_text(r.duration),
                    describe.phase_marks(tl, r),
                ]
                for i, r in runs
            ],
        )
    return out
