"""Outside text is data on every pane: markup-looking strings, control characters, escape sequences and
a 10,000-character line — from a plan file, the evidence, the live logs, the config and the bus — show
as written, reach the terminal never as instructions, and crash nothing.

The rule (tui/text.py, README "Outside text on screen"): escape sequences are removed (their text
stays), other control characters show as visible escapes (␀ … ␟, ␡, \\x9b), tabs become spaces. The
strings travel the real paths: a plan file the gate loads, evidence records the app reads when it
opens, log lines through the gate's pipeline, events on the gate's bus, keys through the pilot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from textual.pilot import Pilot

from backends.config import Settings, settings_from_dict
from backends.decision import Actor, prepare
from backends.events import (
    AttentionNeeded,
    Event,
    Progress,
    ScenarioFinished,
    ScenarioStepChanged,
    Waived,
)
from backends.gate import Gate
from backends.logs.source import Chunk
from backends.results import CheckResult, Status
from backends.serve.watch import open_watch_gate
from backends.session import Session
from tests.ui.support import (
    opener_for,
    raw_controls,
    recorded_session,
    screen_lines,
    terminal_output,
)
from tests.ui.test_app import wait_for_gate
from tui.app import GateRoomApp
from tui.panes.check_detail import CheckDetail
from tui.panes.coverage import CoverageView
from tui.panes.decision_confirm import ConfirmDecision
from tui.panes.scenario_detail import ScenarioDetail
from tui.panes.security import SecurityPane
from tui.panes.security_detail import SecurityDetail
from tui.panes.signoff import SignoffPane
from tui.remote import RemoteGateRoomApp
from tui.text import CELL_LIMIT, cell, plain, printable

MARKUP = "[/][red]PASS[/][link=https://x]click[/link][ai-model-x][b]bold"
_C0 = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x1B)]  # tab, newline, ESC: below
#: colour, a hyperlink (OSC 8) and a window title (OSC 0), then every other C0 control, DEL and the
#: 8-bit CSI (a C1 control: shown, never a sequence)
CONTROL = (
    "\x1b[31mred\x1b[0m\x1b]8;;https://evil.example\x07link\x1b]8;;\x07\x1b]0;pwned\x07"
    + "".join(map(chr, _C0))
    + "\x7f\x9b"
)
SHOWN_CONTROL = "redlink" + "".join(chr(0x2400 + c) for c in _C0) + "\u2421" + "\\x9b"
LONG = "long:" + "x" * 10_000

HOST = "[red]vps[/]"
CLUSTER = "[b]cluster"
OPERATOR = "[b]oper\x1b]0;pwned\x07ator"
STREAM = "[/][b]pod\x1b[31m"
SH = "services/internal/control-plane/internal/domain/webhook/service_helpers.go"
TL = "services/internal/control-plane/internal/domain/webhook/trigger_labels.go"
SIZE = (300, 100)


def _plan(directory: Path, scenarios: list[dict[str, object]] | None = None) -> Path:
    plan = {
        "name": "hostile " + MARKUP,
        "checks": ["host.os"],
        "labels": ["[ai-model-x]", "[/]"],
        "scenarios": scenarios
        or [
            {
                "id": "H1",
                "title": "T1 " + MARKUP,
                "group": "A",
                "priority": "P0",
                "expected": "X1 " + CONTROL,
                "covers": ["[ai-model-x]"],
                "steps": [
                    {"create_issue": {"title": "G1 " + MARKUP, "source": SH}},
                    {"add_label": {"label": "[ai-model-x]", "source": TL}},
                ],
            },
            {
                "id": "H2",
                "title": "T2 " + CONTROL,
                "group": "D",
                "priority": "P2",
                "mode": "manual",
                "expected": "the note says",
                "checklist": ["K1 " + MARKUP, "K2 " + CONTROL, "K3 " + LONG],
            },
        ],
    }
    path = directory / "hostile-plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True))  # control characters as YAML escapes
    return path


def _settings(plan: Path) -> Settings:
    return settings_from_dict(
        {
            "hosts": [
                {
                    "name": HOST,
                    "address": "[/]203.0.113.10",
                    "user": "[b]op\x1b[2J\x07",
                    "key": "/nonexistent/id_ed25519",
                }
            ],
            "plan": str(plan),
        }
    )


TARGET_SHOWN = "[b]op\u2407@[/]203.0.113.10:22"

RESULTS = [
    CheckResult(
        "host.os",
        "host",
        "OS is Ubuntu 24.04",
        Status.FAIL,
        observed="OB " + MARKUP,
        expected="EX " + MARKUP,
        target=HOST,
        command="CMD " + MARKUP + "; cat /etc/[b]os",
        output=f"OUT {MARKUP}\nOUT2 {CONTROL}\n{LONG}\n",
        reason="RE " + CONTROL,
    ),
    CheckResult("host.extra", "host", "TI " + MARKUP, Status.PASS, observed="OB2 " + CONTROL, target=HOST),
    CheckResult(
        "sec.rbac-agents",
        "rbac",
        "SR " + MARKUP,
        Status.FAIL,
        target=CLUSTER,
        output="[/]ns/[red]sa[/] pods list expect=allow answer=denied WRONG\n",
        reason="1 wrong answer",
    ),
    CheckResult(
        "sec.secret-env",
        "secrets",
        "SS " + CONTROL,
        Status.FAIL,
        target=CLUSTER,
        output=f"finding [b]token sha256:0123abcd {CONTROL}\n",
        reason="1 finding",
    ),
    CheckResult("sec.pass", "approvals", "SP", Status.PASS, observed="ok", target=CLUSTER),
]
SECRET_KEY = f"{CLUSTER}/sec.secret-env"

EVENTS: list[Event] = [
    ScenarioStepChanged(
        "H1",
        0,
        "PASS",
        actual="A1 " + MARKUP,  # the test issue's title as GitHub gave it back
        detail={"excerpt": "E1 " + CONTROL},
        priority="P0",
        title="T1 " + MARKUP,
    ),
    ScenarioStepChanged(
        "H1",
        1,
        "PASS",
        actual="A2 " + CONTROL,  # a bot comment quoted
        detail={"label": "[ai-model-x]", "label_applied": 1},
        priority="P0",
        title="T1 " + MARKUP,
    ),
    ScenarioFinished(
        "H1",
        "FAIL",
        "P0",
        "T1 " + MARKUP,
        reason="R1 " + MARKUP,
        evidence={"issue": 7, "repo": "o/[b]r", "issue_url": "https://gh.example/[/]/7"},
    ),
    ScenarioFinished("H2", "FAIL", "P2", "T2", reason="manual note: " + CONTROL),
    Waived(SECRET_KEY, "WR " + MARKUP, "WB " + CONTROL),
]
REASONS = ("scenario H1 (P0) FAIL: R1 " + MARKUP, f"check {HOST}/host.os FAIL: RE {CONTROL}")


def _feed_logs(gate: Gate) -> None:
    assert gate.logs is not None
    lines = ["L1 " + MARKUP, "L2 " + CONTROL, "L3\ttab", LONG]
    gate.logs.pipeline.ingest(Chunk(STREAM, lines, 1_795_500_100.0))
    gate.logs.pipeline.flush()


def hostile_session(name: str) -> tuple[Path, Settings]:
    directory = recorded_session(name, RESULTS, go=False, reasons=REASONS, extra=EVENTS)
    return directory, _settings(_plan(directory))


def hostile_app(name: str) -> GateRoomApp:
    directory, settings = hostile_session(name)
    return GateRoomApp(opener_for(directory, settings, operator=OPERATOR, feed=_feed_logs), autorun=False)


# -- looking at the screen ---------------------------------------------------------------------------
async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.animator.wait_until_complete()  # tab underline, toasts
    await pilot.pause()


def assert_shown(app: GateRoomApp, *needles: str) -> None:
    """Each needle is on the screen as written, and the terminal gets no raw control character."""
    screen = "\n".join(screen_lines(app))
    missing = [n for n in needles if n not in screen]
    assert not missing, f"not on screen: {missing!r}\n{screen}"
    assert not raw_controls(terminal_output(app))


async def wait_for(pilot: Pilot[None], ready: object) -> None:
    for _ in range(300):
        if callable(ready) and ready():
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen never got there")


# -- every pane, every field ---------------------------------------------------------------------------
async def test_hostile_text_shows_as_written_on_every_pane() -> None:
    app = hostile_app("hostile-panes")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_gate(pilot)
        assert app.gate is not None
        await settle(pilot)

        # header, preflight table (target, title, observed) and the selected check's line
        assert_shown(app, TARGET_SHOWN, HOST, "TI " + MARKUP, "OB2 " + SHOWN_CONTROL)
        await pilot.press("down")  # the failed check, in full under the table
        await settle(pilot)
        assert_shown(app, "RE " + SHOWN_CONTROL, "OB " + MARKUP, "EX " + MARKUP)

        # status line
        app.gate.bus.publish(Progress("P1 " + MARKUP + " " + CONTROL + "\nnext"))
        await settle(pilot)
        assert_shown(app, "P1 " + MARKUP + " " + SHOWN_CONTROL + "\u240anext")  # one line: ␊

        # the check's detail: facts, command, output (the long line starts on screen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckDetail))
        await settle(pilot)
        assert_shown(app, "OB " + MARKUP, "EX " + MARKUP, "RE " + SHOWN_CONTROL, f"{HOST}/host.os")
        assert_shown(app, "$ CMD " + MARKUP, "$ cat /etc/[b]os", "OUT " + MARKUP, "OUT2 " + SHOWN_CONTROL)
        assert_shown(app, "long:" + "x" * 100)
        await pilot.press("escape")

        # the scenario matrix, a scenario's detail (plan text, GitHub's title, a comment, an excerpt)
        await pilot.press("2")
        await settle(pilot)
        assert_shown(app, "T1 " + MARKUP, "T2 " + SHOWN_CONTROL)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ScenarioDetail))
        await settle(pilot)
        assert_shown(app, "H1  T1 " + MARKUP, "X1 " + SHOWN_CONTROL, "title=G1 " + MARKUP)
        assert_shown(app, "A1 " + MARKUP, "A2 " + SHOWN_CONTROL, "o/[b]r#7  https://gh.example/[/]/7")
        assert_shown(app, "E1 " + SHOWN_CONTROL, "+[ai-model-x]", "R1 " + MARKUP)
        await pilot.press("escape", "down", "enter")  # the manual scenario: its checklist and note
        await wait_for(pilot, lambda: isinstance(app.screen, ScenarioDetail))
        await settle(pilot)
        assert_shown(
            app, "K1 " + MARKUP, "K2 " + SHOWN_CONTROL, "K3", "long:xxxxxxxx", "note: " + SHOWN_CONTROL
        )
        await pilot.press("escape", "c")  # label coverage
        await wait_for(pilot, lambda: isinstance(app.screen, CoverageView))
        await settle(pilot)
        assert_shown(app, "[ai-model-x]", "uncovered by the plan: [/]")
        await pilot.press("escape")

        # live logs: the stream's name, the lines (tab expanded; the long one starts on screen)
        await pilot.press("3")
        await pilot.pause(0.2)
        await settle(pilot)
        assert_shown(app, "[/][b]pod", "L1 " + MARKUP, "L2 " + SHOWN_CONTROL, "L3  tab", "long:xxxxxxxx")

        # security: titles, evidence, the waiver, the detail (findings), the RBAC matrix
        await pilot.press("4")
        await settle(pilot)
        assert_shown(app, "SR " + MARKUP, "SS " + SHOWN_CONTROL)
        table = app.query_one(SecurityPane).table
        table.move_cursor(row=table.get_row_index(SECRET_KEY))
        await settle(pilot)
        assert_shown(app, "waived by WB " + SHOWN_CONTROL + ": WR " + MARKUP)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SecurityDetail))
        await settle(pilot)
        assert_shown(app, "SS " + SHOWN_CONTROL, "finding [b]token sha256:0123abcd " + SHOWN_CONTROL)
        await pilot.press("escape", "m")
        await wait_for(pilot, lambda: isinstance(app.screen, SecurityDetail))
        await settle(pilot)
        assert_shown(app, "[/]ns/[red]sa[/]")
        await pilot.press("escape")
        table.move_cursor(row=table.get_row_index(f"{CLUSTER}/sec.pass"))
        await pilot.press("w")  # nothing to waive: a notification naming the check
        await settle(pilot)
        notes = [str(n.message) for n in app._notifications]
        assert f"{CLUSTER}/sec.pass does not block the gate: nothing to waive" in notes
        assert_shown(app, f"{CLUSTER}/sec.pass does not block the gate")

        # a notification carrying the platform's words
        app.gate.bus.publish(AttentionNeeded("manual", "N1 " + MARKUP + CONTROL))
        await settle(pilot)
        assert "N1 " + MARKUP + SHOWN_CONTROL in [str(n.message) for n in app._notifications]
        assert_shown(app, "Manual check waiting", "[/][red]PASS[/][link=https://x]click[/link]")  # wrapped

        # sign-off: blockers, waivers, deviations, who decides; then a decision with a comment
        await pilot.press("5")
        pane = app.query_one(SignoffPane)
        await wait_for(pilot, lambda: pane.snap is not None)
        await settle(pilot)
        assert_shown(app, "R1 " + MARKUP, f"{HOST}/host.os FAIL: RE " + SHOWN_CONTROL)
        assert_shown(app, SECRET_KEY, " — WR " + MARKUP + " (by WB " + SHOWN_CONTROL + ")")
        assert_shown(app, f"check {HOST}/host.os: FAIL: RE {SHOWN_CONTROL} → open: blocks GO")
        assert_shown(app, "Deciding as [b]operator (operator)")
        await pilot.press("c", *"[/][red]GO[/]", "enter", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDecision))
        await settle(pilot)
        assert_shown(app, "Comment: [/][red]GO[/]")
        await pilot.press("y")
        await wait_for(pilot, lambda: pane.snap is not None and pane.snap.status.final)
        await settle(pilot)
        assert_shown(app, "NO-GO", ' by [b]operator (operator) — "[/][red]GO[/]"')

        # help
        await pilot.press("question_mark")
        await settle(pilot)
        assert_shown(app, "Gate Room — keys")
        await pilot.press("escape")


async def test_served_view_shows_hostile_text_as_written() -> None:
    """A served terminal reads the same evidence through its follower: the same rule holds there."""
    directory, _settings_unused = hostile_session("hostile-served")
    owner = Actor("[b]SHA256:own\x1b[31mer", "owner")
    # (the comment's whitespace is normalised when recorded: no \v, \f, \r, \x1c-\x1f here)
    comment = "DC " + MARKUP + " \x1b[31mred\x1b[0m\x00\x07\x7f\x9b"
    recorded = prepare(Session(directory), owner, "NO-GO", comment)
    session = Session(directory)
    session.store.record_event(recorded)
    session.store.flush()
    app = RemoteGateRoomApp(lambda: open_watch_gate(directory, owner.who), owner)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_gate(pilot)
        await settle(pilot)
        assert_shown(app, HOST, "TI " + MARKUP, "OB2 " + SHOWN_CONTROL, "RE " + SHOWN_CONTROL)
        await pilot.press("4")
        await settle(pilot)
        assert_shown(app, "SR " + MARKUP, "SS " + SHOWN_CONTROL)
        await pilot.press("5")
        pane = app.query_one(SignoffPane)
        await wait_for(pilot, lambda: pane.snap is not None)
        await settle(pilot)
        assert_shown(app, "R1 " + MARKUP, " — WR " + MARKUP + " (by WB " + SHOWN_CONTROL + ")")
        assert_shown(app, ' by [b]SHA256:owner (owner) — "DC ' + MARKUP + ' red\u2400\u2407\u2421\\x9b"')
        await pilot.press("1", "R")  # refused with a notification
        await settle(pilot)
        assert_shown(app, "Checks run in the operator's terminal")


def test_the_rule_for_outside_text() -> None:
    """What README "Outside text on screen" promises, case by case."""
    assert (
        printable("\x1b[1;31mred\x1b[0m \x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\ \x1bcreset")
        == "red link reset"
    )
    assert printable("a\x1b") == "a\u241b"  # a lone ESC starts nothing: shown
    assert printable("\x9b2J and \x85") == "\\x9b2J and \\x85"  # C1: shown, and what follows stays
    assert printable("a\tb\tc") == "a   b   c"
    assert printable("one\r\ntwo\rthree") == "one\ntwo\u240dthree"
    assert printable("one\ntwo", one_line=True) == "one\u240atwo"
    assert printable("café 日本 [/]") == "café 日本 [/]"
    long = cell("x" * 5000)
    assert len(long.plain) == CELL_LIMIT and long.plain.endswith("…")
    assert plain("[b]x[/b]").plain == "[b]x[/b]" and not plain("[b]x[/b]").spans


# -- the snapshot the issue asks for -----------------------------------------------------------------
def test_snapshot_plan_titles_shown_as_written(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """A plan whose titles look like markup opens, and the matrix shows them literally."""
    directory = recorded_session("hostile-snapshot", RESULTS[:1], go=None)
    scenarios: list[dict[str, object]] = [
        {
            "id": f"M{i}",
            "title": title,
            "group": "F",
            "priority": "P2",
            "mode": "manual",
            "checklist": ["look"],
        }
        for i, title in enumerate(
            [
                "closes with [/] in the middle",
                "[red]PASS[/] is not a status",
                "[link=https://x]click[/link] is no link",
                "[ai-model-x] is a label",
                "[b]bold never bolds",
                "tab\there, bell\x07, escape \x1b[31mred\x1b[0m, DEL\x7f",
            ],
            start=1,
        )
    ]
    settings = _settings(_plan(directory, scenarios))
    app = GateRoomApp(opener_for(directory, settings), autorun=False)

    async def on_scenarios(pilot: Pilot[None]) -> None:
        await wait_for_gate(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 16), run_before=on_scenarios)


# -- the convention, checked mechanically ----------------------------------------------------------------
TUI = Path(__file__).resolve().parents[2] / "tui"
#: calls whose first argument Textual renders as markup when it is a str
MARKUP_SINKS = {"Static", "Label", "Markdown", "Content", "from_markup", "update"}
STR_BUILDERS = {"str", "repr", "format", "format_map", "join"}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _str_from_data(
    expr: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef | None, depth: int = 0
) -> str:
    """Why `expr` may be a str holding outside text ("" when it is a literal or rich text)."""
    if isinstance(expr, ast.Constant):
        return ""
    if isinstance(expr, ast.JoinedStr):
        return "an f-string" if any(isinstance(v, ast.FormattedValue) for v in expr.values) else ""
    if isinstance(expr, ast.BinOp):
        built = _str_from_data(expr.left, func, depth) or _str_from_data(expr.right, func, depth)
        return "a string built with an operator" if built else ""
    if isinstance(expr, ast.IfExp):
        return _str_from_data(expr.body, func, depth) or _str_from_data(expr.orelse, func, depth)
    if isinstance(expr, ast.Call):
        # str(x), "…".format(…), ", ".join(…): a str; Text(…).join(…) and other calls build rich text
        receiver = expr.func.value if isinstance(expr.func, ast.Attribute) else None
        if _name(expr.func) in STR_BUILDERS and (receiver is None or isinstance(receiver, ast.Constant)):
            return f"{_name(expr.func)}(…)"
        return ""
    if isinstance(expr, ast.Name) and func is not None and depth < 3:
        for arg in [*func.args.args, *func.args.kwonlyargs]:
            if arg.arg == expr.id:
                annotation = ast.unparse(arg.annotation) if arg.annotation else ""
                rich = annotation and "str" not in annotation and annotation != "object"
                return "" if rich else f"parameter {expr.id}: {annotation or 'unannotated'}"
        for node in ast.walk(func):
            value: ast.expr | None = None
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                value = node.value
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                value = node.value if node.target.id == expr.id else None
            why = _str_from_data(value, func, depth + 1) if value is not None else ""
            if why:
                return f"{expr.id}, {why}"
        return ""
    return f"{ast.unparse(expr)}, a value of unknown kind"


def convention_breaches() -> list[str]:
    found = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text())
        functions = {
            id(inner): node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(node)
        }  # innermost last: a nested function's nodes map to it
        for node in ast.walk(tree):
            where = f"{path.relative_to(TUI.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Subscript) and _name(node.value) == "DataTable":
                if ast.unparse(node.slice) != "Text":  # cells typed Text: mypy refuses a str cell
                    found.append(f"{where}: DataTable[{ast.unparse(node.slice)}], not DataTable[Text]")
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr in {"border_title", "border_subtitle"}
                for t in node.targets
            ):
                why = _str_from_data(node.value, functions.get(id(node)))
                if why:
                    found.append(f"{where}: a border title (markup) from {why}")
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            markup = keywords.get("markup")
            markup_off = isinstance(markup, ast.Constant) and markup.value is False
            name = _name(node.func)
            if name == "notify" and isinstance(node.func, ast.Attribute) and not markup_off:
                found.append(f"{where}: notify() without markup=False (or tui.text.notify)")
            elif name in MARKUP_SINKS and node.args and not markup_off:
                if name == "update" and len(node.args) != 1:
                    continue  # not a widget's content (ProgressBar.update takes keywords)
                why = _str_from_data(node.args[0], functions.get(id(node)))
                if why:
                    found.append(f"{where}: {name}() renders markup from {why}; use tui.text.plain")
    return sorted(found, key=lambda line: (line.split(":")[0], int(line.split(":")[1])))


def test_tui_renders_no_string_as_markup() -> None:
    """Widgets, toasts, border titles and table cells get rich text (tui.text) or literals, never a
    str built from values: those would be parsed as markup."""
    assert convention_breaches() == []


def test_the_guard_finds_the_patterns_it_is_for(tmp_path: Path) -> None:
    global TUI
    bad = tmp_path / "tui"
    bad.mkdir()
    (bad / "bad.py").write_text(
        "def f(w, app, title: str, x):\n"
        "    w.update(f'[b]{title}')\n"
        "    summary = 'uncovered: ' + ', '.join(x)\n"
        "    Static(summary)\n"
        "    app.notify(title)\n"
        "    table: DataTable[Text | str] = DataTable()\n"
        "    w.border_title = f'{title}'\n"
        "    Static(title)\n"
    )
    saved, TUI = TUI, bad
    try:
        found = convention_breaches()
    finally:
        TUI = saved
    assert [line.split(": ", 1)[0] for line in found] == [f"tui/bad.py:{n}" for n in (2, 4, 5, 6, 7, 8)]
