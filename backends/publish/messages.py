"""The texts of the draft release, the pull request and the closeout comment.

Each names only what exists when it is written (the release before the asset and the pull request,
the pull request before the comment), so a rerun writes the same text and finds nothing to change.
The closeout comment carries a hidden marker of the gate's own, by which a rerun finds and edits it
instead of posting a second one.
"""

from __future__ import annotations

import json

from backends.publish.facts import Facts

MARKER = "gateroom:publish"


def marker(session: str) -> str:
    return f"<!-- {MARKER} {json.dumps({'session': session}, separators=(',', ':'))} -->"


def _evidence_lines(f: Facts) -> list[str]:
    return [
        f"- Chain head: `{f.evidence.head}` ({len(f.evidence.records)} records)",
        f"- Bundle digest: `{f.evidence.digest}`",
    ]


def release_name(f: Facts) -> str:
    return f"Gate Room evidence {f.session}: {f.decision}"


def release_body(f: Facts) -> str:
    return "\n".join(
        [
            f"Evidence bundle of the {f.settings.system} e2e regression gate, session `{f.session}`.",
            "",
            f"- Recommendation: {f.recommendation}; decision: {f.decision_line()}",
            *_evidence_lines(f),
            f"- Asset: `{f.evidence.asset_name}` — check it with `gateroom verify {f.evidence.asset_name}`",
            f"- Closeout issue: #{f.settings.closeout_issue}; checkpoint #{f.settings.checkpoint_issue}: "
            f"{f.settings.checkpoint_scenario} {f.checkpoint}",
        ]
    )


def pull_title(f: Facts) -> str:
    return f"Gate Room: {f.settings.system} e2e gate {f.session} — {f.decision}"


def pull_body(f: Facts, release_url: str, asset_url: str) -> str:
    return "\n".join(
        [
            f"The {f.settings.system} e2e regression gate, session `{f.session}`: "
            f"recommendation {f.recommendation}, decision {f.decision_line()}",
            "",
            f"- Gate report: `{f.report_path}`",
            f"- Release notes: `{f.release_notes_path}`",
            f"- Runbook: `{f.runbook_path}`",
            f"- Traceability: the row of #{f.settings.checkpoint_issue} in `{f.issue_map_path}` "
            f"({f.settings.checkpoint_scenario} {f.checkpoint})",
            f"- Evidence: [{f.evidence.asset_name}]({asset_url}) "
            f"on the draft release [{f.tag}]({release_url})",
            *_evidence_lines(f),
            "",
            f"Closeout: #{f.settings.closeout_issue}",
        ]
    )


def closeout_comment(f: Facts, links: dict[str, str]) -> str:
    return "\n".join(
        [
            f"**Gate Room: {f.decision}** — {f.settings.system} e2e regression gate, session `{f.session}`",
            "",
            f"- Verdict (the gate's recommendation): {f.recommendation}, "
            f"{len(f.evidence.summary.blockers)} blocker(s)",
            f"- The owner's decision: {f.decision_line()}",
            *_evidence_lines(f),
            f"- Checkpoint #{f.settings.checkpoint_issue}: {f.settings.checkpoint_scenario} {f.checkpoint}",
            f"- Pull request: {links.get('pull', '')}",
            f"- Draft release: {links.get('release', '')}",
            f"- Bundle: {links.get('asset', '')} (`gateroom verify {f.evidence.asset_name}`)",
            "",
            marker(f.session),
        ]
    )
