"""The platform's refusals, as comments: "run not created" warnings with a reason code
(runstatus/i18n/trigger_warning.yaml) and trigger-label conflicts (runstatus/templates/
trigger_conflict_*.md.tmpl). Neither carries a JSON marker, so the gate reads their stable parts:
the warning's last line ends in the reason code in backticks, in every locale; a conflict names the
added label and lists the conflicting `run:*` labels as backticked list items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backends.signals.runstatus import marker_line

#: the reason codes the platform defines (runstatus/constants.go; sender_* come from the webhook's
#: actor checks in webhook/service_helpers.go)
REASON_CODES = (
    "pull_request_review_missing_stage_label",
    "pull_request_review_stage_label_conflict",
    "pull_request_review_stage_not_resolved",
    "pull_request_review_stage_ambiguous",
    "repository_not_bound_for_issue_label",
    "issue_trigger_candidate_not_found",
)
SENDER_PREFIX = "sender_"

_HEADING = re.compile(r"^###\s*⚠️")
_REASON_LINE = re.compile(r"^[^`]*:\s*`(?P<code>[a-z][a-z0-9_]*)`\s*$")
_ITEM = re.compile(r"^\s*-\s*`(?P<label>[^`]+)`\s*$")
_TICKED = re.compile(r"`(?P<label>[^`\s]+)`")


@dataclass(frozen=True)
class TriggerWarning:
    """A run that was not created, and why."""

    reason_code: str
    labels: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.reason_code in REASON_CODES or self.reason_code.startswith(SENDER_PREFIX)

    def brief(self) -> str:
        shown = f" ({', '.join(self.labels)})" if self.labels else ""
        return f"run not created: reason code {self.reason_code}{shown}"


@dataclass(frozen=True)
class TriggerConflict:
    """A `run:*` label added to an issue that already had another."""

    trigger_label: str
    conflicting: tuple[str, ...]

    def brief(self) -> str:
        return f"trigger conflict: {self.trigger_label} with {', '.join(self.conflicting) or '?'}"


def _lines(body: str) -> list[str]:
    return [line.rstrip() for line in body.strip().splitlines() if line.strip()]


def parse_warning(body: str) -> TriggerWarning | None:
    lines = _lines(body)
    if not lines or not _HEADING.match(lines[0]) or marker_line(body) is not None:
        return None
    m = _REASON_LINE.match(lines[-1])
    if m is None:
        return None
    labels = tuple(i["label"] for line in lines if (i := _ITEM.match(line)))
    return TriggerWarning(m["code"], labels)


def parse_conflict(body: str) -> TriggerConflict | None:
    lines = _lines(body)
    if not lines or not _HEADING.match(lines[0]) or marker_line(body) is not None:
        return None
    if _REASON_LINE.match(lines[-1]):
        return None  # a warning, not a conflict
    items = [i["label"] for line in lines if (i := _ITEM.match(line))]
    conflicting = tuple(label for label in items if label.startswith("run:"))
    if not conflicting:
        return None
    for line in lines[1:]:
        if _ITEM.match(line):
            break
        for t in _TICKED.finditer(line):
            if t["label"].startswith("run:") and "*" not in t["label"]:
                return TriggerConflict(t["label"], conflicting)
    return None
