"""One healthy demo gate for a test session: `gateroom demo --headless` into DIR, as a user runs it.

Run as `python -m tests.demo_gate DIR`, in the background from the start of the session (the gate
mostly waits on the sandbox, so it costs the other tests little). What it printed goes to DIR/stdout
and DIR/stderr; DIR/returncode appears last, when everything else is in place.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: the files the tests read, beside the session
SESSION, JUNIT, REPORT, STDOUT, STDERR, RETURNCODE = (
    "session",
    "junit.xml",
    "report.json",
    "stdout",
    "stderr",
    "returncode",
)


def run(root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "demo",
            "--headless",
            "--verbose",
            "--session-dir",
            str(root / SESSION),
            "--junit",
            str(root / JUNIT),
            "--json",
            str(root / REPORT),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    (root / STDOUT).write_text(proc.stdout)
    (root / STDERR).write_text(proc.stderr)
    partial = root / f"{RETURNCODE}.partial"
    partial.write_text(str(proc.returncode))
    partial.rename(root / RETURNCODE)
    return proc.returncode


if __name__ == "__main__":
    run(Path(sys.argv[1]))
