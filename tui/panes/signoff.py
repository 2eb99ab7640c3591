"""Pane 5: sign-off — what the evidence supports, and the decision form for whoever may decide.

Everything shown comes from the evidence on disk (via `backends.decision.snapshot`), so the pane
the owner sees over SSH and the operator's pane cannot disagree. A recorded decision replaces the
form; when evidence is added after the chain head it was made on, it is shown as stale and the form
returns.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from backends.decision import Actor, DecisionError, SignoffSnapshot, decide, local_actor, refuse, snapshot
from backends.errors import GateError
from backends.events import Event, LogLines, Progress
from backends.gate import Gate
from backends.publish.command import publish_gate
from backends.signoff import SignoffSummary
from tui.panes.base import GatePane
from tui.panes.decision_confirm import ConfirmDecision
from tui.styles import STATUS_STYLE
from tui.text import notify, plain, printable

COUNT_ORDER = ("PASS", "WARN", "FAIL", "ERROR", "SKIP", "MANUAL", "RUNNING", "PENDING")
REFRESH_DELAY_S = 0.15


def _counts_line(summary: SignoffSummary) -> Text:
    parts: list[Text] = []
    for pane in ("preflight", "scenarios", "security"):
        counts = summary.counts.get(pane, {})
        line = Text(f"{pane.capitalize()} ", style="bold")
        shown = [(s, counts[s]) for s in COUNT_ORDER if counts.get(s)]
        line.append_text(
            Text(" ").join(Text(f"{n} {s}", style=STATUS_STYLE.get(s, "")) for s, n in shown)
            if shown
            else Text("none run", style="dim")
        )
        parts.append(line)
    return Text("  ·  ").join(parts)


def _section(title: str, lines: list[Text], empty: str) -> Text:
    out = Text()
    out.append(title, style="bold underline")
    out.append("\n")
    out.append_text(Text("\n").join(lines) if lines else Text(empty, style="dim"))
    return out


class SignoffPane(GatePane):
    BINDINGS = [
        Binding("g", "decide('GO')", "Decide GO"),
        Binding("n", "decide('NO-GO')", "Decide NO-GO"),
        Binding("c", "comment", "Comment"),
        Binding("p", "publish", "Publish"),
    ]
    DEFAULT_CSS = """
    SignoffPane #signoff-head { height: auto; padding: 0 1; }
    SignoffPane #signoff-body { height: 1fr; padding: 0 1; }
    SignoffPane #signoff-decision { height: auto; padding: 0 1; }
    SignoffPane #signoff-form { height: 3; padding: 0 1; }
    SignoffPane #signoff-form.hidden { display: none; }
    SignoffPane #signoff-comment { width: 1fr; }
    SignoffPane #signoff-form Button { min-width: 12; margin-left: 1; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.snap: SignoffSnapshot | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        yield Static("Recommendation: waiting for the gate to open…", id="signoff-head")
        with VerticalScroll(id="signoff-body"):
            yield Static("", id="signoff-details")
        yield Static("", id="signoff-decision")
        with Horizontal(id="signoff-form", classes="hidden"):
            yield Input(placeholder="comment for the record (c)", id="signoff-comment", max_length=500)
            yield Button("GO (g)", id="decide-go", variant="success")
            yield Button("NO-GO (n)", id="decide-nogo", variant="error")

    @property
    def actor(self) -> Actor:
        actor = getattr(self.app, "actor", None)
        if isinstance(actor, Actor):
            return actor
        return Actor(self.gate.operator, "operator") if self.gate is not None else local_actor()

    # -- following the evidence ------------------------------------------------------------------
    def load(self, gate: Gate) -> None:
        super().load(gate)
        self._refresh()

    def on_gate_event(self, event: Event) -> None:
        if isinstance(event, (LogLines, Progress)):  # neither changes what is signed
            return
        if self.shown:
            self._refresh()
        else:
            # reading and folding the whole evidence for a pane nobody looks at is what made twenty
            # served terminals slow: it is read once, when the pane is shown again
            self.behind = True

    def catch_up(self) -> None:
        self._refresh()

    def default_focus(self) -> Widget | None:
        return self.query_one("#signoff-body")

    @work(exclusive=True, group="signoff-refresh")
    async def _refresh(self) -> None:
        if self.gate is None:
            return
        import asyncio

        await asyncio.sleep(REFRESH_DELAY_S)  # many events in a burst: read the evidence once
        try:
            snap = await asyncio.to_thread(snapshot, self.gate.session)
        except GateError as exc:
            self.query_one("#signoff-decision", Static).update(plain(f"Cannot read the evidence: {exc}"))
            return
        self.snap = snap
        self._show(snap)

    # -- rendering -------------------------------------------------------------------------------
    def _show(self, snap: SignoffSnapshot) -> None:
        s = snap.summary
        label = s.label
        head = Text.assemble(
            "Recommendation ",
            (f" {label} ", STATUS_STYLE.get(label, "reverse")),
            f"  {len(s.blockers)} blocker(s)" if s.recommendation and not s.recommendation.go else "",
            ("  ·  chain head ", "dim"),
            (s.head[:16] + "…", "bold"),
            (f" ({s.records} records)", "dim"),
            "\n",
        )
        head.append_text(_counts_line(s))
        self.query_one("#signoff-head", Static).update(head)
        blockers = [
            Text.assemble(
                (printable(f"{b.priority} "), "bold red" if b.priority == "P0" else "bold yellow"),
                printable(b.text),
            )
            for b in s.blockers
        ]
        if s.recommendation is None:
            blockers = [Text("the gate has not computed a verdict yet", style="dim")]
        waivers = [
            Text.assemble(
                (printable(w.item_key), "bold"),
                printable(f" — {w.reason} "),
                (printable(f"(by {w.by})"), "dim"),
            )
            for w in s.waivers
        ]
        deviations = [
            Text.assemble(
                (printable(d.item), "bold"), printable(f": {d.what} → "), (printable(d.resolution), "italic")
            )
            for d in s.deviations
        ]
        details = Text("\n\n").join(
            [
                _section("Blockers (by priority)", blockers, "none: every planned item passed or was waived"),
                _section("Waivers", waivers, "none"),
                _section("Deviations and resolutions", deviations, "none"),
            ]
        )
        self.query_one("#signoff-details", Static).update(details)
        self._show_decision(snap)

    def _show_decision(self, snap: SignoffSnapshot) -> None:
        status, actor = snap.status, self.actor
        text = Text()
        if status.decision is not None:
            d = status.decision
            text.append("Decision ", style="bold")
            text.append(f" {d.decision} ", style=STATUS_STYLE.get(d.decision, "bold"))
            text.append(printable(f" by {d.by}" + (f" ({d.role})" if d.role else "")))
            if d.comment:
                text.append(printable(f' — "{d.comment}"'))
            text.append(f"\nbound to chain head {d.chain_head[:16]}…, bundle digest {d.bundle_digest[:16]}…")
            if status.stale:
                text.append(
                    "\nSTALE: evidence was added after this decision; a new decision is needed.",
                    "bold yellow",
                )
            elif actor.can_decide:
                text.append("\np publishes it: pull request, bundle on a draft release, comment", "dim")
        elif not actor.can_decide:
            text.append(printable(f"Watching as {actor.role}: the owner records the decision."), style="dim")
        else:
            deciding = f"Deciding as {actor.who} ({actor.role}): g GO · n NO-GO · c comment"
            text.append(printable(deciding), style="dim")
        self.query_one("#signoff-decision", Static).update(text)
        show_form = actor.can_decide and not status.final
        self.query_one("#signoff-form").set_class(not show_form, "hidden")

    # -- deciding --------------------------------------------------------------------------------
    def action_comment(self) -> None:
        if self.actor.can_decide and self.snap is not None and not self.snap.status.final:
            self.query_one("#signoff-comment", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#signoff-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in {"decide-go", "decide-nogo"}:
            self.action_decide("GO" if event.button.id == "decide-go" else "NO-GO")

    def action_decide(self, decision: str) -> None:
        if self.gate is None or self.snap is None or self._busy:
            return
        actor = self.actor
        if not actor.can_decide:
            notify(self, f"A {actor.role} cannot record the decision.", severity="warning")
            self._record_refusal(f"decide {decision}")
            return
        if self.snap.status.final:
            notify(self, "A decision is already recorded for this evidence.", severity="warning")
            return
        comment = self.query_one("#signoff-comment", Input).value

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._record(decision, comment)

        self.app.push_screen(ConfirmDecision(decision, comment, self.snap.summary.head), confirmed)

    @work(exclusive=True, group="signoff-decide")
    async def _record(self, decision: str, comment: str) -> None:
        assert self.gate is not None
        self._busy = True
        try:
            event = await decide(self.gate, self.actor, decision, comment)
        except (DecisionError, GateError) as exc:
            notify(self, str(exc), severity="error")
            return
        finally:
            self._busy = False
        self.query_one("#signoff-comment", Input).value = ""
        notify(self, f"{event.decision} recorded on chain head {event.chain_head[:12]}…")
        self._refresh()

    # -- publishing ------------------------------------------------------------------------------
    def action_publish(self) -> None:
        if self.gate is None or self.snap is None or self._busy:
            return
        actor = self.actor
        if not actor.can_decide:
            notify(self, f"A {actor.role} cannot publish the evidence.", severity="warning")
            self._record_refusal("publish")
            return
        if not self.snap.status.final:
            notify(self, "Publishing needs a current decision: decide first (g / n).", severity="warning")
            return
        self._publish()

    @work(exclusive=True, group="signoff-publish")
    async def _publish(self) -> None:
        assert self.gate is not None
        self._busy = True
        notify(self, "Publishing the decided evidence…")
        try:
            result = await publish_gate(self.gate)
        except GateError as exc:
            notify(self, str(exc), severity="error", timeout=15)
            return
        finally:
            self._busy = False
        done = f"{result.changed} change(s)" if result.changed else "all was already right"
        where = result.links.get("pull") or result.links.get("comment", "")
        notify(self, f"Published to {result.repo} ({done}): {where}", timeout=15)

    @work(group="signoff-audit")
    async def _record_refusal(self, action: str) -> None:
        if self.gate is not None:
            try:
                await refuse(self.gate, self.actor, action)
            except GateError as exc:
                notify(self, str(exc), severity="error")
