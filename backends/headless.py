"""The headless run: the same engine and events as the TUI, printed as lines, ending in an exit code.

Exit codes: 0 GO, 1 NO-GO, 2 could not run (bad config, a target unreachable, an internal stop).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from backends.errors import GateError
from backends.events import Event, HookFailed
from backends.gate import Gate
from backends.report import ProgressPrinter, write_reports

EXIT_GO, EXIT_NO_GO, EXIT_COULD_NOT_RUN = 0, 1, 2


async def run_headless(
    opener: Callable[[], Awaitable[Gate]],
    *,
    junit: Path | None = None,
    json_path: Path | None = None,
    rerun: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    on_open: Callable[[Gate], None] | None = None,
    waivers: Sequence[tuple[str, str]] = (),
) -> int:
    try:
        gate = await opener()
    except GateError as exc:
        err.write(f"gateroom: {exc}\n")
        return EXIT_COULD_NOT_RUN
    if on_open is not None:
        on_open(gate)
    gate.bus.subscribe(ProgressPrinter(out))
    gate.bus.subscribe(lambda event: _hook_failed(event, err))
    out.write(f"session {gate.session.session_id} in {gate.session.dir}\n")
    try:
        verdict = await gate.engine.run(
            rerun=rerun, after_checks=(lambda: _waive(gate, waivers, out)) if waivers else None
        )
        unreachable = gate.engine.connection_errors()
    except GateError as exc:
        err.write(f"gateroom: {exc}\n")
        return EXIT_COULD_NOT_RUN
    finally:
        await gate.aclose()
        try:
            write_reports(gate.session.state, junit, json_path, gate.engine.plan)
        except OSError as exc:
            err.write(f"gateroom: cannot write report: {exc.strerror or exc}\n")
    if unreachable:
        for line in unreachable:
            err.write(f"gateroom: could not run against {line}\n")
        return EXIT_COULD_NOT_RUN
    return EXIT_GO if verdict.go else EXIT_NO_GO


def _hook_failed(event: Event, err: TextIO) -> None:
    """The hook runs in headless mode too; when it cannot call the operator, say so (one line)."""
    if isinstance(event, HookFailed):
        err.write(f"gateroom: attention hook: {event.reason}\n")
        err.flush()


def _waive(gate: Gate, waivers: Sequence[tuple[str, str]], out: TextIO) -> None:
    """Record each waiver whose check blocks, as the owner would with `w` on the security pane."""
    from backends.waivers import WaiverRefused, record_waiver

    for key, reason in waivers:
        if key in gate.session.state.waivers:
            continue  # waived in an earlier run of this session
        try:
            record_waiver(gate, key, reason)
            out.write(f"waived {key}: {reason}\n")
        except WaiverRefused as exc:
            out.write(f"not waived {key}: {exc}\n")
