"""Benchmark: 20 SSH viewers on `gateroom serve` while the operator's app keeps writing evidence.

    python3 tests/bench/bench_serve_viewers.py [--viewers 20] [--keys 30] [--rate 5] [--pause 0.2]

The server runs as its own process (`gateroom serve`, one app process per session); this process
holds the 20 asyncssh clients and an operator writer that records `--rate` events/s into the same
session through the store (the same lock and flush the operator's app uses), so every viewer's
screen keeps updating. Each viewer types `--keys` keystrokes alternating `5` (sign-off) and `1`
(preflight), waiting `--pause` s after each one shows; latency is from writing the key to the first
moment the new pane's text is in what the server sent back. Before typing, once every viewer's
gate is open, they sit idle for `--idle` seconds while the operator keeps writing (the records it
writes are rows of the preflight table each viewer has on screen), then as long again with nothing
written: the server tree's CPU over each window, per viewer, is the idle cost. Printed: p50/p95 per
session and overall, both idle costs per viewer, the server's CPU (its whole process tree: the SSH
server and every session's app) during the typing phase and the load average, next to the figures
measured before.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncssh

from backends.events import CheckFinished
from backends.evidence.store import EvidenceStore
from backends.results import Status
from backends.session import STORE_FILE
from tests.integration.serve_support import Terminal, listening_port, make_keys, open_terminal, serve_argv
from tests.unit.bundle_support import check, make_session

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"5": "Recommendation", "1": "Preflight:"}  # a text only that pane draws, at any width
#: measured on the same 2-core machine with the rewrite-the-whole-file store, then after the
#: append-only store (every pane of every served terminal still redrawn on every record)
OLD = (
    "before: 20 viewers p50 1900 ms, p95 4300 ms per keystroke; 4 viewers p95 616 ms;"
    " after the append-only store: 20 viewers p95 ~4200 ms"
)


def tree_cpu(proc: psutil.Process) -> float:
    """The server's CPU seconds, its live session apps' and those of the apps it already reaped."""
    t = proc.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for p in proc.children(recursive=True):
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


async def operator_writer(
    store: EvidenceStore, rate: float, stop: asyncio.Event, writing: asyncio.Event
) -> int:
    n = 0
    while not stop.is_set():
        await writing.wait()
        n += 1
        status = Status.PASS if n % 3 else Status.WARN
        result = check(f"host.probe-{n % 40}", status, f"sample {n}", "anything")
        store.record_event(CheckFinished(result))
        await asyncio.to_thread(store.flush)
        await asyncio.sleep(1 / rate)
    return n


async def viewer(
    port: int,
    key: asyncssh.SSHKey,
    host_key: asyncssh.SSHKey,
    keys: int,
    pause: float,
    ready: asyncio.Queue[None],
    go: asyncio.Event,
) -> list[float]:
    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username="viewer",
        client_keys=[key],
        known_hosts=([host_key], [], []),
        connect_timeout=30,
        agent_path=None,
    )
    term: Terminal = await open_terminal(conn)
    # the header is drawn before the gate opens: a viewer is ready (and idle) once its status line
    # says the session is open, i.e. every pane has loaded
    await term.wait_for("evidence in", 180)
    await asyncio.sleep(1.0)
    ready.put_nowait(None)
    await go.wait()
    latencies = []
    for i in range(keys):
        key_name = "5" if i % 2 == 0 else "1"
        term.clear()
        t0 = time.monotonic()
        term.type(key_name)
        await term.wait_for(TARGETS[key_name], 30)
        latencies.append(time.monotonic() - t0)
        await asyncio.sleep(pause)
    await term.close()
    conn.close()
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds a viewer waits between its keys")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds all viewers sit idle, measured")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gateroom-bench-serve-"))
    session_dir = work / "session"
    make_session(session_dir)
    keys = make_keys(work)
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        serve_argv(session_dir, keys.file),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert server.stdout is not None
    port = listening_port(server.stdout.readline())
    host_key = asyncssh.read_private_key(str(session_dir / "serve_host_key")).convert_to_public()
    proc = psutil.Process(server.pid)
    store = EvidenceStore(session_dir / STORE_FILE)
    stop = asyncio.Event()
    writing = asyncio.Event()
    writing.set()
    load0 = os.getloadavg()
    writer = asyncio.get_running_loop().create_task(operator_writer(store, args.rate, stop, writing))
    ready: asyncio.Queue[None] = asyncio.Queue()
    go = asyncio.Event()
    try:
        sessions = asyncio.gather(
            *(
                viewer(port, keys.viewer, host_key, args.keys, args.pause, ready, go)
                for _ in range(args.viewers)
            )
        )
        for _ in range(args.viewers):
            await ready.get()
        await asyncio.sleep(2.0)  # let the last screens settle
        idle0, it0 = tree_cpu(proc), time.monotonic()
        await asyncio.sleep(args.idle)
        idle1, it1 = tree_cpu(proc), time.monotonic()
        writing.clear()  # nothing recorded: what the served terminals cost when nothing changes
        await asyncio.sleep(2.0)
        quiet0, qt0 = tree_cpu(proc), time.monotonic()
        await asyncio.sleep(args.idle)
        quiet1, qt1 = tree_cpu(proc), time.monotonic()
        writing.set()
        go.set()
        cpu0, t0 = tree_cpu(proc), time.monotonic()
        me0 = sum(psutil.Process().cpu_times()[:2])
        rss = 0
        while not sessions.done():
            rss = max(rss, tree_rss(proc))
            await asyncio.wait([sessions], timeout=2.0)
        results = await sessions
        cpu1, t1 = tree_cpu(proc), time.monotonic()
        me1 = sum(psutil.Process().cpu_times()[:2])
    finally:
        stop.set()
        writing.set()
        written = await writer
        server.terminate()
        server.wait(10)
    print(
        f"{args.viewers} viewers x {args.keys} keys,"
        f" ({args.pause:g} s between a viewer's keys),"
        f" operator writing {args.rate:g} events/s ({written} in all)"
    )
    for i, lat in enumerate(results, 1):
        ms = [x * 1000 for x in lat]
        print(f"  session {i:2d}: p50 {pct(ms, 50):6.1f} ms  p95 {pct(ms, 95):6.1f} ms")
    every = [x * 1000 for lat in results for x in lat]
    print(
        f"  all       : p50 {pct(every, 50):6.1f} ms  p95 {pct(every, 95):6.1f} ms  max {max(every):.1f} ms"
    )
    wall = t1 - t0
    print(
        f"server CPU (server + {args.viewers} session apps): {cpu1 - cpu0:.1f} s over {wall:.1f} s wall"
        f" = {100 * (cpu1 - cpu0) / wall:.0f}% of one core ({os.cpu_count()} cores);"
        f" peak RSS {rss / 2**20:.0f} MiB"
    )
    print(
        f"this process (the {args.viewers} SSH clients and the writer), same window:"
        f" {100 * (me1 - me0) / wall:.0f}% of one core"
    )
    print(f"median per session: {statistics.median(statistics.median(r) for r in results) * 1000:.1f} ms")
    idle_pct = 100 * (idle1 - idle0) / (it1 - it0)
    print(
        f"idle, operator writing: {idle_pct:.1f}% of one core for the server tree over {it1 - it0:.1f} s"
        f" = {idle_pct / args.viewers:.2f}% per viewer (target < 1%)"
    )
    quiet_pct = 100 * (quiet1 - quiet0) / (qt1 - qt0)
    print(
        f"idle, nothing written: {quiet_pct:.1f}% of one core over {qt1 - qt0:.1f} s"
        f" = {quiet_pct / args.viewers:.2f}% per viewer"
    )
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start {load0}, at end {load1}")
    print(
        f"now: {args.viewers} viewers p50 {pct(every, 50):.0f} ms,"
        f" p95 {pct(every, 95):.0f} ms (target p95 < 250)"
    )
    print(OLD)


if __name__ == "__main__":
    asyncio.run(main())
