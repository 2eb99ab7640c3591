"""The facts every published text states, read once from the decided evidence and the settings, so
the documents, the release, the pull request and the comment cannot disagree."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backends.config import PublishSettings
from backends.publish.evidence import Decided

#: what `Status` says in the issue map when the checkpoint scenario passed, failed, or did not run
CHECKPOINT_STATUS = {"PASS": "completed", "FAIL": "blocked"}


@dataclass(frozen=True)
class Facts:
    evidence: Decided
    settings: PublishSettings
    repo: str
    default_branch: str

    # -- names ------------------------------------------------------------------------------------------
    @property
    def session(self) -> str:
        return self.evidence.session_id

    def named(self, value: str) -> str:
        return self.settings.named(value, self.session)

    @property
    def branch(self) -> str:
        return self.named(self.settings.branch)

    @property
    def tag(self) -> str:
        return self.named(self.settings.tag)

    @property
    def version(self) -> str:
        return self.named(self.settings.version)

    @property
    def report_path(self) -> str:
        return self.named(self.settings.report_path)

    @property
    def release_notes_path(self) -> str:
        return self.named(self.settings.release_notes_path)

    @property
    def runbook_path(self) -> str:
        return self.named(self.settings.runbook_path)

    @property
    def issue_map_path(self) -> str:
        return self.named(self.settings.issue_map_path)

    @property
    def subject(self) -> str:
        return f"{self.settings.system} {self.version}"

    @property
    def request_id(self) -> str:
        return f"gateroom-{self.session}"

    # -- what was decided -------------------------------------------------------------------------------
    @property
    def recommendation(self) -> str:
        return self.evidence.summary.label

    @property
    def decision(self) -> str:
        return self.evidence.decision.decision

    @property
    def go(self) -> bool:
        return self.decision == "GO"

    @property
    def decided_by(self) -> str:
        d = self.evidence.decision
        return f"{d.by} ({d.role})" if d.role else d.by

    @property
    def date(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.evidence.decided_at))

    @property
    def decided_at(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.evidence.decided_at))

    @property
    def approval_status(self) -> str:
        return "approved" if self.go else "rejected"

    def decision_line(self) -> str:
        comment = f': "{self.evidence.decision.comment}"' if self.evidence.decision.comment else ""
        signed = ", signed" if self.evidence.decision.signature else ""
        return f"{self.decision} by {self.decided_by} on {self.decided_at}{signed}{comment}"

    # -- scenarios and runs -----------------------------------------------------------------------------
    @property
    def runs(self) -> list[Mapping[str, Any]]:
        return list(self.evidence.runs["runs"]) if self.evidence.runs else []

    @property
    def deviations(self) -> list[Mapping[str, Any]]:
        return list(self.evidence.runs["deviations"]) if self.evidence.runs else []

    def runs_of(self, scenario: str) -> list[Mapping[str, Any]]:
        return [r for r in self.runs if r["scenario"] == scenario]

    @property
    def checkpoint(self) -> str:
        """The checkpoint scenario's status: PASS, FAIL, SKIP, … or `not run`."""
        sc = self.evidence.summary.state.scenarios.get(self.settings.checkpoint_scenario)
        return sc.status if sc is not None else "not run"

    @property
    def checkpoint_status(self) -> str:
        return CHECKPOINT_STATUS.get(self.checkpoint, "in-progress")

    def scenario_counts(self) -> tuple[int, int]:
        scenarios = self.evidence.summary.state.scenarios.values()
        return sum(1 for s in scenarios if s.status == "PASS"), len(scenarios)
