"""Everything the platform said on one issue or pull request, folded across polls.

The run-status comment is edited in place, so one poll sees only the run's current phase; a follower
that polls keeps the phases it saw in order (and notices an edit by the comment's `updated_at`).
Warnings and conflicts are separate comments. A malformed marker is kept as an error line, never
dropped and never fatal: the step that waits on that run says what was wrong.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from backends.signals import runstatus
from backends.signals.runstatus import MarkerError, RunStatus
from backends.signals.warnings import TriggerConflict, TriggerWarning, parse_conflict, parse_warning


class CommentLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def body(self) -> str: ...
    @property
    def updated_at(self) -> str: ...


@dataclass
class RunTrace:
    """One run as followed through its comment: the phases seen, in order, and the latest state."""

    run_id: str
    comment_id: int
    thread: int
    latest: RunStatus
    phases: list[str] = field(default_factory=list)
    #: phase -> when the gate first saw it (epoch seconds): a poll's time, not the platform's edit
    seen_at: dict[str, float] = field(default_factory=dict)

    def saw(self, phase: str) -> bool:
        return phase in self.phases


@dataclass(frozen=True)
class Refusal:
    comment_id: int
    thread: int
    warning: TriggerWarning | None = None
    conflict: TriggerConflict | None = None

    def brief(self) -> str:
        if self.warning is not None:
            return self.warning.brief()
        return self.conflict.brief() if self.conflict is not None else "refusal"


@dataclass
class ThreadSignals:
    runs: dict[str, RunTrace] = field(default_factory=dict)
    refusals: dict[int, Refusal] = field(default_factory=dict)
    #: comment id -> one line saying why its marker could not be read
    errors: dict[int, str] = field(default_factory=dict)
    _versions: dict[int, str] = field(default_factory=dict)

    def observe(self, comments: Iterable[CommentLike], thread: int, at: float | None = None) -> None:
        """Fold a poll's comments in; `at` is when the poll was made (now by default)."""
        at = time.time() if at is None else at
        for c in comments:
            version = f"{c.updated_at}|{len(c.body)}|{hash(c.body)}"
            if self._versions.get(c.id) == version:
                continue
            self._versions[c.id] = version
            self._read(c, thread, at)

    def _read(self, c: CommentLike, thread: int, at: float) -> None:
        try:
            state = runstatus.parse(c.body)
        except MarkerError as err:
            self.errors[c.id] = f"comment {c.id} on #{thread}: {err}"
            return
        self.errors.pop(c.id, None)
        if state is not None:
            trace = self.runs.get(state.run_id)
            if trace is None:
                trace = self.runs[state.run_id] = RunTrace(state.run_id, c.id, thread, state)
            trace.latest = state
            if not trace.phases or trace.phases[-1] != state.phase:
                trace.phases.append(state.phase)
            trace.seen_at.setdefault(state.phase, at)
            return
        warning = parse_warning(c.body)
        conflict = None if warning is not None else parse_conflict(c.body)
        if warning is not None or conflict is not None:
            self.refusals[c.id] = Refusal(c.id, thread, warning, conflict)

    def runs_after(self, watermark: int) -> list[RunTrace]:
        """Runs whose comment appeared after comment id `watermark`, oldest first."""
        return sorted((r for r in self.runs.values() if r.comment_id > watermark), key=lambda r: r.comment_id)

    def refusals_after(self, watermark: int) -> list[Refusal]:
        return [r for cid, r in sorted(self.refusals.items()) if cid > watermark]

    def summary(self) -> str:
        """The last thing the platform said, for an expectation's actual value."""
        if not self.runs and not self.refusals:
            return "no run-status comment"
        latest = max(self.runs.values(), key=lambda r: r.comment_id, default=None)
        parts = [latest.latest.brief()] if latest else []
        if self.refusals:
            parts.append(self.refusals[max(self.refusals)].brief())
        return "; ".join(parts)
