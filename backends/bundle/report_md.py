"""The bundle's human report: Markdown that reads as release notes and as a runbook appendix.

Rendered only from the records (never from the clock or the machine), so the same evidence always
gives the same bytes and a decision's bundle digest can be recomputed by `verify`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from backends.events import DecisionRecorded
from backends.results import CheckResult
from backends.signoff import DecisionStatus, SignoffSummary, pane_of

STATUS_COLUMNS = ("PASS", "WARN", "FAIL", "ERROR", "SKIP")
#: not a result yet: still running, not started, or a manual checklist waiting for the operator
OPEN_STATUSES = ("PENDING", "RUNNING", "MANUAL")
RUN_COLUMNS = ["Scenario", "Run", "Trigger", "Status", "Issue", "PR", "Labels", "Flow events", "Requests"]


def _utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _cell(text: object) -> str:
    # A table cell is one line; a pipe would start a new column.
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def short(digest: str) -> str:
    return f"{digest[:12]}…" if len(digest) > 12 else digest


def _decision_line(d: DecisionRecorded, ts: float) -> str:
    role = f" ({d.role})" if d.role else ""
    comment = f' — "{_cell(d.comment)}"' if d.comment else ""
    return f"**{d.decision}** by `{d.by}`{role} at {_utc(ts)}{comment}"


def _summary(
    s: SignoffSummary, decisions: list[tuple[DecisionRecorded, float]], status: DecisionStatus
) -> list[str]:
    out = ["## Summary", ""]
    if s.recommendation is None:
        out.append("**Recommendation: PENDING** — the gate has not computed a verdict yet.")
    elif s.recommendation.go:
        out.append("**Recommendation: GO** — every planned item passed or was waived with a reason.")
    else:
        out.append(f"**Recommendation: NO-GO** — {len(s.blockers)} blocker(s), highest priority first:")
        out.append("")
        out += [f"{i}. {b.priority} — {_cell(b.text)}" for i, b in enumerate(s.blockers, 1)]
    out.append("")
    if decisions:
        d, ts = decisions[-1]
        out.append(f"**Decision:** {_decision_line(d, ts)}.")
        if status.stale:
            out += ["", "**The decision is stale:** evidence was added after it; a new decision is needed."]
    else:
        out.append("**Decision:** none recorded on this evidence yet.")
    out += ["", f"Evidence: {s.records} records, chain head `{s.head}`.", ""]
    rows = []
    still_open = 0
    for pane in ("preflight", "scenarios", "security"):
        counts = s.counts.get(pane, {})
        waiting = sum(n for status, n in counts.items() if status in OPEN_STATUSES)
        still_open += waiting
        rows.append([pane.capitalize(), *(counts.get(c, 0) for c in STATUS_COLUMNS), waiting])
    out += _table(["Pane", *STATUS_COLUMNS, "Open"], rows)
    if still_open:
        out += ["", f"Open: {still_open} item(s) unfinished, or manual checklists waiting for the operator."]
    if s.waivers:
        out += ["", f"{len(s.waivers)} waiver(s) and {len(s.deviations)} deviation(s) are listed below."]
    elif s.deviations:
        out += ["", f"{len(s.deviations)} deviation(s) are listed below."]
    return out


def _scenarios(s: SignoffSummary) -> list[str]:
    out = ["## Scenario matrix", ""]
    if not s.state.scenarios:
        return [*out, "No scenario ran in this session."]
    rows: list[list[object]] = []
    for sc in sorted(s.state.scenarios.values(), key=lambda x: (x.priority, x.scenario_id)):
        waived = " (waived)" if sc.scenario_id in s.state.waivers else ""
        rows.append(
            [sc.scenario_id, sc.priority, sc.title, sc.status + waived, f"{sc.duration_s:.1f}s", sc.reason]
        )
    return out + _table(["Scenario", "Priority", "Title", "Status", "Took", "Note"], rows)


def _runs(runs: Mapping[str, Any]) -> list[str]:
    out = ["## Runs", ""]
    rows: list[list[object]] = []
    for r in runs["runs"]:
        issue, pr = r.get("issue") or {}, r.get("pr") or {}
        requests = ", ".join(f"{a.get('tool_name')} {a.get('state')}" for a in r["action_requests"])
        rows.append(
            [
                f"{r['scenario']} (attempt {r['attempt']})",
                f"`{r['run_id']}`",
                r["trigger_kind"],
                r["status"],
                f"#{issue['number']}" if issue else "",
                f"#{pr['number']}" if pr else "",
                len(r["label_transitions"]),
                len(r["flow_events"]),
                requests,
            ]
        )
    out += _table(RUN_COLUMNS, rows)
    out += [
        "",
        "Each run's label transitions, flow events, action requests, deviations and the addresses of its",
        "control-plane, worker and job logs are in `runs.json`.",
    ]
    return out


def _checks(s: SignoffSummary, pane: str, title: str) -> list[str]:
    out = [f"## {title}", ""]
    results: list[CheckResult] = [r for _, r in sorted(s.state.checks.items()) if pane_of(r.area) == pane]
    if not results:
        return [*out, f"No {title.lower()} check ran in this session."]
    rows: list[list[object]] = []
    for r in results:
        waived = " (waived)" if r.key in s.state.waivers else ""
        rows.append([r.check_id, r.target, str(r.status) + waived, r.observed, r.expected, r.reason])
    return out + _table(["Check", "Target", "Status", "Observed", "Expected", "Note"], rows)


def _deviations(s: SignoffSummary) -> list[str]:
    out = ["## Deviations", ""]
    if s.deviations:
        rows: list[list[object]] = [[d.item, d.what, d.resolution] for d in s.deviations]
        out += _table(["Item", "What happened", "Resolution"], rows)
    else:
        out.append("None: every item passed the first time it ran.")
    out += ["", "### Waivers", ""]
    if s.waivers:
        out += [f"- `{w.item_key}` — waived by `{w.by}`: {_cell(w.reason)}" for w in s.waivers]
    else:
        out.append("None.")
    return out


def _decision(s: SignoffSummary, decisions: list[tuple[DecisionRecorded, float]]) -> list[str]:
    out = ["## Decision", ""]
    if not decisions:
        return [*out, "No decision has been recorded on this evidence yet."]
    for d, ts in decisions:
        out += [
            f"- {_decision_line(d, ts)}",
            f"  - bound to chain head `{d.chain_head}`",
            f"  - and to bundle digest `{d.bundle_digest}`",
        ]
    return out


def _evidence(
    s: SignoffSummary, excerpts: Mapping[str, Mapping[str, Any]], runs: Mapping[str, Any] | None
) -> list[str]:
    out = [
        "## Evidence",
        "",
        f"- `records.json`: {s.records} records, SHA-256 chained; head `{s.head}`.",
        "- `junit.xml`: the same results for CI dashboards.",
    ]
    if runs is not None:
        count, deviations = len(runs["runs"]), len(runs["deviations"])
        out.append(f"- `runs.json`: {count} platform run(s) and {deviations} deviation(s).")
    for name, payload in sorted(excerpts.items()):
        note = f" — {_cell(payload.get('note'))}" if payload.get("note") else ""
        out.append(f"- `{name}`: {payload.get('lines', 0)} log lines for {payload.get('attach_to')}{note}")
    out += [
        "",
        "To check this bundle: `gateroom verify <bundle>` (the manifest, the hash chain and the",
        "decision's binding; exit 0 when intact).",
    ]
    return out


def render(
    summary: SignoffSummary,
    decisions: list[tuple[DecisionRecorded, float]],
    excerpts: Mapping[str, Mapping[str, Any]],
    status: DecisionStatus,
    runs: Mapping[str, Any] | None = None,
    timeline: Sequence[str] = (),
) -> str:
    st = summary.state
    lines = [
        f"# Gate Room report — {st.target or 'unknown target'}",
        "",
        f"Session `{st.session_id or '—'}` · plan: {st.plan or '—'}",
        "",
        *_summary(summary, decisions, status),
        "",
        *_scenarios(summary),
        "",
        *([*_runs(runs), ""] if runs is not None else []),
        *([*timeline, ""] if timeline else []),
        *_checks(summary, "preflight", "Preflight"),
        "",
        *_checks(summary, "security", "Security"),
        "",
        *_deviations(summary),
        "",
        *_decision(summary, decisions),
        "",
        *_evidence(summary, excerpts, runs),
    ]
    return "\n".join(lines) + "\n"
