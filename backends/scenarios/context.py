"""What a scenario has learned so far (its issue, PR, runs), rebuilt from evidence on resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backends.signals.thread import ThreadSignals


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
    #: steps of this attempt that an earlier process announced and never concluded: their side effect
    #: may or may not have happened
    interrupted: set[int] = field(default_factory=set)
    #: add_label step index -> how many add_label steps of the same label and target up to it
    occurrence: dict[int, int] = field(default_factory=dict)
    #: the highest comment id on the issue and its PR before the last trigger: runs and refusals
    #: answering that trigger appear after it (GitHub comment ids only grow)
    watermark: int = 0
    #: the run the last expect_run matched, and every matched run (id -> trigger kind, namespace)
    run_id: str = ""
    runs: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: run id -> where its agent workload runs (the run namespace, or the worker's for code-only runs)
    workloads: dict[str, str] = field(default_factory=dict)
    #: lease expiry seen per namespace, in order (RFC 3339)
    leases: dict[str, list[str]] = field(default_factory=dict)
    #: the runtime deploy the last expect_deploy found: run_id, namespace, build_ref, status and the
    #: image each build image of the stack was built or found as ({name: repository:tag})
    deploy: dict[str, Any] = field(default_factory=dict)
    #: what the platform said, followed across polls (not persisted: re-read from GitHub on resume)
    signals: ThreadSignals = field(default_factory=ThreadSignals)

    def marker(self, session_id: str, step_index: int | None = None) -> str:
        """A hidden tag in what the gate writes, so a resumed session can find its own side effects."""
        step = f":{step_index}" if step_index is not None else ""
        return f"<!-- gateroom:{session_id}:{self.scenario_id}:{self.attempt}{step} -->"

    def learn(self, detail: dict[str, Any]) -> None:
        for key in ("repo", "issue", "issue_url", "pr", "pr_url", "attempt", "watermark"):
            if key in detail and detail[key] not in (None, ""):
                setattr(self, key, detail[key])
        if detail.get("run_id") and detail.get("trigger_kind"):
            self.run_id = str(detail["run_id"])
            self.runs[self.run_id] = (str(detail["trigger_kind"]), str(detail.get("namespace", "")))
            if detail.get("job_namespace"):
                self.workloads[self.run_id] = str(detail["job_namespace"])
        if isinstance(detail.get("deploy"), dict) and detail["deploy"]:
            self.deploy = dict(detail["deploy"])
            if self.deploy.get("of") == "branch":  # a push's deploy-only run: what later steps ask about
                self.run_id = str(self.deploy.get("run_id", "")) or self.run_id
        for namespace, stamp in detail.get("leases", {}).items():
            seen = self.leases.setdefault(namespace, [])
            if stamp and (not seen or seen[-1] != stamp):
                seen.append(stamp)

    def note_lease(self, namespace: str, stamp: str) -> None:
        self.learn({"leases": {namespace: stamp}})

    def namespace(self) -> str:
        return self.runs.get(self.run_id, ("", ""))[1]
