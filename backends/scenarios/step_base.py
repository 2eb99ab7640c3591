"""What every step implementation shares: its result, its failure (expected vs actual is the
runner's), and the polling an expectation waits with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepResult:
    actual: str
    detail: dict[str, Any] = field(default_factory=dict)


class StepFailed(Exception):
    def __init__(self, actual: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(actual)
        self.actual = actual
        self.detail = detail or {}


#: called while an expectation waits: (what it waits for, where, seconds left)
Progress = Callable[[str, float], None]
Probe = Callable[[], Awaitable[tuple[bool, str, dict[str, Any]]]]


async def poll(within: float, interval: float, probe: Probe, progress: Progress | None = None) -> StepResult:
    """Ask `probe` until it says yes or `within` runs out; the last answer is the actual value."""
    deadline = time.monotonic() + within
    while True:
        ok, actual, detail = await probe()
        if ok:
            return StepResult(actual, detail)
        left = deadline - time.monotonic()
        if left <= 0:
            raise StepFailed(f"not within {within:g}s; last seen: {actual}", detail)
        if progress is not None:
            progress(actual, left)
        await asyncio.sleep(interval)
