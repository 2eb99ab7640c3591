"""The publication's document logic without a network: the issue map row, template structure, front
matter, and the part of the evidence that is published."""

from __future__ import annotations

import pytest

from backends.publish.evidence import PublishError, published_part
from backends.publish.issue_map import MapRow, update_issue_map
from backends.publish.templates import fill, front_matter, parse_template, role_of, titled
from backends.sandbox.github_docs import ISSUE_MAP, RELEASE_NOTES_TEMPLATE

ROW = MapRow(
    issue=128,
    docs=["docs/delivery/issue_map.md", "docs/delivery/regression_gate_s1.md"],
    test_plan="Gate Room session `s1`: A1.128 PASS | runs `r1`",
    release_notes="`docs/delivery/release_notes_gate_s1.md`",
    status="completed",
    date="2026-02-01",
    also_related=(7,),
)


def test_the_checkpoint_row_is_added_once_and_a_second_update_changes_nothing() -> None:
    once = update_issue_map(ISSUE_MAP, ROW)
    assert update_issue_map(once, ROW) == once
    rows = [ln for ln in once.splitlines() if ln.startswith("| #128 |")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split(" | ")]
    assert cells[-1] == "completed" and "A1.128 PASS \\| runs" in rows[0]  # a pipe in a cell is escaped
    assert cells[1] == "`docs/delivery/issue_map.md` + `docs/delivery/regression_gate_s1.md`"
    assert "related_issues: [1, 7, 19, 112, 128]" in once and "updated_at: 2026-02-01" in once
    table = [ln for ln in once.splitlines() if ln.startswith("|")]
    assert table[-1] == rows[0], "a new row goes at the end of the table"


def test_an_existing_row_keeps_what_the_gate_does_not_own() -> None:
    ours = "| #128 | `docs/x.md` | `docs/prd.md` | TBD | `ADR-9` | old | TBD | `PDR-1` | planned |"
    mine = ISSUE_MAP.replace("| #112 |", f"{ours}\n| #112 |")
    updated = update_issue_map(mine, ROW)
    row = next(ln for ln in updated.splitlines() if ln.startswith("| #128 |"))
    assert "`docs/x.md` + `docs/delivery/issue_map.md` + `docs/delivery/regression_gate_s1.md`" in row
    assert "`docs/prd.md`" in row and "`ADR-9`" in row and "`PDR-1`" in row and "old" not in row
    assert updated.count("| #128 |") == 1
    newer = update_issue_map(mine.replace("updated_at: 2026-01-20", "updated_at: 2026-03-01"), ROW)
    assert "updated_at: 2026-03-01" in newer  # a later date of the map is kept


def test_a_map_without_the_columns_is_refused_in_one_line() -> None:
    broken = ISSUE_MAP.replace("| Status |", "| State of things |")
    with pytest.raises(PublishError, match="no 'Status' column"):
        update_issue_map(broken, ROW)
    with pytest.raises(PublishError, match="no table"):
        update_issue_map("---\ntitle: x\n---\n# x\n", ROW)


def test_a_template_gives_its_structure_and_keeps_only_policy_values() -> None:
    template = parse_template(RELEASE_NOTES_TEMPLATE, "t.md")
    assert template.sections[0] == "TL;DR" and template.sections[-1] == "Approval"
    filled = fill(template.front, {"doc_id": "REL-1", "approvals": {"status": "approved"}})
    assert list(filled) == list(template.front)
    assert filled["owner_role"] == "PM" and filled["approvals"]["required"] == ["Owner"]
    assert filled["approvals"]["approved_by"] == "" and filled["release"]["version"] == ""
    text = front_matter(filled)
    assert text.startswith("---\ndoc_id: REL-1\n") and 'required: ["Owner"]' in text and "<" not in text
    assert titled("Release notes — <system> <version>", "kodex v1") == "Release notes — kodex v1"
    assert titled("Issue map", "kodex") == "Issue map: kodex"
    assert role_of("Известные проблемы (known issues)", [("known", ("known issue",))]) == "known"


def test_publication_records_are_not_published() -> None:
    kinds = ["session.opened", "decision", "publish.step", "publish.finished"]
    records = [{"kind": k} for k in kinds]
    assert published_part(records) == 2
    assert published_part([*records, {"kind": "witness"}]) == 5  # new evidence after a publication
