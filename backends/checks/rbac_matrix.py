"""The agent RBAC matrix: which questions the gate asks the API server for each agent account, and
the text form the answers are kept in (the check's output), which the security pane reads back.

The questions follow docs/architecture/agent_runtime_rbac.md of codex-k8s: an agent may use kubectl on
the workloads of its own run namespace and never touch `secrets`; `run:postdeploy`/`run:ops` agents
work in production with a read-only profile.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the worker's run service account (KODEX_WORKER_RUN_SERVICE_ACCOUNT) and the production read-only one
RUN_ACCOUNT = "codex-runner"
PROD_ACCOUNT = "codex-runner-readonly"

SECRET_VERBS = ("get", "list", "watch", "create")
#: (resource, API group, verb, allowed?) an agent in its run namespace must be answered
RUN_PROFILE: tuple[tuple[str, str, str, bool], ...] = (
    *(("secrets", "", v, False) for v in SECRET_VERBS),
    ("pods", "", "list", True),
    ("pods", "", "create", True),
    ("pods", "", "delete", True),
    ("pods/log", "", "get", True),
    ("configmaps", "", "get", True),
    ("services", "", "create", True),
    ("deployments", "apps", "create", True),
    ("deployments", "apps", "patch", True),
    ("jobs", "batch", "create", True),
)
#: the read-only production profile
PROD_PROFILE: tuple[tuple[str, str, str, bool], ...] = (
    *(("secrets", "", v, False) for v in SECRET_VERBS),
    ("pods", "", "list", True),
    ("pods/log", "", "get", True),
    ("configmaps", "", "get", True),
    ("pods", "", "create", False),
    ("pods", "", "delete", False),
    ("deployments", "apps", "patch", False),
)


@dataclass(frozen=True)
class Cell:
    account: str  # namespace/serviceaccount
    resource: str
    verb: str
    expected: bool
    allowed: bool

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed

    def line(self) -> str:
        want = "allow" if self.expected else "deny"
        got = "allowed" if self.allowed else "denied"
        verdict = "ok" if self.ok else "WRONG"
        return f"{self.account} {self.resource} {self.verb} expect={want} answer={got} {verdict}"


def parse(output: str) -> list[Cell]:
    """The cells of a matrix written by `Cell.line` (other lines are ignored)."""
    cells = []
    for raw in output.splitlines():
        parts = raw.split()
        if len(parts) != 6 or not parts[3].startswith("expect=") or not parts[4].startswith("answer="):
            continue
        cells.append(
            Cell(parts[0], parts[1], parts[2], parts[3] == "expect=allow", parts[4] == "answer=allowed")
        )
    return cells
