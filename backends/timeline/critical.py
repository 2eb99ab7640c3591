"""The critical path: the chain of items that decided when the gate ended.

The engine runs the checks, then the scenarios (backends/engine.py `run`); the scenario runner
starts the parallel scenarios together, each as soon as one of its pool's slots is free, then the
serial ones one after another (backends/scenarios/runner.py `run`). So an item that did not start
with the gate started because another one ended: the checks, the scenario whose slot it took, the
last of the parallel scenarios, the serial scenario before it. The timeline reads that from the
times alone, with no knowledge of the plan:

  1. The path ends with the item that ended last (ties: a finished item before an open one, then the
     one that started first).
  2. The item before an item X on the path is the one that ended latest at or before X started
     (ties: the longer one): the item X was waiting for. The time between its end and X's start is
     an idle link (the gate waited: a restart, the operator starting X by hand).
  3. When no item ended before X started, X is the first item of the path; the time from the
     gate's first start to X's start is an idle link.

A gap of up to SETTLE_S (the engine starting the next item) is no idle link: it counts with the item
that follows. Items of no duration (a scenario skipped before it ran) delay nothing and are never
on the path.
The links cover the gate's wall time (first start to last end) exactly once, so where the path's
time went (`Timeline.breakdown`) adds up to the total.
"""

from __future__ import annotations

from backends.timeline.model import Item, PathPart

#: the longest gap between one item's end and the next one's start that is still just the engine
#: starting it (microseconds to milliseconds in practice), not the gate waiting for something
SETTLE_S = 0.25


def critical_path(items: list[Item], start: float) -> list[PathPart]:
    candidates = [i for i in items if i.duration > 0]
    if not candidates:
        return []
    current = max(candidates, key=lambda i: (i.end, not i.open, -i.start))
    parts: list[PathPart] = []
    taken = {id(current)}
    while True:
        before = [i for i in candidates if id(i) not in taken and i.end <= current.start]
        previous = max(before, key=lambda i: (i.end, i.duration)) if before else None
        began = previous.end if previous is not None else start
        if current.start - began > SETTLE_S:
            parts += [PathPart(current, current.start, current.end), PathPart(None, began, current.start)]
        else:
            parts.append(PathPart(current, began, current.end))
        if previous is None:
            break
        taken.add(id(previous))
        current = previous
    parts.reverse()
    return parts
