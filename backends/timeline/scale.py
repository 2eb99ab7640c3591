"""Time onto a row of character cells: the axis, and which piece of a bar each cell shows.

Shared by the screen and the Markdown report, so both draw the same bar from the same timeline.
A cell shows the piece that covers most of its time; a piece shorter than a cell still shows when
nothing longer shares its cell, so a half-second run in a two-hour gate is not lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: axis steps, in seconds: a tick every 1, 2, 5, 10 … seconds, then every minute, hour
STEPS = (
    0.1,
    0.2,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
)
#: a mark for an instant (no duration) still claims its cell, below anything with a duration
INSTANT = 1e-6


def duration_text(seconds: float) -> str:
    """0.4s, 12s, 3m05s, 2h04m: short, and exact enough to compare."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def offset_text(seconds: float) -> str:
    return "+" + duration_text(seconds)


def _tick_label(offset: float, step: float) -> str:
    if step < 1:
        return f"{offset:.1f}s"
    whole = round(offset)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes}m" + (f"{secs:02d}" if secs else "")
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours}h" + (f"{minutes:02d}" if minutes else "")


@dataclass(frozen=True)
class Scale:
    start: float
    end: float
    width: int

    @property
    def span(self) -> float:
        return max(self.end - self.start, 1e-9)

    def at(self, t: float) -> float:
        """The column (fractional) of time t, within [0, width]."""
        return min(max((t - self.start) / self.span * self.width, 0.0), float(self.width))

    def ticks(self, min_gap: int = 8) -> list[tuple[int, str]]:
        """(column, label) of the axis: round offsets from the start, labels at least `min_gap` apart."""
        if self.width <= 0:
            return []
        step = next((s for s in STEPS if s * self.width / self.span >= min_gap), STEPS[-1])
        out: list[tuple[int, str]] = []
        k = 0
        while k * step <= self.span + 1e-9:
            out.append((int(self.at(self.start + k * step)), _tick_label(k * step, step)))
            k += 1
        return out

    def axis(self, min_gap: int = 8) -> str:
        """The axis as `width` characters: each label starts at its tick; one that would run into
        the next label, or off the end, is left out."""
        cells = [" "] * self.width
        free = 0
        for column, label in self.ticks(min_gap):
            if column < free or column + len(label) > self.width:
                continue
            cells[column : column + len(label)] = list(label)
            free = column + len(label) + 1
        return "".join(cells)

    def paint(self, pieces: Iterable[tuple[float, float, str]]) -> list[str | None]:
        """For each cell, the code of the piece covering most of its time (None: no piece)."""
        weights: list[dict[str, float]] = [{} for _ in range(self.width)]
        if self.width <= 0:
            return []
        for start, end, code in pieces:
            a, b = self.at(start), self.at(end)
            if b - a <= 0:
                cell = weights[min(int(a), self.width - 1)]
                cell[code] = cell.get(code, 0.0) + INSTANT
                continue
            column = int(a)
            while column < self.width and column < b:
                overlap = min(b, column + 1) - max(a, column)
                if overlap > 0:
                    cell = weights[column]
                    cell[code] = cell.get(code, 0.0) + overlap
                column += 1
        return [max(w, key=lambda c: w[c]) if w else None for w in weights]
