"""The Gate Room as a served terminal: `gateroom serve` runs this once per SSH session, on a PTY.

    python -m tui.remote --session-dir DIR --role owner|viewer|operator --who FINGERPRINT

It follows the session the operator's app is writing (it never runs checks itself) and acts as the
connected key: a viewer only watches, an owner or operator may record the decision.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import signal
import sys
import termios
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from backends.decision import Actor
from backends.gate import Gate
from backends.serve.keys import ROLES
from backends.serve.watch import open_watch_gate
from tui.app import GateRoomApp
from tui.panes.base import CancelScenario, RecordManual, RerunChecks, RunScenarios, SkipScenario
from tui.panes.security import WaiveCheck

RUNS_ELSEWHERE = "Scenarios run in the operator's terminal; this view follows its evidence."


class RemoteGateRoomApp(GateRoomApp):
    def __init__(self, opener: Callable[[], Awaitable[Gate]], actor: Actor) -> None:
        super().__init__(opener, autorun=False)
        # a sliding tab underline is a score of frames per key, drawn and sent over SSH for each
        # viewer: served terminals jump straight to the new pane
        self.animation_level = "none"
        self.actor = actor
        self.sub_title = f"{actor.role} {actor.who}"

    def on_mount(self) -> None:
        # (Textual calls the base app's on_mount too: that one opens the gate.) The PTY is our
        # controlling terminal (take_terminal): when the server goes away the kernel hangs it up,
        # and the session ends instead of spinning on a terminal nobody reads
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)

    def on_rerun_checks(self, message: RerunChecks) -> None:
        # runs happen in the operator's own terminal, with its config and keys; prevent_default keeps
        # the base app's handler (which would run them here) from being called after this one
        message.prevent_default()
        self.notify("Checks run in the operator's terminal; this view follows its evidence.", markup=False)

    # the served process has no GitHub or cluster access of its own: it never drives the scenarios
    def on_run_scenarios(self, message: RunScenarios) -> None:
        message.prevent_default()
        self.notify(RUNS_ELSEWHERE, markup=False)

    def on_cancel_scenario(self, message: CancelScenario) -> None:
        message.prevent_default()
        self.notify(RUNS_ELSEWHERE, markup=False)

    def on_skip_scenario(self, message: SkipScenario) -> None:
        message.prevent_default()
        self.notify(RUNS_ELSEWHERE, markup=False)

    def on_record_manual(self, message: RecordManual) -> None:
        message.prevent_default()
        self.notify(RUNS_ELSEWHERE, markup=False)

    def on_waive_check(self, message: WaiveCheck) -> None:
        if self.actor.role == "viewer":
            message.prevent_default()
            self.notify("A viewer cannot waive a finding.", severity="warning", markup=False)
        # an owner or operator: the base app's handler records the waiver


def take_terminal() -> None:
    """Make the PTY on stdin the controlling terminal of this session (the server starts us as a
    session leader), so that a hang-up of its other end reaches us as SIGHUP."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(sys.stdin.fileno(), termios.TIOCSCTTY, 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateroom-remote")
    parser.add_argument("--session-dir", type=Path, required=True)
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--who", required=True)
    args = parser.parse_args(argv)
    take_terminal()
    # the server passes the owner's forwarded agent (ssh -A) as SSH_AUTH_SOCK: decisions are signed there
    actor = Actor(args.who, args.role, served=True, agent_path=os.environ.get("SSH_AUTH_SOCK", ""))
    app = RemoteGateRoomApp(lambda: open_watch_gate(args.session_dir, args.who), actor)
    app.run()
    if app.exit_error:
        print(f"gateroom: {app.exit_error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
