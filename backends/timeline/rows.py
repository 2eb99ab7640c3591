"""The timeline as rows to draw: the critical path, then each item followed by its runs.

Each row is a label, an outcome and its pieces in time (with a code saying what each piece was);
the screen and the report map codes to characters and colours, and draw the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.timeline.model import CHECKS, IDLE, OTHER, Item, RunBar, Timeline
from backends.timeline.scale import Scale

PATH = "path"
#: one letter per run-status phase (backends/signals/runstatus.py PHASES), drawn where it begins
PHASE_LETTER = {
    "created": "c",
    "preparing_runtime": "p",
    "started": "s",
    "auth_required": "a",
    "auth_resolved": "A",
    "ready": "r",
    "finished": "f",
    "namespace_deleted": "x",
}

Piece = tuple[float, float, str]


@dataclass(frozen=True)
class Row:
    key: str
    kind: str  # "path", "item" or "run"
    label: str
    status: str  # the item's status, the run's outcome; "" for the path
    duration: float
    pieces: tuple[Piece, ...]
    #: drawn where no piece is (an item's time between its steps)
    base: tuple[Piece, ...] = ()
    critical: bool = False
    item: Item | None = None
    run: RunBar | None = None

    def cells(self, scale: Scale) -> list[str | None]:
        if self.run is not None and self.run.timed and self.run.phases:
            return _run_cells(self.run, scale)
        top = scale.paint(self.pieces)
        if not self.base:
            return top
        under = scale.paint(self.base)
        return [t if t is not None else u for t, u in zip(top, under, strict=True)]


def phase_code(phase: str) -> str:
    return f"phase:{phase}"


def run_outcome(run: RunBar) -> str:
    """The run's run_status at the last look; for records that predate it, its last phase."""
    if run.outcome:
        return "canceled" if run.outcome == "cancelled" else run.outcome
    return run.last_phase or "seen"


def run_pieces(run: RunBar) -> tuple[Piece, ...]:
    if not run.timed or not run.phases:
        return ((run.start, run.end, phase_code(run.last_phase)),)
    marks = run.phases
    out: list[Piece] = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.at if following is not None else run.end
        out.append((mark.at, max(end, mark.at), phase_code(mark.phase)))
    return tuple(out)


def item_pieces(item: Item) -> tuple[Piece, ...]:
    if item.kind == "checks":
        return ((item.start, item.end, CHECKS),)
    return tuple((s.start, s.end, s.kind) for s in sorted(item.segments, key=lambda s: s.start))


def timeline_rows(timeline: Timeline) -> list[Row]:
    if timeline.empty:
        return []
    path = tuple(
        (p.start, p.end, PATH if p.item is not None else IDLE) for p in timeline.path if p.duration > 0
    )
    rows = [Row("path", "path", "critical path", "", timeline.total, path)]
    for item in timeline.items:
        rows.append(
            Row(
                item.key,
                "item",
                item.label,
                item.status,
                item.duration,
                item_pieces(item),
                ((item.start, item.end, OTHER),) if item.kind == "scenario" else (),
                timeline.on_path(item),
                item,
            )
        )
        for run in item.runs:
            rows.append(
                Row(
                    f"{item.key}/run:{run.run_id}",
                    "run",
                    f"{run.trigger_kind or 'run'} {run.short_id}",
                    run_outcome(run),
                    run.duration,
                    run_pieces(run),
                    item=item,
                    run=run,
                )
            )
    return rows


def _run_cells(run: RunBar, scale: Scale) -> list[str | None]:
    """A run's cells: each shows the latest phase reached by the end of its time, so the phase the
    run ended in keeps a cell even though it lasts no time."""
    cells: list[str | None] = [None] * scale.width
    if scale.width <= 0:
        return cells
    last = scale.width - 1
    first = min(int(scale.at(run.start)), last)
    end = min(int(scale.at(run.end)), last)
    marks = [(min(int(scale.at(m.at)), last), phase_code(m.phase)) for m in run.phases]
    current = marks[0][1]
    for column in range(first, end + 1):
        for at, code in marks:
            if at <= column:
                current = code
        cells[column] = current
    return cells


def first_cells(cells: list[str | None]) -> list[bool]:
    """Whether each cell begins a piece (its code differs from the cell before): where a phase's
    letter goes."""
    return [c is not None and (i == 0 or cells[i - 1] != c) for i, c in enumerate(cells)]
