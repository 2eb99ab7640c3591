"""The control room calls the operator back: AttentionNeeded rings the bell and shows a notification
(its text is data, never markup); a failing hook shows one line; a served terminal rings too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

import tui.app
from backends.config import settings_from_dict
from backends.events import AttentionNeeded, HookFailed
from backends.evidence.store import EvidenceStore
from backends.gate import Gate, open_gate
from backends.serve.watch import open_watch_gate
from backends.session import STORE_FILE
from tests.ui.support import HEALTHY, fixed_settings, opener_for, recorded_session
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.remote import RemoteGateRoomApp

APP_CSS = Path(tui.app.__file__).with_name("app.tcss")
CALL = AttentionNeeded(
    "failure",
    "Check prod-vps/host.os FAIL: [bold red]Debian[/] 12, expected Ubuntu 24.04",
    "OS is Ubuntu 24.04",
    "FAIL",
    check_key="prod-vps/host.os",
    severity="error",
    ts=1_795_500_100.0,
)


class BellCounting(GateRoomApp):
    """The real app; its bell (a write to the terminal, skipped in headless tests) is counted."""

    CSS_PATH = APP_CSS  # a subclass's relative CSS_PATH is looked up beside the subclass
    bells = 0

    def bell(self) -> None:
        self.bells += 1


async def until(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    for _ in range(500):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never got there")


def quiet_opener(directory: Path) -> Callable[[], Awaitable[Gate]]:
    settings = settings_from_dict({**fixed_settings().model_dump(mode="json"), "attention": {"bell": False}})
    return lambda: open_gate(settings, directory)


async def test_attention_rings_the_bell_and_notifies_with_the_text_as_data() -> None:
    app = BellCounting(opener_for(recorded_session("attention-bell", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None and app.bells == 0
        app.gate.bus.publish(CALL)
        await until(pilot, lambda: len(app._notifications) == 1)
        assert app.bells == 1
        (note,) = list(app._notifications)
        assert note.message == CALL.message and note.markup is False
        assert (note.title, note.severity) == ("Failure", "error")
        # and it is in the evidence: who was called about what, and when
        app.gate.session.store.flush()
        assert [r for r in app.gate.session.store.records() if r["kind"] == "attention"]


async def test_each_need_has_its_own_title_and_severity() -> None:
    app = BellCounting(opener_for(recorded_session("attention-kinds", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        for need, severity in [("manual", "warning"), ("approval", "warning"), ("verdict", "information")]:
            app.gate.bus.publish(AttentionNeeded(need, f"{need} needs you", severity=severity))
        await until(pilot, lambda: len(app._notifications) == 3)
        assert app.bells == 3
        shown = [(n.title, n.severity) for n in app._notifications]
        assert shown == [
            ("Manual check waiting", "warning"),
            ("Approval waiting", "warning"),
            ("Gate finished", "information"),
        ]


async def test_bell_false_keeps_the_notification_and_silences_the_bell() -> None:
    app = BellCounting(quiet_opener(recorded_session("attention-quiet", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        app.gate.bus.publish(CALL)
        await until(pilot, lambda: len(app._notifications) == 1)
        assert app.bells == 0


async def test_a_failing_hook_shows_one_line_in_the_status_line() -> None:
    app = BellCounting(opener_for(recorded_session("attention-hook", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        app.gate.bus.publish(HookFailed("failure", "prod-vps/host.os", "./notify.sh: exit 3: [b]403[/b]"))
        line = app.query_one("#status-line")
        await until(pilot, lambda: "exit 3" in str(line.render()))
        assert str(line.render()) == "Attention hook: ./notify.sh: exit 3: [b]403[/b]"
        assert line.has_class("error")


class RemoteBellCounting(RemoteGateRoomApp):
    CSS_PATH = APP_CSS
    bells = 0

    def bell(self) -> None:
        self.bells += 1


async def test_a_served_terminal_rings_when_the_operators_gate_calls() -> None:
    from backends.decision import Actor

    directory = recorded_session("attention-served", HEALTHY, go=True)
    app = RemoteBellCounting(
        lambda: open_watch_gate(directory, "owner:SHA256:test"), Actor("SHA256:test", "owner")
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_gate(pilot)
        assert app.bells == 0, "what was recorded before the terminal opened does not ring"
        operator = EvidenceStore(directory / STORE_FILE)  # the operator's process, same session
        operator.record_event(CALL)
        operator.flush()
        await until(pilot, lambda: len(app._notifications) == 1)
        assert app.bells == 1
