"""How long the whole sandbox world takes to start and stop (SSH host, Kubernetes API, GitHub API,
platform). Run: python3 tests/bench/bench_sandbox_start.py"""

from __future__ import annotations

import asyncio
import statistics
import time

from backends.sandbox.world import SandboxWorld


async def once() -> tuple[float, float]:
    world = SandboxWorld.create()
    started = time.perf_counter()
    await world.start()
    up = time.perf_counter() - started
    started = time.perf_counter()
    await world.stop()
    return up, time.perf_counter() - started


def main(rounds: int = 5) -> None:
    results = [asyncio.run(once()) for _ in range(rounds)]
    ups = [u for u, _ in results]
    downs = [d for _, d in results]
    print(f"sandbox start: median {statistics.median(ups) * 1000:.0f} ms, max {max(ups) * 1000:.0f} ms")
    print(f"sandbox stop:  median {statistics.median(downs) * 1000:.0f} ms, max {max(downs) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
