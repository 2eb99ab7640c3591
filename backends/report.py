"""Headless reports: progress lines for a terminal or CI log, JUnit XML and JSON at the end."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree as ET

from backends.events import CheckFinished, Event, Progress, RunFinished, ScenarioFinished, VerdictChanged
from backends.plan.model import Plan
from backends.results import Status
from backends.scenarios.coverage import coverage
from backends.state import GateState


class ProgressPrinter:
    """Bus subscriber that prints one line per finished item."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    def __call__(self, event: Event) -> None:
        match event:
            case Progress():
                self._line(f"... {event.message}")
            case CheckFinished():
                r = event.result
                why = f" - {r.reason}" if r.reason and r.status is not Status.PASS else ""
                self._line(f"[{r.status:>5}] {r.target:<14} {r.check_id:<24} {r.observed}{why}")
            case ScenarioFinished():
                why = f" - {event.reason}" if event.reason else ""
                self._line(f"[{event.status:>5}] scenario {event.scenario_id:<20} {event.title}{why}")
            case RunFinished():
                self._line(("GO" if event.go else "NO-GO") + (":" if event.reasons else ""))
                for reason in event.reasons:
                    self._line(f"  - {reason}")
            case VerdictChanged():
                pass

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def junit_xml(state: GateState) -> bytes:
    suites = ET.Element("testsuites", name="gateroom")
    by_area: dict[str, list[ET.Element]] = {}
    failures: dict[str, int] = {}
    for key, r in sorted(state.checks.items()):
        case = ET.Element("testcase", classname=f"checks.{r.area}", name=key, time=f"{r.duration_s:.3f}")
        if r.status in {Status.FAIL, Status.ERROR}:
            tag = "failure" if r.status is Status.FAIL else "error"
            ET.SubElement(case, tag, message=r.reason or str(r.status)).text = r.output
            failures[r.area] = failures.get(r.area, 0) + 1
        elif r.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=r.reason)
        by_area.setdefault(f"checks.{r.area}", []).append(case)
    for sc in state.scenarios.values():
        case = ET.Element(
            "testcase", classname=f"scenarios.{sc.priority}", name=sc.scenario_id, time=f"{sc.duration_s:.3f}"
        )
        if sc.status == "MANUAL":
            ET.SubElement(case, "skipped", message="manual: waiting for the operator's pass/fail")
        elif sc.status not in {"PASS", "SKIP"}:
            ET.SubElement(case, "failure", message=sc.reason or sc.status)
            failures["scenarios"] = failures.get("scenarios", 0) + 1
        elif sc.status == "SKIP":
            ET.SubElement(case, "skipped", message=sc.reason)
        by_area.setdefault("scenarios", []).append(case)
    for name, cases in by_area.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(cases)),
            failures=str(failures.get(name.split(".")[-1], 0)),
        )
        suite.extend(cases)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def coverage_json(plan: Plan, state: GateState) -> dict[str, object]:
    rows = coverage(plan, state)
    return {
        "labels": len(rows),
        "exercised": sum(1 for r in rows if r.status == "EXERCISED"),
        "planned_only": [r.label for r in rows if r.status == "PLANNED"],
        "uncovered": [r.label for r in rows if r.status == "UNCOVERED"],
    }


def _scenarios_json(state: GateState, plan: Plan | None) -> list[dict[str, object]]:
    """Every scenario of the plan (not-yet-run ones as PENDING), titled from the plan."""
    ids = [s.id for s in plan.scenarios] if plan is not None else list(state.scenarios)
    out: list[dict[str, object]] = []
    for sid in ids:
        sc = state.scenarios.get(sid)
        planned = plan.scenario(sid) if plan is not None else None
        out.append(
            {
                "id": sid,
                "status": sc.status if sc else "PENDING",
                "priority": planned.priority if planned else (sc.priority if sc else ""),
                "title": planned.title if planned else (sc.title if sc else ""),
                "reason": sc.reason if sc else "",
            }
        )
    return out


def summary_json(state: GateState, plan: Plan | None = None) -> dict[str, object]:
    verdict = state.verdict
    out: dict[str, object] = {
        "session": state.session_id,
        "target": state.target,
        "plan": state.plan,
        "verdict": verdict.label if verdict else None,
        "reasons": list(verdict.reasons) if verdict else [],
        "checks": [r.to_payload() for _, r in sorted(state.checks.items())],
        "scenarios": _scenarios_json(state, plan),
        "waivers": [{"item": w.item_key, "reason": w.reason, "by": w.by} for w in state.waivers.values()],
    }
    if plan is not None:
        out["coverage"] = coverage_json(plan, state)
    return out


def write_reports(
    state: GateState, junit: Path | None, json_path: Path | None, plan: Plan | None = None
) -> None:
    if junit is not None:
        junit.write_bytes(junit_xml(state))
    if json_path is not None:
        json_path.write_text(json.dumps(summary_json(state, plan), indent=2) + "\n", encoding="utf-8")
