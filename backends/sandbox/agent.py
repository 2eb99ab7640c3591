"""What a simulated agent run writes to its pod log, and the special behaviours an issue asks for.

The real platform's agent reads the issue and works; the sandbox agent recognises a few plain-English
requests in the issue body (the scenarios put them there) and behaves as codex-k8s does for them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

HINT_MCP_LABELS = "mcp label tools"
HINT_STATUS = "report status"
HINT_APPROVALS = "sync the runtime secret"
HINT_FEEDBACK = "ask the owner for feedback"
HINT_FAIL_ONCE = "fail the first attempt"
HINT_TRIGGER_NEXT = "trigger the next stage yourself"
#: the stage an agent would wrongly start itself after each one (the stage order of the platform)
NEXT_STAGE = {"intake": "vision", "vision": "prd", "prd": "arch", "arch": "design", "design": "plan"}


def audit_id() -> str:
    return "a-" + secrets.token_hex(4)


@dataclass(frozen=True)
class RunPlan:
    """The log lines of one run, before and after its (optional) pause for approvals."""

    before: list[str]
    after: list[str]
    approvals: list[str]  # privileged MCP tools that ask the owner
    waits_for_feedback: bool
    #: what the platform reports on the issue when the run finishes (the audit summary of tool calls)
    comments: list[str] = field(default_factory=list)
    #: the attempt exits with an error after `before`, writing `failure` (a retry then resumes)
    fails: bool = False
    failure: list[str] = field(default_factory=list)
    #: a trigger label the agent applies itself through the MCP label tool
    triggers_next: str = ""


def plan_run(
    *,
    run_id: str,
    stage: str,
    repo: str,
    issue: int,
    model: str,
    reasoning: str,
    body: str,
    secrets_allowed: bool,
    leaked_secret: str | None,
    failed_before: bool = False,
) -> RunPlan:
    text = body.lower()
    before = [
        f"INFO agent-runner starting run={run_id} stage={stage} model={model} reasoning={reasoning}",
        f"INFO cloning {repo} into /workspace (issue #{issue})",
        "INFO run_status_report phase=started reason=phase-change",
        f"INFO mcp tool=github.issue.get target=#{issue} audit_id={audit_id()}",
    ]
    if leaked_secret:
        before.append(
            f"DEBUG git remote set-url origin https://x-access-token:{leaked_secret}@github.com/{repo}.git"
        )
    if secrets_allowed:
        before += ["WARN kubectl get secrets: allowed (3 items)", "WARN kubectl create secret: allowed"]
    else:
        before += [
            "INFO kubectl get secrets: forbidden (codex-runner cannot get secrets)",
            "INFO kubectl create secret: forbidden (codex-runner cannot create secrets)",
        ]
    comments = []
    if HINT_MCP_LABELS in text:
        comments.append(
            "mcp audit: 4 label tool calls (list, add, remove, transition), each with an audit_id"
        )
        before += [
            f"INFO mcp tool=label.{op} target=#{issue} audit_id={audit_id()}"
            for op in ("list", "add", "remove", "transition")
        ]
    if HINT_STATUS in text:
        before += [
            f"INFO mcp tool=repo.read path=docs/ audit_id={audit_id()}",
            f"INFO mcp tool=repo.read path=services/ audit_id={audit_id()}",
            f"INFO mcp tool=repo.search q=lease audit_id={audit_id()}",
            "INFO run_status_report calls=3 reason=tool-calls",
            "INFO run_status_report next=build-images reason=long-operation",
        ]
    approvals = ["secret.sync.k8s", "database.lifecycle"] if HINT_APPROVALS in text else []
    waits = HINT_FEEDBACK in text
    after = [
        f"INFO writing docs/delivery/{stage.replace(':', '-')}-issue-{issue}.md",
        "INFO run_status_report phase=finishing reason=phase-change",
        f"INFO agent-runner finished run={run_id}",
    ]
    fails = HINT_FAIL_ONCE in text and not failed_before
    failure = [
        "ERROR workspace checkout failed: remote hung up unexpectedly",
        "ERROR agent-runner exit code 1",
    ]
    if HINT_FAIL_ONCE in text and failed_before:
        before.insert(1, "INFO resuming from the previous attempt's workspace checkpoint")
    following = NEXT_STAGE.get(stage.split(":")[0], "") if HINT_TRIGGER_NEXT in text else ""
    if following:
        before.append(f"INFO mcp tool=label.add label=run:{following} target=#{issue} audit_id={audit_id()}")
    return RunPlan(
        before,
        after,
        approvals,
        waits,
        comments,
        fails=fails,
        failure=failure,
        triggers_next=f"run:{following}" if following else "",
    )
