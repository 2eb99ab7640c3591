"""Benchmark: 10,000 lines/s streamed into the running app; key-press-to-screen latency and memory.

    python3 tests/bench/bench_logs_app.py [--seconds 30] [--rate 10000] [--total 1000000]

The app runs headless under Textual's pilot driver at 160x48, on the logs pane, with a synthetic source
feeding four streams (tests/bench/loggen.py: realistic lines, ~1% secrets, so redaction is on the
path) through the real pipeline at `--rate` lines/s for `--seconds`. Meanwhile keys are sent the way
a terminal sends them (`driver.send_message`), alternating:

  scroll   `up` / `down` / `pageup` on the paused logs pane
  switch   `1` (preflight) and `3` (logs) between panes

Latency = from sending the key to the first frame the app composes that shows its effect (the app's
`_display` is wrapped to timestamp each frame and to record what it showed; the frame's terminal
bytes are generated too, as a real terminal would need them). Then the remaining lines up to
`--total` are pushed as fast as the pipeline takes them. RSS is sampled throughout; printed: p50/p95
per key kind, peak RSS, RSS after 100k and after `--total` lines (bounded memory: they should match).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
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


class BenchApp(GateRoomApp):
    """The real app; `_display` also timestamps each composed frame and what it showed."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "tui" / "app.tcss")  # relative to tui/, not here
    frames: list[tuple[float, Any, str]]

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)  # the bytes a terminal would get
            lines_view = self.query(LogLinesView).first() if self.is_running else None
            active = self.query_one(TabbedContent).active if self.is_running else ""
            self.frames.append((time.perf_counter(), lines_view.cursor if lines_view else None, active))
        super()._display(screen, renderable)


def _settings() -> Any:
    return settings_from_dict(
        {"hosts": [{"name": "bench-vps", "address": "203.0.113.10", "key": "/nonexistent/key"}]}
    )


async def run(seconds: float, rate: int, total: int, size: tuple[int, int], freeze: bool = False) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gateroom-bench-app-"))
    source = FirehoseSource(rate, int(rate * seconds), total)

    async def opener() -> Gate:
        gate = await open_gate(_settings(), workdir / "session", secrets=KNOWN_SECRETS.values())
        assert gate.logs is not None
        gate.logs.add_source(source)
        return gate

    proc = psutil.Process()
    gc_pauses = {"n": 0, "max": 0.0, "start": 0.0}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            gc_pauses["start"] = time.perf_counter()
        else:
            gc_pauses["n"] += 1
            gc_pauses["max"] = max(gc_pauses["max"], time.perf_counter() - gc_pauses["start"])

    gc.callbacks.append(on_gc)
    app = BenchApp(opener, autorun=False)
    app.frames = []
    rss: list[tuple[int, int]] = []  # (lines streamed, rss)
    latencies: dict[str, list[float]] = {"scroll": [], "switch": []}

    async with app.run_test(size=size) as pilot:
        while app.gate is None:
            await pilot.pause(0.02)
        await pilot.press("3")
        if freeze:
            gc.freeze()  # the app's start-up objects leave the collector's full passes
        assert app.gate.logs is not None
        hub = app.gate.logs
        lines_view = app.query_one(LogLinesView)
        tabs = app.query_one(TabbedContent)
        driver = app._driver
        assert driver is not None

        async def key(name: str, kind: str, shows: Any) -> None:
            """Send a key; wait for the first frame that shows its effect."""
            mark = len(app.frames)
            sent = time.perf_counter()
            driver.send_message(events.Key(name, None if len(name) > 1 else name))
            deadline = sent + 5.0
            while time.perf_counter() < deadline:
                for stamp, cursor, active in app.frames[mark:]:
                    if stamp >= sent and shows(cursor, active):
                        latencies[kind].append(stamp - sent)
                        return
                await asyncio.sleep(0.0005)
            latencies[kind].append(float("inf"))

        async def sample_rss() -> None:
            while True:
                rss.append((hub.ring.total, proc.memory_info().rss))
                await asyncio.sleep(0.25)

        sampler = asyncio.get_running_loop().create_task(sample_rss())
        await asyncio.sleep(1.0)
        await key("p", "scroll", lambda cursor, active: cursor is not None)  # pause: a cursor appears
        phase_end = source.started + seconds - 0.3
        step = 0
        while time.perf_counter() < phase_end:
            step += 1
            if step % 5 == 0:
                await key("1", "switch", lambda c, a: a == "preflight")
                await asyncio.sleep(0.05)
                await key("3", "switch", lambda c, a: a == "logs")
            else:
                name = ("up", "down", "pageup", "down")[step % 4]
                before = lines_view.cursor
                await key(
                    name,
                    "scroll",
                    lambda cursor, active, before=before: cursor is not None and cursor != before,
                )
            await asyncio.sleep(0.1)
        await source.paced_done.wait()
        streamed_paced = source.paced
        achieved = source.paced / max(1e-9, source.paced_at - source.started)
        await key("end", "scroll", lambda cursor, active: cursor is None)  # back to following
        await source.paced_done.wait()
        while hub.ring.total < total:  # noqa: ASYNC110 - polling a counter the pipeline owns
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        gc.collect()
        rss.append((hub.ring.total, proc.memory_info().rss))
        sampler.cancel()
        ring_len = len(hub.ring)
        view_rows = len(lines_view.view.rows) if lines_view.view else 0
        frames = len(app.frames)
        _ = tabs

    def rss_at(n: int) -> int:
        return next((r for count, r in rss if count >= n), rss[-1][1])

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    print(f"paced phase: {streamed_paced:,} lines at {achieved:,.0f} lines/s (target {rate:,})")
    print(f"then streamed on to {total:,} lines as fast as the pipeline took them")
    print(
        f"terminal {size[0]}x{size[1]}, {frames:,} frames; ring {ring_len:,} lines; view {view_rows:,} rows"
    )
    for kind, values in latencies.items():
        if values:
            print(
                f"{kind:6} key → screen: p50 {pct(values, 0.5):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms   "
                f"max {max(values) * 1000:6.1f} ms   (n={len(values)}, "
                f"mean {statistics.mean(values) * 1000:.1f} ms)"
            )
    peak = max(r for _, r in rss)
    steps = [n for n in (50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 500_000, 750_000) if n < total]
    series = ", ".join(f"{n // 1000}k {rss_at(n) / MB:.0f}" for n in [*steps, total])
    print(f"RSS (MB) by lines streamed: {series}")
    print(
        f"GC: {gc_pauses['n']} full collections while streaming, longest {gc_pauses['max'] * 1000:.0f} ms"
        + (" (gc.freeze() on)" if freeze else "")
    )
    print(
        f"RSS peak {peak / MB:,.0f} MB; after 100k lines {rss_at(100_000) / MB:,.0f} MB; "
        f"after 300k {rss_at(300_000) / MB:,.0f} MB; after 500k {rss_at(500_000) / MB:,.0f} MB; "
        f"after {total // 1000:,}k lines {rss_at(total) / MB:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=48)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the app is up (an experiment, see the report)",
    )
    args = parser.parse_args()
    asyncio.run(
        run(
            args.seconds,
            args.rate,
            max(args.total, int(args.rate * args.seconds)),
            (args.width, args.height),
            args.gc_freeze,
        )
    )


if __name__ == "__main__":
    main()
