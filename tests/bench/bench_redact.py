"""Redaction throughput: a bare read of 1,000,000 log lines vs read + redact + write, per engine, and
the multi-pattern libraries weighed for the engine's prefilter, side by side.

Run: `python tests/bench/bench_redact.py [--lines N] [--batch-bytes N]`. About 1% of the lines carry
a secret of one of the corpus shapes. Every pass reads the same file in blocks of whole lines, split
(as the logs pipeline's file source does); the redacting ones also redact each batch with
`Redactor.line_stream().feed` and write it out, once per engine (Hyperscan, and the pure-Python
fallback). Prints the rates, the ratios, the machine's load, and checks that no planted secret
reached the output. Then the prefilter alone (which lines of each batch may hold a secret) with each
candidate library that is installed (tests/bench/redact_candidates.py): the choice of Hyperscan
rests on these figures.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends.redact import AVAILABLE, ENGINES, Redactor, engine_report  # noqa: E402
from tests.bench.redact_candidates import candidates  # noqa: E402

_ALNUM = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _secret_line(rng: random.Random, known: str) -> tuple[str, str]:
    kind = rng.randrange(10)
    if kind == 0:
        s = "ghp_" + _rand(rng, 36)
        return f'level=info msg="cloning" remote=https://x-access-token:{s}@github.com/o/r.git', s
    if kind == 1:
        s = "github_pat_" + _rand(rng, 22) + "_" + _rand(rng, 59)
        return f"2025-01-01T10:00:00Z DEBUG env KODEX_GITHUB_PAT={s}", s
    if kind == 2:
        s = "sk-proj-" + _rand(rng, 48)
        return f'{{"level":"debug","msg":"openai client","api_key":"{s}"}}', s
    if kind == 3:
        s = (
            "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ."
            + _rand(rng, 60, _ALNUM + "_-")
            + "."
            + _rand(rng, 43, _ALNUM + "_-")
        )
        return f"I0101 10:00:00.000 request headers: Authorization: Bearer {s}", s
    if kind == 4:
        s = "AKIA" + _rand(rng, 16, string.ascii_uppercase + string.digits)
        return f"aws: using access key {s} for region eu-west-1", s
    if kind == 5:
        s = "xoxb-" + _rand(rng, 12, string.digits) + "-" + _rand(rng, 24)
        return f"notify: slack token={s} channel=#ops", s
    if kind == 6:
        s = str(rng.randrange(10**8, 10**9)) + ":AA" + _rand(rng, 33, _ALNUM + "_-")
        return f"telegram adapter started bot={s}", s
    if kind == 7:
        s = _rand(rng, 20)
        return f"postgres://kodex:{s}@postgres.kodex-prod.svc:5432/kodex?sslmode=disable", s
    if kind == 8:
        s = _rand(rng, 32)
        return f'  KODEX_GITHUB_WEBHOOK_SECRET: "{s}"', s
    return f"worker: retry with credential {known} failed", known


def _plain_line(rng: random.Random, i: int) -> str:
    ts = f"2025-01-0{1 + i % 9}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z"
    kind = i % 8
    if kind == 0:
        run = _rand(rng, 8).lower()
        return f"{ts} INFO  kodex-worker run={run} namespace=codex-issue-{i % 500} phase=started"
    if kind == 1:
        sha = "".join(rng.choice("0123456789abcdef") for _ in range(40))
        return f"{ts} DEBUG git checkout {sha} into /workspace/repo (depth=1)"
    if kind == 2:
        return (
            f'{{"ts":"{ts}","level":"info","msg":"github webhook","event":"issues","action":"labeled",'
            f'"label":"run:dev","repo":"codex-k8s/project-example","issue":{i % 900}}}'
        )
    if kind == 3:
        digest = "".join(rng.choice("0123456789abcdef") for _ in range(64))
        return f"{ts} INFO  pulled image 127.0.0.1:5000/codex-k8s/worker@sha256:{digest}"
    if kind == 4:
        url = f"https://api.github.com/repos/codex-k8s/codex-k8s/issues/{i % 300}"
        return f"{ts} WARN  GET {url} rate-limit remaining=4{i % 1000}"
    if kind == 5:
        uid = "-".join(_rand(rng, n, "0123456789abcdef") for n in (8, 4, 4, 4, 12))
        return f"{ts} INFO  pod kodex-worker-{_rand(rng, 5).lower()} uid={uid} ready=true restarts=0"
    if kind == 6:
        return f"{ts} INFO  agent step {i % 40}: token_count={i % 9000} model=gpt-5.3-codex state:in-review"
    ref = "secretKeyRef kodex-runtime/KODEX_GITHUB_PAT"
    return f"{ts} ERROR reconcile codex-issue-{i % 500}: {ref} not found, requeue"


def build(path: Path, n: int, seed: int = 7) -> tuple[list[str], str]:
    rng = random.Random(seed)
    known = "kn0wn-" + _rand(rng, 20)
    planted: list[str] = []
    pool = [_plain_line(rng, i) for i in range(4096)]  # varied but cheap to build
    with path.open("w", encoding="utf-8") as f:
        buf: list[str] = []
        for i in range(n):
            if rng.random() < 0.01:
                line, secret = _secret_line(rng, known)
                planted.append(secret)
            else:
                line = pool[i % len(pool)]
            buf.append(line)
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
    return planted, known


def _batches(path: Path, batch_bytes: int) -> Iterator[tuple[list[str], str]]:
    """Blocks of whole lines as the file source reads them: (lines, the text they were split from)."""
    partial = b""
    with path.open("rb") as f:
        while True:
            data = f.read(batch_bytes)
            if not data:
                break
            head, newline, partial_rest = data.rpartition(b"\n")
            if not newline:
                partial += partial_rest
                continue
            text = (partial + head).decode("utf-8", "replace")
            partial = partial_rest
            yield text.split("\n"), text
    if partial:
        text = partial.decode("utf-8", "replace")
        yield [text], text


def bare_read(path: Path, batch_bytes: int) -> int:
    return sum(len(lines) for lines, _ in _batches(path, batch_bytes))


def read_redact_write(path: Path, out: Path, redactor: Redactor, batch_bytes: int) -> int:
    count = 0
    stream = redactor.line_stream()
    with out.open("w", encoding="utf-8") as w:
        for lines, text in _batches(path, batch_bytes):
            w.write("\n".join(stream.feed(lines, text)))
            w.write("\n")
            count += len(lines)
    return count


def read_write(path: Path, out: Path, batch_bytes: int) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as w:
        for lines, text in _batches(path, batch_bytes):
            w.write(text)
            w.write("\n")
            count += len(lines)
    return count


def per_line_calls(path: Path, redactor: Redactor, limit: int) -> int:
    """One `redact()` call per line (no batching), on the first `limit` lines: for comparison."""
    count = 0
    redact = redactor.redact
    with path.open("r", encoding="utf-8") as f:
        for line in f:
            redact(line)
            count += 1
            if count >= limit:
                break
    return count


def _best(fn, repeat: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    best = float("inf")
    count = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t0)
    return best, count


def _steady(known: str, engine: str) -> Redactor:
    redactor = Redactor([known], engine=engine)
    prefilter = redactor._engine()
    if prefilter is not None:
        prefilter.wait_combined()  # type: ignore[attr-defined]
    return redactor


def prefilter_figures(path: Path, redactor: Redactor, batch_bytes: int, repeat: int) -> None:
    batches = [text for _, text in _batches(path, batch_bytes)]
    total = sum(b.count("\n") + 1 for b in batches)
    print(f"prefilter alone (which lines may hold a secret), {len(batches)} batches:")
    for name, flag in candidates(redactor._ordered_literals).items():
        if flag is None:
            print(f"  {name:<14} not installed (pip install {name})")
            continue
        best, flagged = _best(lambda flag=flag: sum(len(flag(b)) for b in batches), repeat)
        print(f"  {name:<14} {total / best:>12,.0f} lines/s  ({best:.3f}s, {flagged:,} lines flagged)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--batch-bytes", type=int, default=256 * 1024, help="bytes read per batch")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.log", Path(tmp) / "out.log"
        t0 = time.perf_counter()
        planted, known = build(src, args.lines)
        size = src.stat().st_size
        print(
            f"built {args.lines:,} lines ({size / 1e6:.1f} MB, {len(planted):,} with secrets)"
            f" in {time.perf_counter() - t0:.1f}s"
        )
        print(f"load: {os.getloadavg()[0]:.2f} (1 min); redaction in use: {engine_report()}")
        bare_s, n1 = _best(lambda: bare_read(src, args.batch_bytes), args.repeat)
        io_s, _ = _best(lambda: read_write(src, dst, args.batch_bytes), args.repeat)
        print(f"bare read:                  {n1 / bare_s:>12,.0f} lines/s  ({bare_s:.3f}s)")
        print(f"read+write (no redaction):  {n1 / io_s:>12,.0f} lines/s  ({io_s:.3f}s)")
        leaked_any = 0
        limit = min(args.lines, 200_000)
        for engine in (e for e in ENGINES if e in AVAILABLE):
            redactor = _steady(known, engine)
            full_s, n2 = _best(
                lambda redactor=redactor: read_redact_write(src, dst, redactor, args.batch_bytes), args.repeat
            )
            assert n1 == n2 == args.lines, (n1, n2)
            text = dst.read_text(encoding="utf-8")
            leaked = sum(1 for s in planted if s in text)
            leaked_any += leaked
            single_s, n3 = _best(lambda redactor=redactor: per_line_calls(src, redactor, limit), 1)
            markers = text.count("[REDACTED:")
            print(
                f"read+redact+write {engine:<9}: {n2 / full_s:>12,.0f} lines/s  ({full_s:.3f}s, "
                f"{full_s / bare_s:.2f}x the bare read; markers {markers:,}, leaked {leaked})"
            )
            print(f"  redact() per line, unbatched (first {n3:,}): {n3 / single_s:>12,.0f} lines/s")
        if "hyperscan" in AVAILABLE:
            prefilter_figures(src, _steady(known, "hyperscan"), args.batch_bytes, args.repeat)
        else:
            print("prefilter candidates: hyperscan does not load here")
        print(f"load: {os.getloadavg()[0]:.2f} (1 min)")
        return 1 if leaked_any else 0


if __name__ == "__main__":
    sys.exit(main())
