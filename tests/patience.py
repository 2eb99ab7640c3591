"""Waiting in tests: on a state or an event, never on a budget sized for a fast machine.

A test that waits for a state ends as soon as the state is there, so its safety limit can be generous:
it only turns a hang into a failure that says what never came. GATEROOM_TEST_PATIENCE_S sets it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: the one safety limit for any wait in the tests (seconds)
PATIENCE_S = float(os.environ.get("GATEROOM_TEST_PATIENCE_S", "300"))


class NeverCame(AssertionError):
    """What a test waited for did not come within the safety limit."""


def wait_until(ready: Callable[[], T | None], what: str, *, every: float = 0.02) -> T:
    """Poll `ready` until it returns something truthy (an empty list is not there yet)."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        found = ready()
        if found:
            return found
        if time.monotonic() > deadline:
            raise NeverCame(f"{what}: not within {PATIENCE_S:g}s")
        time.sleep(every)


async def until(ready: Callable[[], T | None], what: str, *, every: float = 0.02) -> T:
    """`wait_until` for a test running on the event loop: the loop keeps serving while it waits."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        found = ready()
        if found:
            return found
        if time.monotonic() > deadline:
            raise NeverCame(f"{what}: not within {PATIENCE_S:g}s")
        await asyncio.sleep(every)


async def eventually(fetch: Callable[[], Awaitable[T | None]], what: str, *, every: float = 0.05) -> T:
    """`until` for a state read over the network: awaits `fetch` until it returns something."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        found = await fetch()
        if found:
            return found
        if time.monotonic() > deadline:
            raise NeverCame(f"{what}: not within {PATIENCE_S:g}s")
        await asyncio.sleep(every)
