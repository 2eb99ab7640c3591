"""Benchmark: 1,000,000 log lines through the logs pipeline vs. a bare read of the same lines.

    python3 tests/bench/bench_logs_pipeline.py [--lines N] [--ring N]

The lines (tests/bench/loggen.py: klog, logrus, JSON, agent output; ~1% secrets of every shape the
redactor knows, ~2% look-alikes, PEM keys) are written to a file first (not timed). Then:

  bare read   the same file through the same FileSource, lines counted, nothing else
  pipeline    FileSource → redaction (per-stream, PEM-aware) → records → pending → flush:
              LogFiles.append (the session's redacted log file) + LogRing (bounded) + LogLines events

and it prints lines/s for both and their ratio (the aim: pipeline within 3x of the bare read), the
redactor alone (the aim: 5 M lines/s), for each redaction engine side by side (Hyperscan, the one in
use, and the pure-Python fallback), plus a check that no secret reached the session's log files.
`uptime` is printed too: the machine may be shared, and its load moves every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backends.events import EventBus, LogLines
from backends.evidence.logfiles import LogFiles
from backends.logs.files import FileSource
from backends.logs.pipeline import LogPipeline
from backends.logs.ring import LogRing
from backends.logs.source import Chunk
from backends.redact import AVAILABLE, ENGINES, Redactor, engine_report
from tests.bench.loggen import KNOWN_SECRETS, lines


async def bare_read(path: Path) -> int:
    count = 0
    async for item in FileSource(str(path), follow=False, from_start=True).stream():
        if isinstance(item, Chunk):
            count += len(item.texts)
    return count


async def through_pipeline(
    path: Path, session: Path, ring_size: int, redactor: Redactor
) -> tuple[int, LogPipeline, int]:
    bus = EventBus()
    published = [0]

    def count(event: object) -> None:
        if isinstance(event, LogLines):
            published[0] += len(event.lines)

    bus.subscribe(count)
    files = LogFiles(session)
    pipeline = LogPipeline(redactor, files, LogRing(ring_size), bus)
    source = FileSource(str(path), follow=False, from_start=True, stream="bench")
    async for item in source.stream():
        pipeline.ingest(item)
    pipeline.close()
    files.close()
    return published[0], pipeline, pipeline.streams["bench"].lines


def _redactor(engine: str) -> Redactor:
    """A redactor in its steady state: the known values compiled in (a background job at first)."""
    redactor = Redactor(KNOWN_SECRETS.values(), engine=engine)
    prefilter = redactor._engine()
    if prefilter is not None:
        prefilter.wait_combined()  # type: ignore[attr-defined]
    return redactor


def _leaks(session: Path) -> tuple[list[str], int]:
    leaked = []
    log_bytes = 0
    for path in (session / "logs").glob("*.log"):
        text = path.read_text(encoding="utf-8")
        log_bytes += len(text)
        leaked += [k for k, v in KNOWN_SECRETS.items() if v in text]
        if "PRIVATE KEY-----\nMII" in text or "ghp_" in text.replace("[REDACTED", ""):
            leaked.append(path.name)
    return leaked, log_bytes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--ring", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gateroom-bench-"))
    src = work / "input.log"
    started = time.perf_counter()
    with open(src, "w", encoding="utf-8") as fh:
        for line in lines(args.lines):
            fh.write(line + "\n")
    size = src.stat().st_size
    print(f"input: {args.lines:,} lines, {size / 1e6:.1f} MB ({time.perf_counter() - started:.1f} s to make)")
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), redaction in use: {engine_report()}")

    text = src.read_text(encoding="utf-8")
    all_lines = text.split("\n")[:-1]
    engines = [e for e in ENGINES if e in AVAILABLE]
    bare_best = float("inf")
    pipe_best = dict.fromkeys(engines, float("inf"))
    redact_best = dict.fromkeys(engines, float("inf"))
    leaked: list[str] = []
    log_bytes = 0
    ring_len = 0
    for run in range(args.repeat):
        t0 = time.perf_counter()
        n_bare = asyncio.run(bare_read(src))
        bare_best = min(bare_best, time.perf_counter() - t0)
        for engine in engines:
            redactor = _redactor(engine)
            session = work / f"session-{engine}-{run}"
            t0 = time.perf_counter()
            published, pipeline, n_pipe = asyncio.run(through_pipeline(src, session, args.ring, redactor))
            pipe_best[engine] = min(pipe_best[engine], time.perf_counter() - t0)
            assert n_bare == n_pipe == args.lines, (n_bare, n_pipe)
            assert published == n_pipe + 1, published  # every line, plus the END mark, reached the bus
            found, log_bytes = _leaks(session)
            leaked += [f"{engine}: {x}" for x in found]
            ring_len = len(pipeline.ring)
            shutil.rmtree(session)
            # the redactor alone, in the pipeline's chunk sizes (the joined text handed over, as the
            # file source does)
            stream = redactor.line_stream()
            chunks = [all_lines[i : i + 2000] for i in range(0, len(all_lines), 2000)]
            joined = ["\n".join(c) for c in chunks]
            t0 = time.perf_counter()
            for chunk, whole in zip(chunks, joined, strict=True):
                stream.feed(chunk, whole)
            redact_best[engine] = min(redact_best[engine], time.perf_counter() - t0)

    # the floor under any pipeline that keeps every line: writing that many bytes to the session dir
    block = b"x" * (1 << 20)
    floor = work / "write-floor.bin"
    t0 = time.perf_counter()
    with open(floor, "wb") as fh:
        for _ in range(log_bytes >> 20):
            fh.write(block)
    write_floor = time.perf_counter() - t0
    floor.unlink()
    bare_rate = args.lines / bare_best
    print(
        f"bare read     : {bare_rate:>11,.0f} lines/s  ({bare_best:.2f} s)  the same FileSource, nothing else"
    )
    for engine in engines:
        pipe_s, redact_s = pipe_best[engine], redact_best[engine]
        rest = pipe_s - redact_s
        print(
            f"pipeline, {engine:<9}: {args.lines / pipe_s:>11,.0f} lines/s  ({pipe_s:.2f} s)  "
            f"{pipe_s / bare_best:.1f}x the bare read's time (aim: within 3x)"
        )
        print(
            f"  redactor alone ({engine}): {args.lines / redact_s:>11,.0f} lines/s  ({redact_s:.2f} s, "
            f"{redact_s / pipe_s:.0%} of the pipeline; aim: 5,000,000 lines/s)"
        )
        print(
            f"  the rest of the pipeline   : {args.lines / rest:>11,.0f} lines/s  ({rest:.2f} s, "
            f"{rest / bare_best:.1f}x the bare read)"
        )
    if "hyperscan" in engines:  # where the Hyperscan engine's time goes
        prefilter = _redactor("hyperscan")._engine()
        assert prefilter is not None
        data = [
            text.encode()
            for text in ("\n".join(all_lines[i : i + 2000]) for i in range(0, len(all_lines), 2000))
        ]
        scan_best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for block in data:
                prefilter.lines(block)
            scan_best = min(scan_best, time.perf_counter() - t0)
        exact = redact_best["hyperscan"] - scan_best
        print(
            f"  hyperscan engine: the one scan and its line numbers {scan_best:.2f} s "
            f"({args.lines / scan_best:,.0f} lines/s); the exact rules on the lines it flags and the rest "
            f"{exact:.2f} s"
        )
    floor_x = write_floor / bare_best
    size_mb = log_bytes / 1e6
    print(f"  (writing {size_mb:.0f} MB to the session dir, no work: {write_floor:.2f} s, {floor_x:.1f}x)")
    print(f"ring holds {ring_len:,} lines; session log file {log_bytes / 1e6:.1f} MB")
    print("secrets in the session's log files:", ", ".join(leaked) if leaked else "none")
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
