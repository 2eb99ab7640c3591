"""Benchmark: 1,000,000 log lines through the logs pipeline vs. a bare read of the same lines.

    python3 tests/bench/bench_logs_pipeline.py [--lines N] [--ring N]

The lines (tests/bench/loggen.py: klog, logrus, JSON, agent output; ~1% secrets of every shape the
redactor knows, ~2% look-alikes, PEM keys) are written to a file first (not timed). Then:

  bare read   the same file through the same FileSource, lines counted, nothing else
  pipeline    FileSource → redaction (per-stream, PEM-aware) → records → pending → flush:
              LogFiles.append (the session's redacted log file) + LogRing (bounded) + LogLines events

and it prints lines/s for both and their ratio (the aim: pipeline within 3x of the bare read), plus a
check that no secret reached the session's log file.
"""

from __future__ import annotations

import argparse
import asyncio
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
from backends.redact import Redactor
from tests.bench.loggen import KNOWN_SECRETS, lines


async def bare_read(path: Path) -> int:
    count = 0
    async for item in FileSource(str(path), follow=False, from_start=True).stream():
        if isinstance(item, Chunk):
            count += len(item.texts)
    return count


async def through_pipeline(path: Path, session: Path, ring_size: int) -> tuple[int, LogPipeline, int]:
    bus = EventBus()
    published = [0]

    def count(event: object) -> None:
        if isinstance(event, LogLines):
            published[0] += len(event.lines)

    bus.subscribe(count)
    files = LogFiles(session)
    pipeline = LogPipeline(Redactor(KNOWN_SECRETS.values()), files, LogRing(ring_size), bus)
    source = FileSource(str(path), follow=False, from_start=True, stream="bench")
    async for item in source.stream():
        pipeline.ingest(item)
    pipeline.flush()
    files.close()
    return published[0], pipeline, pipeline.streams["bench"].lines


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

    redactor = Redactor(KNOWN_SECRETS.values())
    all_lines = src.read_text(encoding="utf-8").split("\n")[:-1]
    bare_best = pipe_best = redact_best = float("inf")
    session = work / "session"
    pipeline: LogPipeline | None = None
    for run in range(args.repeat):
        t0 = time.perf_counter()
        n_bare = asyncio.run(bare_read(src))
        bare_best = min(bare_best, time.perf_counter() - t0)
        session = work / f"session-{run}"
        t0 = time.perf_counter()
        published, pipeline, n_pipe = asyncio.run(through_pipeline(src, session, args.ring))
        pipe_best = min(pipe_best, time.perf_counter() - t0)
        assert n_bare == n_pipe == args.lines, (n_bare, n_pipe)
        assert published == n_pipe + 1, published  # every line, plus the END mark, reached the bus
        stream = redactor.line_stream()  # the redactor alone, in the pipeline's chunk sizes
        t0 = time.perf_counter()
        for i in range(0, len(all_lines), 2000):
            stream.feed(all_lines[i : i + 2000])
        redact_best = min(redact_best, time.perf_counter() - t0)
    assert pipeline is not None

    leaked = []
    log_bytes = 0
    for path in (session / "logs").glob("*.log"):
        text = path.read_text(encoding="utf-8")
        log_bytes += len(text)
        leaked += [k for k, v in KNOWN_SECRETS.items() if v in text]
        if "PRIVATE KEY-----\nMII" in text or "ghp_" in text.replace("[REDACTED", ""):
            leaked.append(path.name)
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
    pipe_rate = args.lines / pipe_best
    redact_rate = args.lines / redact_best
    print(
        f"bare read     : {bare_rate:>11,.0f} lines/s  ({bare_best:.2f} s)  the same FileSource, nothing else"
    )
    print(
        f"pipeline      : {pipe_rate:>11,.0f} lines/s  ({pipe_best:.2f} s)  → redaction → ring, file, events"
    )
    print(f"ratio         : {bare_rate / pipe_rate:.1f}x the bare read's time (aim: within 3x)")
    share = redact_best / pipe_best
    print(f"  of which the redactor alone: {redact_rate:,.0f} lines/s ({redact_best:.2f} s, {share:.0%})")
    rest = pipe_best - redact_best
    rest_rate = args.lines / rest
    times = rest / bare_best
    print(
        f"  the rest of the pipeline   : {rest_rate:,.0f} lines/s ({rest:.2f} s, {times:.1f}x the bare read)"
    )
    floor_x = write_floor / bare_best
    size_mb = log_bytes / 1e6
    print(f"  (writing {size_mb:.0f} MB to the session dir, no work: {write_floor:.2f} s, {floor_x:.1f}x)")
    print(f"ring holds {len(pipeline.ring):,} lines; session log file {log_bytes / 1e6:.1f} MB")
    print("secrets in the session's log file:", ", ".join(leaked) if leaked else "none")


if __name__ == "__main__":
    main()
