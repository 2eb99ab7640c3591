"""The checkpoint issue's row in the platform's issue map (docs/delivery/issue_map.md).

The map is a Markdown table with one row per issue (`| #N | bundle docs | PRD | Design | ADRs | Test
Plan | Release Notes | Postdeploy | Status |`, docs/templates/issue_map.md) under a front matter
whose `related_issues` lists every issue it maps. The gate writes the checkpoint's row (adding it at
the end of the table when there is none) and leaves every other line as it was. Applying it to its
own result changes nothing, so a rerun finds the file already right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backends.publish.evidence import PublishError

_RELATED = re.compile(r"^related_issues:\s*\[(?P<items>[^\]]*)\]\s*$")
_UPDATED = re.compile(r"^updated_at:\s*(?P<date>\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class MapRow:
    issue: int
    docs: Sequence[str]  # paths the row's traceability bundle must name
    test_plan: str
    release_notes: str
    status: str
    date: str  # YYYY-MM-DD: the map was updated then
    also_related: Sequence[int] = ()


def _cells(line: str) -> list[str]:
    # a row's cells, with `\|` kept inside a cell as the platform writes it
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [c.strip().replace("\0", "\\|") for c in inner.replace("\\|", "\0").split("|")]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _column(header: Sequence[str], *words: str) -> int:
    for i, name in enumerate(header):
        if any(w in name.lower() for w in words):
            return i
    raise PublishError(f"the issue map's table has no {words[0].title()!r} column")


def _front(lines: list[str], row: MapRow) -> None:
    if not lines or lines[0].strip() != "---":
        return
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            break
        related = _RELATED.match(lines[i])
        if related:
            numbers = {int(x) for x in re.findall(r"\d+", related.group("items"))}
            numbers |= {row.issue, *row.also_related}
            lines[i] = f"related_issues: [{', '.join(str(n) for n in sorted(numbers))}]"
        updated = _UPDATED.match(lines[i])
        if updated and updated.group("date") < row.date:
            lines[i] = f"updated_at: {row.date}"


def _is_row_of(cells: Sequence[str], issue: int) -> bool:
    return f"#{issue}" in re.split(r"[\s/,+]+", cells[0])


def update_issue_map(text: str, row: MapRow) -> str:
    lines = text.split("\n")
    _front(lines, row)
    header_at = next(
        (i for i, ln in enumerate(lines) if ln.startswith("|") and _cells(ln)[0].lower().startswith("issue")),
        None,
    )
    if header_at is None or header_at + 1 >= len(lines) or not lines[header_at + 1].startswith("|"):
        raise PublishError("the issue map has no table whose first column is Issue/PR")
    header = _cells(lines[header_at])
    docs_at = 1
    test_at = _column(header, "test plan", "test")
    notes_at = _column(header, "release notes", "release")
    status_at = _column(header, "status", "статус")
    end = header_at + 2
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    found = next((i for i in range(header_at + 2, end) if _is_row_of(_cells(lines[i]), row.issue)), None)
    cells = _cells(lines[found]) if found is not None else [f"#{row.issue}"] + ["TBD"] * (len(header) - 1)
    cells += ["TBD"] * (len(header) - len(cells))
    named = [f"`{d}`" for d in row.docs if f"`{d}`" not in cells[docs_at]]
    if found is None or cells[docs_at] in ("", "TBD"):
        cells[docs_at] = " + ".join(f"`{d}`" for d in row.docs)
    elif named:
        cells[docs_at] = " + ".join([cells[docs_at], *named])
    cells[test_at] = _escape(row.test_plan)
    cells[notes_at] = _escape(row.release_notes)
    cells[status_at] = _escape(row.status)
    if found is not None:
        lines[found] = _row(cells)
    else:
        lines.insert(end, _row(cells))
    return "\n".join(lines)
