"""Sandbox faults shared out over a few worlds: a world per fault costs a whole gate each, and the
worlds of one module share one event loop, so fewer worlds also keep a loaded machine's clients
within their timeouts.

Faults share a world only when no two of them name the same scenario or check: a world's failures
are then the union of what its faults name, and each one's can be told apart.
"""

from __future__ import annotations

from backends.sandbox.faults import CATALOGUE


def _shared(a: str, b: str) -> set[str]:
    return set(CATALOGUE[a].breaks) & set(CATALOGUE[b].breaks)


def group(faults: list[str], worlds: int, alone: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], ...]:
    """`faults` into at least `worlds` worlds: the most entangled first, each into the compatible
    world with the fewest faults so far (a new world when none is compatible). A fault in `alone`
    reaches beyond what it names (it removes what other checks read) and gets a world of its own."""
    placed: list[list[str]] = [[] for _ in range(worlds)]
    taken: list[set[str]] = [set() for _ in range(worlds)]
    shared = [f for f in faults if f not in alone]
    entangled = {f: sum(bool(_shared(f, g)) for g in shared if g != f) for f in shared}
    for fault in sorted(shared, key=lambda f: (-entangled[f], f)):
        breaks = set(CATALOGUE[fault].breaks)
        fits = [i for i in range(len(placed)) if not breaks & taken[i]]
        if not fits:
            placed.append([])
            taken.append(set())
            fits = [len(placed) - 1]
        at = min(fits, key=lambda i: len(placed[i]))
        placed[at].append(fault)
        taken[at] |= breaks
    placed += [[fault] for fault in sorted(alone) if fault in faults]
    return tuple(tuple(sorted(world)) for world in placed if world)


def breaks(world: tuple[str, ...]) -> set[str]:
    """Every scenario and check the world's faults name."""
    return {item for fault in world for item in CATALOGUE[fault].breaks}


def label(world: tuple[str, ...]) -> str:
    """A test id for the world: its faults' short names."""
    return "+".join(fault.split(".", 1)[1] for fault in world)
