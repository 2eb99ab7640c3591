"""`runs.json`: the master plan's evidence per run, and every deviation with its resolution.

docs/delivery/e2e_mvp_master_plan.md ("Формат evidence bundle") asks, per run, for the run id, the
issue and PR, the label transitions, links to the control-plane, worker and job logs, the run's flow
events and MCP action requests, and the deviations (expected vs actual) with their resolution. All
of it comes from the records (`run.observed`, failed steps, waivers, reruns), so `verify` rebuilds
the file byte for byte. A session that observed no run has no `runs.json`: evidence recorded before
runs were observed keeps the bundle (and the digest its decision is bound to) it always had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from backends.events import CheckFinished, RunObserved, ScenarioStepChanged
from backends.results import Status
from backends.signoff import Deviation, SignoffSummary

RUNS = "runs.json"
FORMAT = "gateroom-runs/1"

Record = Mapping[str, Any]


def _thread(repo: str, number: Any, url: str) -> dict[str, Any] | None:
    if number in (None, "", 0):
        return None
    return {"repo": repo, "number": number, "url": url}


def _failed_steps(records: Sequence[Record]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """(scenario, attempt) -> each failed step's expected vs actual, in the order they failed."""
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for record in records:
        if record["kind"] != ScenarioStepChanged.kind:
            continue
        p = record["payload"]
        if p.get("status") != "FAIL":
            continue
        attempt = int((p.get("detail") or {}).get("attempt", 1))
        out.setdefault((str(p["scenario_id"]), attempt), []).append(
            {
                "attempt": attempt,
                "step": int(p.get("step_index", 0)) + 1,
                "description": p.get("description", ""),
                "expected": p.get("expected", ""),
                "actual": p.get("actual", ""),
                "record": record["seq"],
            }
        )
    return out


def _first_failed_checks(records: Sequence[Record]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["kind"] != CheckFinished.kind:
            continue
        r = record["payload"].get("result", {})
        key = f"{r.get('target', '')}/{r.get('check_id', '')}" if r.get("target") else str(r.get("check_id"))
        if r.get("status") != str(Status.PASS):
            out.setdefault(key, {"expected": r.get("expected", ""), "actual": r.get("observed", "")})
    return out


def resolution(summary: SignoffSummary, deviation: Deviation) -> str:
    """The recorded resolution, with the operator's own words where there are any."""
    kind, key = deviation.item.split(" ", 1)
    scenario = summary.state.scenarios.get(key) if kind == "scenario" else None
    if deviation.resolution.startswith("skipped") and scenario is not None and scenario.reason:
        return f"skipped: {scenario.reason}"
    return deviation.resolution


def _deviations(
    summary: SignoffSummary,
    steps: Mapping[tuple[str, int], list[dict[str, Any]]],
    checks: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    out = []
    for d in summary.deviations:
        kind, key = d.item.split(" ", 1)
        if kind == "scenario":
            failed = [s for (sid, _), found in sorted(steps.items()) if sid == key for s in found]
            expected = failed[0]["expected"] if failed else ""
            actual = failed[0]["actual"] if failed else d.what
        else:
            seen = checks.get(key, {})
            expected, actual = seen.get("expected", ""), seen.get("actual", d.what)
        out.append(
            {
                "item": d.item,
                "what": d.what,
                "expected": expected,
                "actual": actual,
                "resolution": resolution(summary, d),
            }
        )
    return out


def runs_document(records: Sequence[Record], summary: SignoffSummary) -> dict[str, Any] | None:
    observed = [r for r in records if r["kind"] == RunObserved.kind]
    if not observed:
        return None
    steps = _failed_steps(records)
    by_item = {d.item: d for d in summary.deviations}
    runs = []
    for record in observed:
        p = record["payload"]
        scenario, attempt = str(p["scenario_id"]), int(p.get("attempt", 1))
        item = by_item.get(f"scenario {scenario}")
        settled = resolution(summary, item) if item is not None else ""
        runs.append(
            {
                "record": record["seq"],
                "scenario": scenario,
                "attempt": attempt,
                "run_id": p["run_id"],
                "trigger_kind": p.get("trigger_kind", ""),
                "status": p.get("status", ""),
                "issue": _thread(p.get("repo", ""), p.get("issue"), p.get("issue_url", "")),
                "pr": _thread(p.get("repo", ""), p.get("pr"), p.get("pr_url", "")),
                "namespace": p.get("namespace", ""),
                "job": {"name": p.get("job_name", ""), "namespace": p.get("job_namespace", "")},
                "created_at": p.get("created_at", ""),
                "label_transitions": list(p.get("label_transitions", ())),
                "logs": dict(p.get("logs", {})),
                "flow_events": list(p.get("flow_events", ())),
                "action_requests": list(p.get("action_requests", ())),
                "deviations": [s | {"resolution": settled} for s in steps.get((scenario, attempt), [])],
                "notes": list(p.get("notes", ())),
            }
        )
    return {
        "format": FORMAT,
        "runs": runs,
        "deviations": _deviations(summary, steps, _first_failed_checks(records)),
    }


def runs_json(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
