"""What a scenario has learned so far (its issue, PR, runs), rebuilt from evidence on resume."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RUN_COMMENT = re.compile(r"codex-k8s: run (?P<run>\S+) stage=(?P<stage>\S+) phase=(?P<phase>\S+)(?P<rest>.*)")
KV = re.compile(r"(\w[\w.-]*)=(\S+)")


@dataclass
class RunInfo:
    run_id: str
    stage: str
    namespace: str = ""
    leases: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)


@dataclass
class ScenarioContext:
    scenario_id: str
    attempt: int = 1
    repo: str = ""
    issue: int | None = None
    issue_url: str = ""
    pr: int | None = None
    pr_url: str = ""
    #: this attempt began in an earlier process: a step not recorded as done may still have happened
    #: (the process can stop after the side effect and before the evidence reached the disk)
    resumed: bool = False
    #: add_label step index -> how many add_label steps of the same label and target up to it
    occurrence: dict[int, int] = field(default_factory=dict)

    def marker(self, session_id: str, step_index: int | None = None) -> str:
        """A hidden tag in what the gate writes, so a resumed session can find its own side effects."""
        step = f":{step_index}" if step_index is not None else ""
        return f"<!-- gateroom:{session_id}:{self.scenario_id}:{self.attempt}{step} -->"

    def learn(self, detail: dict[str, Any]) -> None:
        for key in ("repo", "issue", "issue_url", "pr", "pr_url", "attempt"):
            if key in detail and detail[key] not in (None, ""):
                setattr(self, key, detail[key])


def runs_from_comments(bodies: list[str]) -> dict[str, RunInfo]:
    """The platform's service comments, folded into one record per run id."""
    runs: dict[str, RunInfo] = {}
    for body in bodies:
        for line in body.splitlines():
            m = RUN_COMMENT.search(line)
            if not m:
                continue
            info = runs.setdefault(m["run"], RunInfo(m["run"], m["stage"]))
            info.phases.append(m["phase"])
            values = dict(KV.findall(m["rest"]))
            if values.get("namespace"):
                info.namespace = values["namespace"]
            if values.get("lease"):
                info.leases.append(values["lease"])
    return runs
