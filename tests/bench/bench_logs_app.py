"""Benchmark: 10,000 lines/s streamed into the running app; key-press-to-screen latency and memory.

    python3 tests/bench/bench_logs_app.py [--seconds 30] [--rate 10000] [--total 1000000] [--after 20]

The app runs headless under Textual's pilot driver at 160x48, on the logs pane, with a synthetic source
feeding four streams (tests/bench/loggen.py: realistic lines, ~1% secrets, so redaction is on the
path) through the real pipeline at `--rate` lines/s for `--seconds`. Meanwhile keys are sent the way
a terminal sends them (`driver.send_message`), alternating:

  scroll   `up` / `down` / `pageup` on the paused logs pane
  switch   `1` (preflight) and `3` (logs) between panes

Latency = from sending the key to the first frame the app composes that shows its effect (the app's
`_display` is wrapped to timestamp each frame and to record what it showed; the frame's terminal
bytes are generated too, as a real terminal would need them). Then the remaining lines up to
`--total` are pushed as fast as the pipeline takes them; then, a long session's steady state, lines
stream on at `--rate` for `--after` seconds while the same keys are measured again. RSS is sampled
throughout; printed: p50/p95 per key kind in both phases, the full collections the collector ran
(and the objects it has to walk), peak RSS, RSS by lines streamed (bounded memory: they should
level off), and the load average (the machine is shared: figures are only comparable at like load).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual import events
from textual._compositor import CompositorUpdate
from textual.widgets import TabbedContent

from backends.config import settings_from_dict
from backends.gate import Gate, open_gate
from backends.logs.source import Chunk, Item
from tests.bench.loggen import KNOWN_SECRETS, lines
from tui.app import GateRoomApp
from tui.panes.logs import LogLinesView

STREAMS = (
    "prod-vps:k3s",
    "kodex-prod/kodex-worker-5f7d9",
    "codex-issue-128/agent-run-4f2a1",
    "codex-issue-131/agent-run-9e0c7",
)
MB = 1024 * 1024


class FirehoseSource:
    """Pre-made realistic lines, paced at `rate` lines/s, then (after `paced` lines) as fast as taken."""

    name = "bench-firehose"

    def __init__(self, rate: int, paced: int, total: int) -> None:
        self.rate = rate
        self.paced = paced
        self.total = total
        self.pool = list(lines(50_000, seed=11))
        self.sent = 0
        self.started = 0.0
        self.paced_done = asyncio.Event()
        self.paced_at = 0.0
        self.stopped = False  # after `total`: lines go on at `rate` until this is set

    async def _tail(self, per_tick: int, tick: float) -> AsyncIterator[Item]:
        pool, n = self.pool, len(self.pool)
        next_at = time.perf_counter()
        while not self.stopped:
            start = self.sent % n
            texts = pool[start : start + per_tick] if start + per_tick <= n else pool[:per_tick]
            yield Chunk(STREAMS[self.sent // per_tick % len(STREAMS)], texts)
            self.sent += per_tick
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    async def stream(self) -> AsyncIterator[Item]:
        tick = 0.01
        per_tick = max(1, int(self.rate * tick))
        self.started = time.perf_counter()
        next_at = self.started
        pool, n = self.pool, len(self.pool)
        while self.sent < self.total:
            pacing = self.sent < self.paced
            if pacing:
                due = int((time.perf_counter() - self.started) * self.rate)
                count = max(0, min(due - self.sent, self.paced - self.sent))
            else:
                if not self.paced_done.is_set():
                    self.paced_at = time.perf_counter()
                    self.paced_done.set()
                count = min(5000, self.total - self.sent)
            for k in range(0, count, per_tick):
                size = min(per_tick, count - k)
                start = (self.sent + k) % n
                texts = (
                    pool[start : start + size]
                    if start + size <= n
                    else (pool[start:] + pool[: start + size - n])
                )
                yield Chunk(STREAMS[(self.sent + k) // per_tick % len(STREAMS)], texts)
            self.sent += count
            if pacing:
                next_at += tick
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            else:
                await asyncio.sleep(0)
        self.paced_done.set()
        async for item in self._tail(per_tick, tick):
            yield item


class BenchApp(GateRoomApp):
    """The real app; `_display` also timestamps each composed frame and what it showed."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "tui" / "app.tcss")  # relative to tui/, not here
    frames: list[tuple[float, float, Any, str]]

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)  # the bytes a terminal would get
            lines_view = self.query(LogLinesView).first() if self.is_running else None
            active = self.query_one(TabbedContent).active if self.is_running else ""
            cursor = lines_view.cursor if lines_view else None
            self.frames.append((time.perf_counter(), time.thread_time(), cursor, active))
        super()._display(screen, renderable)


