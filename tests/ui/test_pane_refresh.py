"""Only the pane on screen redraws as evidence arrives: a hidden one notes what changed and draws it
when it is shown. Bursts of events reach the panes as one message, and the footer of a pane seen
before is shown again rather than rebuilt."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from backends.decision import Actor
from backends.events import CheckFinished
from backends.evidence.store import EvidenceStore
from backends.results import Status
from backends.serve.watch import open_watch_gate
from backends.session import STORE_FILE
from tests.ui.support import HEALTHY, MIXED, opener_for, recorded_session, result
from tests.ui.test_app import wait_for_gate, wait_until_app
from tui.app import GateRoomApp
from tui.footer import GateFooter, KeysFooter
from tui.messages import GateEvents
from tui.panes.preflight import PreflightPane
from tui.remote import RemoteGateRoomApp

MEMORY = "prod-vps/host.memory"


def memory(observed: str) -> CheckFinished:
    return CheckFinished(result("host.memory", "Memory", Status.PASS, observed, ">= 8 GiB"))


def drawn(pane: PreflightPane, key: str) -> str:
    return str(pane.table.get_cell(key, "Result"))


async def test_hidden_pane_draws_what_changed_when_shown() -> None:
    """A served viewer on the sign-off pane: the operator's new result reaches the preflight pane,
    which keeps its old row until it is shown, then draws the new one; on screen, rows follow at once."""
    directory = recorded_session("refresh-hidden", MIXED, go=False, reasons=("x",))
    app = RemoteGateRoomApp(
        lambda: open_watch_gate(directory, "viewer:SHA256:test"), Actor("SHA256:test", "viewer")
    )
    operator = EvidenceStore(directory / STORE_FILE)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        pane = app.query_one(PreflightPane)
        assert "2.0 GiB RAM" in drawn(pane, MEMORY)
        await pilot.press("5")
        assert not pane.shown

        operator.record_event(memory("64.0 GiB"))
        operator.flush()
        await wait_until_app(pilot, lambda _: pane.behind, "the hidden pane noted the new result")
        assert "2.0 GiB RAM" in drawn(pane, MEMORY), "a hidden pane redrew its table"

        await pilot.press("1")
        assert app.query_one(TabbedContent).active == "preflight"
        assert not pane.behind
        assert drawn(pane, MEMORY) == "64.0 GiB"

        operator.record_event(memory("128.0 GiB"))
        operator.flush()
        await wait_until_app(
            pilot, lambda _: drawn(pane, MEMORY) == "128.0 GiB", "the row on screen followed"
        )
        assert not pane.behind


class CountingApp(GateRoomApp):
    """Counts the event messages; Textual calls the app's own handler after this one."""

    CSS_PATH = Path(__file__).parents[2] / "tui" / "app.tcss"  # relative paths follow the subclass
    batches = 0

    def on_gate_events(self, message: GateEvents) -> None:
        self.batches += 1


async def test_a_burst_of_events_is_one_message() -> None:
    app = CountingApp(opener_for(recorded_session("refresh-burst", MIXED, go=False)), autorun=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        pane = app.query_one(PreflightPane)
        before = app.batches
        for gib in range(8, 48):
            app.gate.bus.publish(memory(f"{gib}.0 GiB"))
        await wait_until_app(pilot, lambda _: drawn(pane, MEMORY) == "47.0 GiB", "the last result drawn")
        assert app.batches - before == 1


async def test_footer_of_a_pane_seen_before_is_shown_again_not_rebuilt() -> None:
    app = GateRoomApp(opener_for(recorded_session("refresh-footer", HEALTHY, go=True)), autorun=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_gate(pilot)
        deck = app.query_one(GateFooter)

        def showing(description: str) -> KeysFooter | None:
            footer = deck.current
            shown = footer is not None and any(b.description == description for _, b, _, _ in footer.keys)
            return footer if shown else None

        await pilot.press("5")
        await wait_until_app(pilot, lambda _: showing("Decide GO") is not None, "the sign-off keys")
        signoff = showing("Decide GO")
        await pilot.press("1")
        await wait_until_app(pilot, lambda _: showing("Re-run check") is not None, "the preflight keys")
        built = len(deck.query(KeysFooter))

        await pilot.press("5")
        await wait_until_app(pilot, lambda _: showing("Decide GO") is not None, "the sign-off keys again")
        assert deck.current is signoff
        assert len(deck.query(KeysFooter)) == built
        assert [f for f in deck.query(KeysFooter) if f.display] == [signoff]
