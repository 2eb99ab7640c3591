"""What a simulated agent run does: its pod log, the MCP tools it calls, the statuses it reports.

The real agent reads the issue and works; the sandbox agent recognises a few plain-English requests
in the issue body (the scenarios and probes put them there) and behaves as the platform lets an agent
behave: label changes go through the MCP tools `github_labels_*`, progress through
`run_status_report` (a `status` text only), privileged tools wait for an approval decided in the
staff API (services/internal/control-plane/internal/domain/mcp/model.go).
"""

from __future__ import annotations

from dataclasses import dataclass, field

HINT_MCP_LABELS = "mcp label tools"
HINT_STATUS = "report status"
HINT_APPROVALS = "sync the runtime secret"
HINT_FAIL_ONCE = "fail the first attempt"
HINT_TRIGGER_NEXT = "trigger the next stage yourself"
HINT_WAIT_LONG = "work slowly"
#: the stage an agent would wrongly start itself after each one
NEXT_STAGE = {"intake": "vision", "vision": "prd", "prd": "arch", "arch": "design", "design": "plan"}
PRIVILEGED_TOOLS = ("secret.sync.k8s", "database.lifecycle")
LABEL_TOOLS = ("github_labels_list", "github_labels_add", "github_labels_remove", "github_labels_transition")


@dataclass(frozen=True)
class RunPlan:
    before: list[str]
    after: list[str]
    #: MCP tools called without approval (each a flow event mcp.tool.called + succeeded)
    tools: list[str] = field(default_factory=list)
    #: run_status_report texts, in order
    reports: list[str] = field(default_factory=list)
    #: privileged tools that wait for the owner's decision
    approvals: list[str] = field(default_factory=list)
    fails: bool = False
    failure: list[str] = field(default_factory=list)
    #: a trigger label the agent applies itself through github_labels_add
    triggers_next: str = ""
    #: the run takes several times longer than usual (for checks that watch a live run)
    slow: bool = False


def plan_run(
    *,
    run_id: str,
    kind: str,
    repo: str,
    issue: int,
    model: str,
    reasoning: str,
    body: str,
    secrets_allowed: bool,
    leaked_secret: str | None,
    resumed_from: str = "",
) -> RunPlan:
    text = body.lower()
    before = [
        f"INFO agent-runner starting run={run_id} trigger_kind={kind} model={model} "
        f"reasoning_effort={reasoning}",
        f"INFO cloning {repo} into /workspace (issue #{issue})",
    ]
    if resumed_from:
        before.append(f"INFO restored the agent session of run {resumed_from}")
    if leaked_secret:
        before.append(
            f"DEBUG git remote set-url origin https://x-access-token:{leaked_secret}@github.com/{repo}.git"
        )
    verdict = "allowed" if secrets_allowed else "forbidden"
    before.append(f"INFO kubectl auth can-i get secrets: {verdict}")
    tools = ["github_labels_list"]
    reports = ["reading the issue and the docs"]
    if HINT_MCP_LABELS in text:
        tools = list(LABEL_TOOLS)
    if HINT_STATUS in text:
        reports += ["3 tool calls done, drafting", "starting a long image build"]
    following = NEXT_STAGE.get(kind.removesuffix("_revise"), "") if HINT_TRIGGER_NEXT in text else ""
    after = [
        f"INFO writing docs/delivery/{kind}-issue-{issue}.md",
        f"INFO agent-runner finished run={run_id}",
    ]
    return RunPlan(
        before,
        after,
        tools,
        [*reports, "done, handing over for review"],
        list(PRIVILEGED_TOOLS) if HINT_APPROVALS in text else [],
        fails=HINT_FAIL_ONCE in text and not resumed_from,
        failure=[
            "ERROR workspace checkout failed: remote hung up unexpectedly",
            "ERROR agent-runner exit code 1",
        ],
        triggers_next=f"run:{following}" if following else "",
        slow=HINT_WAIT_LONG in text,
    )
