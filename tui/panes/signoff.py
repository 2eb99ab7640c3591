"""Pane 5: sign-off — the engine's recommendation and why; the owner's decision form comes later."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from backends.events import Event, RunFinished, VerdictChanged
from backends.gate import Gate
from tui.panes.base import GatePane
from tui.styles import STATUS_STYLE


class SignoffPane(GatePane):
    DEFAULT_CSS = """
    SignoffPane #signoff-verdict { height: auto; padding: 1 2 0 2; }
    SignoffPane #signoff-reasons { height: 1fr; padding: 0 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Recommendation: waiting for the gate to finish…", id="signoff-verdict")
        with VerticalScroll(id="signoff-reasons"):
            yield Static("", id="signoff-reason-list")

    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._show_verdict()

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, (VerdictChanged, RunFinished)):
            self._show_verdict()

    def _show_verdict(self) -> None:
        if self.gate is None:
            return
        state = self.gate.session.state
        verdict = state.verdict
        head = self.query_one("#signoff-verdict", Static)
        reasons = self.query_one("#signoff-reason-list", Static)
        if verdict is None:
            head.update("Recommendation: not computed yet (the gate is still running).")
            reasons.update("")
            return
        label = verdict.label
        head.update(
            Text.assemble(
                "Recommendation: ",
                (f" {label} ", STATUS_STYLE[label]),
                "   (the owner decides; the decision form arrives with sign-off)",
            )
        )
        if verdict.reasons:
            reasons.update(Text("\n").join(Text(f"• {r}") for r in verdict.reasons))
        else:
            reasons.update("Every planned check passed and the evidence chain verifies.")