def _settings() -> Any:
    return settings_from_dict(
        {"hosts": [{"name": "bench-vps", "address": "203.0.113.10", "key": "/nonexistent/key"}]}
    )


class GcWatch:
    """Full (generation 2) collections: how many, how long, per phase of the run."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (wall, CPU) seconds
        self._start = (0.0, 0.0)
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = (time.perf_counter(), time.thread_time())
        else:
            self.pauses.append((time.perf_counter() - self._start[0], time.thread_time() - self._start[1]))

    def take(self) -> list[tuple[float, float]]:
        taken, self.pauses = self.pauses, []
        return taken

    def close(self) -> None:
        gc.callbacks.remove(self._on_gc)


def gc_line(pauses: list[tuple[float, float]]) -> str:
    if not pauses:
        return "no full collections"
    wall = max(w for w, _ in pauses) * 1000
    cpu = statistics.median(c for _, c in pauses) * 1000
    return f"{len(pauses)} full collections, longest {wall:.0f} ms, median CPU {cpu:.1f} ms each"


def census(top: int = 6) -> str:
    """The objects a full collection walks (frozen ones excluded), by type, and what one costs."""
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    common = ", ".join(f"{name} {n:,}" for name, n in counts.most_common(top))
    costs = []
    for _ in range(5):
        start = time.thread_time()
        gc.collect()
        costs.append(time.thread_time() - start)
    cost = statistics.median(costs) * 1000
    return (
        f"{sum(counts.values()):,} tracked ({common}); {gc.get_freeze_count():,} frozen; "
        f"a full collection {cost:.1f} ms CPU"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


async def run(seconds: float, rate: int, total: int, size: tuple[int, int], after: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gateroom-bench-app-"))
    source = FirehoseSource(rate, int(rate * seconds), total)

    async def opener() -> Gate:
        gate = await open_gate(_settings(), workdir / "session", secrets=KNOWN_SECRETS.values())
        assert gate.logs is not None
        gate.logs.add_source(source)
        return gate

    proc = psutil.Process()
    watch = GcWatch()
    app = BenchApp(opener, autorun=False)
    app.frames = []
    rss: list[tuple[int, int]] = []  # (lines streamed, rss)
    # wall-clock latency per key kind, and the app's own CPU time in it (`cpu:` kinds): on a loaded
    # machine the first is mostly waiting for a core, the second is what the app itself spent
    kinds = ("scroll", "switch", "cpu:scroll", "cpu:switch")
    streaming: dict[str, list[float]] = {kind: [] for kind in kinds}
    steady: dict[str, list[float]] = {kind: [] for kind in kinds}
    loads = [load()]

    async with app.run_test(size=size) as pilot:
        while app.gate is None:
            await pilot.pause(0.02)
        await pilot.press("3")
        assert app.gate.logs is not None
        hub = app.gate.logs
        lines_view = app.query_one(LogLinesView)
        driver = app._driver
        assert driver is not None
        at_start = census()

        async def key(name: str, shows: Any, kind: str, into: dict[str, list[float]]) -> None:
            """Send a key; wait for the first frame that shows its effect."""
            mark = len(app.frames)
            sent, sent_cpu = time.perf_counter(), time.thread_time()
            driver.send_message(events.Key(name, None if len(name) > 1 else name))
            deadline = sent + 5.0
            while time.perf_counter() < deadline:
                for stamp, cpu, cursor, active in app.frames[mark:]:
                    if stamp >= sent and shows(cursor, active):
                        into[kind].append(stamp - sent)
                        into["cpu:" + kind].append(cpu - sent_cpu)
                        return
                await asyncio.sleep(0.0005)
            into[kind].append(float("inf"))

        async def exercise(until: float, latencies: dict[str, list[float]]) -> None:
            """Scroll the paused pane, and every fifth key switch to preflight and back."""
            await key("p", lambda cursor, active: cursor is not None, "scroll", latencies)  # pause
            step = 0
            while time.perf_counter() < until:
                step += 1
                if step % 5 == 0:
                    await key("1", lambda c, a: a == "preflight", "switch", latencies)
                    await asyncio.sleep(0.05)
                    await key("3", lambda c, a: a == "logs", "switch", latencies)
                else:
                    name = ("up", "down", "pageup", "down")[step % 4]
                    before = lines_view.cursor
                    await key(
                        name,
                        lambda cursor, active, before=before: cursor is not None and cursor != before,
                        "scroll",
                        latencies,
                    )
                await asyncio.sleep(0.1)
            await key("end", lambda cursor, active: cursor is None, "scroll", latencies)  # follow again

        async def sample_rss() -> None:
            while True:
                rss.append((hub.ring.total, proc.memory_info().rss))
                await asyncio.sleep(0.25)

        sampler = asyncio.get_running_loop().create_task(sample_rss())
        await asyncio.sleep(1.0)
        watch.take()
        await exercise(source.started + seconds - 0.3, streaming)
        gc_streaming = watch.take()
        await source.paced_done.wait()
        streamed_paced = source.paced
        achieved = source.paced / max(1e-9, source.paced_at - source.started)
        while hub.ring.total < total:  # noqa: ASYNC110 - polling a counter the pipeline owns
            await asyncio.sleep(0.1)
        gc_firehose = watch.take()
        loads.append(load())
        at_total = census()
        await asyncio.sleep(1.0)
        watch.take()
        tail_from = source.sent
        await exercise(time.perf_counter() + after, steady)
        gc_steady = watch.take()
        tail_lines = source.sent - tail_from
        source.stopped = True
        loads.append(load())
        rss.append((hub.ring.total, proc.memory_info().rss))
        sampler.cancel()
        ring_len = len(hub.ring)
        view_rows = len(lines_view.view.rows) if lines_view.view else 0
        frames = len(app.frames)
    watch.close()

    def rss_at(n: int) -> int:
        return next((r for count, r in rss if count >= n), rss[-1][1])

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def report(title: str, latencies: dict[str, list[float]], pauses: list[tuple[float, float]]) -> None:
        print(title)
        for kind, values in latencies.items():
            done = [v for v in values if v != float("inf")]  # the others showed no frame within 5 s
            if values:
                what = f"{kind[4:]:6} app CPU" if kind.startswith("cpu:") else f"{kind:6} key → screen"
                print(
                    f"  {what}: p50 {pct(values, 0.5):6.1f} ms   "
                    f"p95 {pct(values, 0.95):6.1f} ms   max {max(values) * 1000:6.1f} ms   (n={len(values)}"
                    + (f", {len(values) - len(done)} timed out" if len(done) < len(values) else "")
                    + (f", mean {statistics.mean(done) * 1000:.1f} ms)" if done else ")")
                )
        print(f"  {gc_line(pauses)}")

    print(f"paced phase: {streamed_paced:,} lines at {achieved:,.0f} lines/s (target {rate:,})")
    print(
        f"terminal {size[0]}x{size[1]}, {frames:,} frames; ring {ring_len:,} lines; view {view_rows:,} rows"
    )
    report(f"while streaming the first {streamed_paced:,} lines:", streaming, gc_streaming)
    print(f"then on to {total:,} lines as fast as the pipeline took them ({gc_line(gc_firehose)})")
    report(
        f"after {total:,} lines, {tail_lines:,} more streaming at {rate:,}/s:",
        steady,
        gc_steady,
    )
    print(f"objects the collector walks: at start {at_start}")
    print(f"                             after {total:,} lines {at_total}")
    peak = max(r for _, r in rss)
    steps = [n for n in (50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 500_000, 750_000) if n < total]
    series = ", ".join(f"{n // 1000}k {rss_at(n) / MB:.0f}" for n in [*steps, total])
    print(f"RSS (MB) by lines streamed: {series}; peak {peak / MB:,.0f}")
    print("machine: " + " → ".join(loads))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--after", type=float, default=20.0, help="seconds measured after --total lines")
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=48)
    args = parser.parse_args()
    asyncio.run(
        run(
            args.seconds,
            args.rate,
            max(args.total, int(args.rate * args.seconds)),
            (args.width, args.height),
            args.after,
        )
    )


if __name__ == "__main__":
    main()
