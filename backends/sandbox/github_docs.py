"""The documents the sandbox's platform repository starts with, in the platform's document structure.

The real repository keeps its templates in `docs/templates/` and its traceability map in
`docs/delivery/issue_map.md`: a YAML front matter (doc_id, type, title, status, owner_role, dates,
related issues, approvals), one H1, then H2 sections; the map's table has one row per issue with the
columns Issue/PR, traceability bundle, PRD, Design, ADRs, Test Plan, Release Notes, Postdeploy,
Status. These stand-ins have that structure in words of their own, so a publication is tested against
the shape it meets on the real repository.
"""

from __future__ import annotations

RELEASE_NOTES_TEMPLATE = """\
---
doc_id: REL-NOTE-0000
type: release-notes
title: "Release notes — <system> <version>"
status: draft
owner_role: PM
created_at: YYYY-MM-DD
updated_at: YYYY-MM-DD
release:
  version: "<vX.Y.Z>"
  date: YYYY-MM-DD
  commit: "<sha>"
  environment: "production"
related_prs: []
related_issues: []
approvals:
  required: ["Owner"]
  status: pending
  request_id: "<request>"
  approved_by: "<login>"
  approved_at: YYYY-MM-DD
---

# Release notes: <system> <vX.Y.Z>

## TL;DR
- (the release in three lines)

## Highlights
- (what matters most)

## New Features
- (new behaviour)

## Improvements
- (better behaviour)

## Bug Fixes
- (fixed behaviour)

## Deprecations / Breaking changes
- (what stops working)

## Known Issues
- (what is still wrong)

## Upgrade / Migration notes
- (steps for operators)

## Links
- (pull requests, issues, plans)

## Approval
- (who approved, and why)
"""

RUNBOOK_TEMPLATE = """\
---
doc_id: RB-0000
type: runbook
title: "<service> — runbook: <situation>"
status: draft
owner_role: SRE
created_at: YYYY-MM-DD
updated_at: YYYY-MM-DD
related_alerts: []
approvals:
  required: ["Owner"]
  status: pending
  request_id: "<request>"
  approved_by: "<login>"
  approved_at: YYYY-MM-DD
---

# Runbook: <service> — <situation>

## TL;DR
- (symptom, first look, first fix)

## When to use
- (the trigger)

## Prerequisites and access
- (what you need)

## Symptoms
- (what you see)

## Diagnosis
1) (first look)

## Mitigation
1) (first fix)

## Escalation
- (whom to call)

## Rollback plan
- (how to go back)

## Verification
- (what OK looks like)

## Follow-up
- (after the fix)

## Approval
- (who approved, and why)
"""

ISSUE_MAP = """\
---
doc_id: MAP-SANDBOX-0001
type: issue-map
title: "Issue to docs map"
status: active
owner_role: KM
created_at: 2026-01-05
updated_at: 2026-01-20
related_issues: [1, 19, 112]

approvals:
  required: ["Owner"]
  status: approved
  request_id: "sandbox-docset"
  approved_by: "sandbox-owner"
  approved_at: 2026-01-05
---

# Issue to docs map

## TL;DR
Which documents and releases belong to which issue.

## Matrix
| Issue/PR | Traceability bundle | PRD | Design | ADRs | Test Plan | Release Notes | Postdeploy | Status |
|---|---|---|---|---|---|---|---|---|
| #1 | `docs/delivery/issue_map.md` | `docs/product/brief.md` | TBD | `ADR-0001` | TBD | TBD | TBD | done |
| #19 | `docs/delivery/issue_map.md` | `docs/product/brief.md` | TBD | TBD | TBD | TBD | TBD | in-progress |
| #112 | `docs/delivery/issue_map.md` | TBD | TBD | TBD | `docs/delivery/e2e.md` | TBD | TBD | in-review |

## Rules
- One row per issue; links must resolve.
"""

PLATFORM_DOCS = {
    "docs/templates/release_notes.md": RELEASE_NOTES_TEMPLATE,
    "docs/templates/runbook.md": RUNBOOK_TEMPLATE,
    "docs/delivery/issue_map.md": ISSUE_MAP,
}


def platform_files() -> dict[str, bytes]:
    return {path: text.encode() for path, text in PLATFORM_DOCS.items()}
