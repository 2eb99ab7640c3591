"""Preflight over many hosts: the full host + env checks on 1 sandbox VPS, then on N at once.

Run: `python tests/bench/bench_preflight_hosts.py [--hosts 20] [--repeat 3] [--latency-ms 0 40]`.

The N sandbox VPSes (each its own SSH server on its own loopback port) run in a separate process, as
a fleet of machines would, so the gate's process pays only its own share of the SSH work. The gate
runs through the real engine and its bounded host pool (concurrency = N). For each latency (the time
a command takes to answer; a real VPS adds network round trips) it prints both wall times (best of
--repeat) and their ratio: hosts are checked side by side, so the ratio should stay far below N. On
loopback with no latency the run is CPU-bound (SSH crypto in one Python process), which the ratio
then shows as well.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends.config import HostSettings  # noqa: E402
from backends.results import Status  # noqa: E402
from tests.integration.preflight_support import run_preflight, start_vps, vps_settings  # noqa: E402


async def serve(n: int, workdir: Path, latency_s: float) -> None:
    """The fleet: N sandbox VPSes; prints their settings as one JSON line, runs until stdin closes."""
    vpses = [await start_vps(workdir / f"vps{i}") for i in range(n)]
    for vps, _ in vpses:
        vps.latency_s = latency_s
    hosts = [vps_settings(v, f"vps-{i:02d}").model_dump(mode="json") for i, (v, _) in enumerate(vpses)]
    secrets = [s for _, found in vpses for s in found.values()]
    print(json.dumps({"hosts": hosts, "secrets": secrets}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for vps, _ in vpses:
        await vps.stop()


async def time_run(hosts: list[HostSettings], secrets: list[str], workdir: Path, repeat: int) -> float:
    best, per_host = float("inf"), 0
    for attempt in range(repeat):
        started = time.perf_counter()
        results = await run_preflight(
            hosts, workdir / f"s{len(hosts)}-{attempt}", secrets=secrets, concurrency=min(64, len(hosts))
        )
        best = min(best, time.perf_counter() - started)
        bad = [k for k, r in results.items() if r.status not in {Status.PASS, Status.SKIP}]
        if bad:
            raise SystemExit(f"unexpected results on a healthy sandbox: {bad[:5]}")
        per_host = len(results) // len(hosts)
    print(f"    {len(hosts):3d} host(s): {best:6.3f} s  ({per_host} checks per host, best of {repeat})")
    return best


async def bench(n: int, repeat: int, latency_ms: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-preflight-"))
    fleet = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [
            sys.executable,
            __file__,
            "--serve",
            str(n),
            "--workdir",
            str(workdir / "fleet"),
            "--latency-ms",
            str(latency_ms),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert fleet.stdout is not None
        info = json.loads(fleet.stdout.readline())
        hosts = [HostSettings.model_validate(h) for h in info["hosts"]]
        print(f"  command latency {latency_ms:g} ms:")
        one = await time_run(hosts[:1], info["secrets"], workdir, repeat)
        many = await time_run(hosts, info["secrets"], workdir, repeat)
        print(f"    ratio {n} hosts / 1 host: {many / one:.2f}  (one after another would be ~{n})")
    finally:
        if fleet.stdin is not None:
            fleet.stdin.close()
        fleet.wait(timeout=30)


async def main(n: int, repeat: int, latencies: list[float]) -> None:
    print(f"preflight: full host + env checks over SSH, {n} sandbox VPSes in a separate process")
    print(f"  (cpus: {os.cpu_count()}, python {sys.version.split()[0]})")
    for latency in latencies:
        await bench(n, repeat, latency)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 40.0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.workdir, args.latency_ms[0] / 1000))
    else:
        asyncio.run(main(args.hosts, args.repeat, args.latency_ms))
