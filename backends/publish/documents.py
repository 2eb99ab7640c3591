"""The three documents the publication's pull request adds: the gate report, the release notes and
the runbook update, each in the platform repository's document structure.

The release notes and the runbook follow the repository's own templates (`templates`); the gate
report is the bundle's `report.md` under the front matter the platform's regression reports carry
(docs/delivery/regression_s2_gate.md: type `regression`). Everything comes from the decided evidence,
so the same evidence always gives the same bytes, whatever day it is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.bundle.content import REPORT
from backends.bundle.runs import RUNS
from backends.publish.facts import Facts
from backends.publish.templates import Roles, Template, front_matter, render, titled

RELEASE_ROLES: Roles = (
    ("tldr", ("tl;dr",)),
    ("highlights", ("highlight", "главн")),
    ("features", ("feature", "функц")),
    ("improvements", ("improvement", "улучш")),
    ("fixes", ("fix", "исправ")),
    ("breaking", ("deprecat", "breaking")),
    ("known", ("known issue", "известн")),
    ("upgrade", ("upgrade", "migration", "миграц")),
    ("links", ("link", "ссылк")),
    ("approval", ("approv", "апрув", "соглас")),
)
RUNBOOK_ROLES: Roles = (
    ("tldr", ("tl;dr",)),
    ("approval", ("approv", "апрув", "соглас")),
    ("when", ("when", "когда")),
    ("access", ("prerequisite", "access", "предпосылк", "доступ")),
    ("symptoms", ("symptom", "симптом")),
    ("diagnosis", ("diagnos", "диагност")),
    ("mitigation", ("mitigat", "митиг", "восстанов")),
    ("escalation", ("escalat", "эскалац")),
    ("rollback", ("rollback", "откат")),
    ("verify", ("verif", "провер")),
    ("post", ("follow", "post", "пост")),
)


def _code(text: object) -> str:
    quoted = str(text).replace("`", "'")
    return f"`{quoted}`"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _nothing(heading: str) -> list[str]:
    return ["- n/a: the gate does not establish this; see the linked pull requests."]


def _approval(f: Facts) -> list[str]:
    return [
        f"- request_id: {_code(f.request_id)}",
        f"- Decision: {_one_line(f.decision_line())}",
        f"- The decision is bound to chain head {_code(f.evidence.decision.chain_head)} and bundle digest "
        f"{_code(f.evidence.decision.bundle_digest)}; the published bundle (with the decision) has digest "
        f"{_code(f.evidence.digest)}",
    ]


def _deviation_lines(f: Facts) -> list[str]:
    out = []
    for d in f.deviations:
        seen = (
            f"expected {_one_line(d['expected'])}; saw {_one_line(d['actual'])}"
            if d["expected"]
            else d["what"]
        )
        out.append(f"- {d['item']}: {_one_line(seen)} → {_one_line(d['resolution'])}")
    if not out:
        out = [
            f"- {d.item}: {_one_line(d.what)} → {_one_line(d.resolution)}"
            for d in f.evidence.summary.deviations
        ]
    return out


def _approvals_front(f: Facts) -> dict[str, Any]:
    return {
        "status": f.approval_status,
        "request_id": f.request_id,
        "approved_by": f.evidence.decision.by,
        "approved_at": f.date,
    }


def _common_front(f: Facts, doc_id: str, title: str) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "title": title,
        "status": "draft",
        "created_at": f.date,
        "updated_at": f.date,
        "related_issues": sorted({f.settings.checkpoint_issue, f.settings.closeout_issue}),
        "related_prs": [],
        "approvals": _approvals_front(f),
    }


# -- the gate report ------------------------------------------------------------------------------------
def gate_report(f: Facts) -> bytes:
    front = {
        "doc_id": f"REG-GATE-{f.session.upper()}",
        "type": "regression",
        "title": f"{f.settings.system} e2e regression gate {f.session}",
        "status": "completed" if f.go else "blocked",
        "owner_role": "QA",
        "created_at": f.date,
        "updated_at": f.date,
        "related_issues": sorted({f.settings.checkpoint_issue, f.settings.closeout_issue}),
        "related_prs": [],
        "approvals": {"required": ["Owner"], **_approvals_front(f)},
    }
    runs = (
        f"- `{RUNS}`: every run's issue, PR, label transitions, log links, flow events and action requests.\n"
    )
    bundle = [
        "",
        "## Evidence bundle",
        "",
        f"- Asset {_code(f.evidence.asset_name)} of the draft release {_code(f.tag)}, closeout issue "
        f"#{f.settings.closeout_issue}.",
        f"- Bundle digest {_code(f.evidence.digest)}; chain head {_code(f.evidence.head)} "
        f"({len(f.evidence.records)} records).",
        f"- Checkpoint #{f.settings.checkpoint_issue}: scenario "
        f"{f.settings.checkpoint_scenario} {f.checkpoint}.",
        "- Check it: `gateroom verify " + f.evidence.asset_name + "` (exit 0 when intact).",
    ]
    report = f.evidence.files[REPORT].decode()
    text = front_matter(front) + "\n\n" + report + "\n".join(bundle) + "\n"
    if f.evidence.runs is not None:
        text += runs
    return text.encode()


# -- release notes ----------------------------------------------------------------------------------------
def _release_content(f: Facts) -> dict[str, list[str]]:
    passed, total = f.scenario_counts()
    s = f.evidence.summary
    highlights = [
        f"- {sc.scenario_id} ({sc.priority}) {_one_line(sc.title)}: PASS"
        for sc in sorted(s.state.scenarios.values(), key=lambda x: (x.priority, x.scenario_id))
        if sc.status == "PASS"
    ]
    known = _deviation_lines(f) + [f"- open blocker ({b.priority}): {_one_line(b.text)}" for b in s.blockers]
    waivers = [f"- waived {_code(w.item_key)} by {w.by}: {_one_line(w.reason)}" for w in s.waivers]
    return {
        "tldr": [
            f"- Gate recommendation {f.recommendation}; the owner decided {_one_line(f.decision_line())}.",
            f"- {passed} of {total} scenarios passed; {len(s.blockers)} blocker(s); "
            f"checkpoint #{f.settings.checkpoint_issue} ({f.settings.checkpoint_scenario}): {f.checkpoint}.",
            f"- Evidence: {_code(f.evidence.asset_name)} on the draft release {_code(f.tag)} "
            f"(digest {_code(f.evidence.digest[:16])}…); `gateroom verify` checks it.",
        ],
        "highlights": highlights or ["- No scenario passed in this session."],
        "known": (known + waivers) or ["- None found by the gate."],
        "links": [
            f"- Closeout issue: #{f.settings.closeout_issue}",
            f"- Checkpoint issue: #{f.settings.checkpoint_issue}",
            f"- Gate report: {_code(f.report_path)}",
            f"- Runbook: {_code(f.runbook_path)}",
            f"- Evidence bundle: release {_code(f.tag)}, asset {_code(f.evidence.asset_name)}",
        ],
        "approval": _approval(f),
    }


def release_notes(f: Facts, template: Template) -> bytes:
    front = _common_front(f, f"REL-NOTE-GATE-{f.session.upper()}", f.subject) | {
        "release": {"version": f.version, "date": f.date, "commit": "", "environment": "production"},
    }
    front["title"] = _titled_front(template, f.subject)
    return render(template, front, f.subject, RELEASE_ROLES, _release_content(f), _nothing).encode()


def _titled_front(template: Template, subject: str) -> str:
    return titled(str(template.front.get("title", "")), subject)


# -- runbook ----------------------------------------------------------------------------------------------
def _diagnosis(f: Facts) -> list[str]:
    steps = [f"1) Check the evidence: `gateroom verify {f.evidence.asset_name}` (exit 0 when intact)."]
    troubled = [r for r in f.runs if r["deviations"] or r["status"] in ("failed", "canceled")]
    for r in troubled or f.runs[:1]:
        logs: Mapping[str, str] = r["logs"]
        where = f"run {_code(r['run_id'])} of {r['scenario']} ({r['trigger_kind'] or 'unknown trigger'})"
        steps.append(f"{len(steps) + 1}) Read the logs of {where}:")
        steps += [f"   - {name}: {_code(link)}" for name, link in sorted(logs.items())]
    if len(steps) == 1:
        steps.append("2) No platform run was observed in this session: start from the failed checks' detail.")
    return steps


def _runbook_content(f: Facts) -> dict[str, list[str]]:
    s = f.evidence.summary
    symptoms = [
        f"- {d['item']}: expected {_one_line(d['expected'] or '—')}; "
        f"saw {_one_line(d['actual'] or d['what'])}"
        for d in f.deviations
    ] or [f"- {d.item}: {_one_line(d.what)}" for d in s.deviations]
    resolutions = [f"- {d['item']}: {_one_line(d['resolution'])}" for d in f.deviations] or [
        f"- {d.item}: {_one_line(d.resolution)}" for d in s.deviations
    ]
    return {
        "tldr": [
            "- Symptom: the e2e gate recommends NO-GO, or a scenario or check deviates from what is "
            "expected.",
            "- Quick diagnosis: the run's logs and flow events (below, and `runs.json` in the bundle).",
            "- Quick recovery: fix the cause, then run the item again (pane 2 `r`), or waive it with a "
            "reason.",
        ],
        "when": [
            "- Before a release is announced, and after each deploy to production.",
            f"- Last used: session {_code(f.session)}, decided {_one_line(f.decision_line())}.",
        ],
        "access": [
            "- The gate's GitHub token (issues, contents and pull requests write) and a staff JWT of a "
            "platform admin.",
            "- The cluster's kubeconfig (or SSH to the host) for `kubectl logs` in the production and run "
            "namespaces.",
        ],
        "symptoms": symptoms or [f"- None in session {_code(f.session)}."],
        "diagnosis": _diagnosis(f),
        "mitigation": resolutions or ["- Nothing needed resolving in this session."],
        "escalation": [
            f"- Open blocker ({b.priority}): {_one_line(b.text)} — to the owner." for b in s.blockers
        ]
        or ["- No open blocker: nothing to escalate."],
        "rollback": [
            "- A NO-GO keeps the release back: production stays on the version the last GO covered."
        ],
        "verify": [
            "- Every P0/P1 scenario passes and every check passes or is waived with a reason.",
            "- `gateroom verify` exits 0 on the published bundle.",
        ],
        "post": [
            f"- The issue map row of #{f.settings.checkpoint_issue} and the release notes "
            f"{_code(f.release_notes_path)} come with the gate's pull request.",
        ],
        "approval": _approval(f),
    }


def runbook(f: Facts, template: Template) -> bytes:
    subject = f"{f.settings.system} e2e regression gate"
    front = _common_front(f, "RB-GATEROOM-E2E-GATE", subject)
    front["title"] = _titled_front(template, subject)
    return render(template, front, subject, RUNBOOK_ROLES, _runbook_content(f), _nothing).encode()
