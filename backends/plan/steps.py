"""The scenario step vocabulary: a few actions and a few expectations, each one line in a plan.

A step is a one-key mapping, `{kind: arguments}`; a scalar argument fills the step's first field, so
`- add_label: run:intake` and `- add_label: {label: run:intake, target: issue}` mean the same.
Every step but `wait` names in `source:` the platform file whose behaviour it relies on (the plan
loader refuses one without), so only steps with a source count for label coverage. Expectations
read the platform's real signals, never free prose: the run-status comment's JSON marker, the reason
code of a "run not created" warning, labels, namespaces by `kodex.works/*` keys, flow events and
approvals from the staff API.

Actions (idempotent, so a resumed scenario never repeats a side effect):
  create_issue     {repo: platform|project, title, body}
  add_label        {label, target: issue|pr}            a trigger; records the comment watermark
  remove_label     {label, target: issue|pr}
  comment          {body}
  review           {event: APPROVE|REQUEST_CHANGES|COMMENT, body}   on the scenario's PR; a trigger
  decide_approval  {tool, decision: approved|denied}    through the staff API
  docset           {operation: import|sync, repository, docset_ref, locale, groups}
                   the platform opens its docset pull request in the bound repository (staff API)
  wait             {duration}
Expectations (each polls until it holds or `within` runs out):
  expect_run       {trigger_kind, phase, run_status, model, reasoning_effort, access_profile,
                    runtime_mode, namespace, repository, target: issue|pr}
                   a run started since the last trigger reaches the phase (and status)
  expect_no_run    {within, target}                      no run and no refusal appears
  expect_refusal   {reason_code, target, need_input}     "run not created" with this reason code
  expect_conflict  {label}                               a trigger-label conflict for `label`
  expect_label     {label, present, target}
  expect_namespace {labels, annotations, present}        the current run's namespace
  expect_workload  {}                                    Job kodex-run-<run id> (or bare Pod)
  expect_same_namespace {kinds}                          the runs of these kinds share a namespace
  expect_lease_extended {}                               the namespace lease moved later
  expect_flow_event {event_type, match, count}           staff API flow events of the current run
  expect_approval  {tool, status}                        staff API approval of the current run
  expect_access    {account, verb, resource, allowed}    SubjectAccessReview in the run namespace
  expect_pr        {state: open|closed|any|none}
  expect_no_secrets {}                                   no secret in the runs' pod logs or comments
  expect_deploy    {of: run|branch, repository, branch, status}
                   the runtime deploy task (staff API) of the current run, or of the push to a branch's
                   head commit (a self-deploy), reaches the status; its build stage is the evidence
  expect_rollout   {namespace, migrations_job}          the workloads run the deploy's images, rolled out
  expect_project   {repository}                         the run (staff API) and its namespace
                                                        (kodex.works/project-id) are the repository's project
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backends.plan.durations import parse_duration

#: a real platform answers a label within minutes; a run of a full-env stage takes up to 45 minutes (the
#: first build alone may take 30: the Kaniko timeout is 1800 s). `[timing] scale` shrinks these.
DEFAULT_WITHIN = 600.0
RUN_WITHIN = 2700.0


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str = ""
    action: bool = False
    #: the platform file whose behaviour this step relies on (backends/signals/sources.py)
    source: str = ""

    def describe(self) -> str:
        args = " ".join(
            f"{k}={v}"
            for k, v in self.model_dump(exclude={"kind", "action", "source"}).items()
            if v not in (None, "", {}, [])
        )
        return f"{self.kind} {args}".strip()


class _Timed(_Step):
    within: float = DEFAULT_WITHIN

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return parse_duration(v)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regex {value!r}: {exc}") from None
    return value


class CreateIssue(_Step):
    repo: Literal["platform", "project"] = "platform"
    title: str = Field(min_length=1)
    body: str = ""


class AddLabel(_Step):
    label: str = Field(min_length=1)
    target: Literal["issue", "pr"] = "issue"


class RemoveLabel(AddLabel):
    pass


class Comment(_Step):
    body: str = Field(min_length=1)


class Review(_Step):
    event: Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"]
    body: str = "review from the gate"


class Wait(_Step):
    duration: float

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return parse_duration(v)


class ExpectLabel(_Timed):
    label: str = Field(min_length=1)
    present: bool = True
    target: Literal["issue", "pr"] = "issue"


Target = Literal["issue", "pr"]


class DecideApproval(_Step):
    tool: str = Field(min_length=1)
    decision: Literal["approved", "denied"] = "approved"


class ExpectRun(_Timed):
    within: float = RUN_WITHIN
    trigger_kind: str = Field(min_length=1)
    phase: str = "finished"
    #: default: succeeded when the phase is finished; "" accepts any
    run_status: str | None = None
    model: str = ""
    reasoning_effort: str = ""
    access_profile: str = ""
    runtime_mode: str = ""
    namespace: str = ""
    repository: Literal["", "platform", "project"] = ""
    target: Target = "issue"

    @field_validator("phase")
    @classmethod
    def _phase(cls, v: str) -> str:
        from backends.signals.runstatus import PHASES

        if v not in PHASES:
            raise ValueError(f"unknown phase {v!r} (the platform's: {', '.join(PHASES)})")
        return v

    def wanted_status(self) -> str:
        if self.run_status is not None:
            return self.run_status
        return "succeeded" if self.phase == "finished" else ""


class ExpectNoRun(_Timed):
    target: Target = "issue"


class ExpectRefusal(_Timed):
    reason_code: str = Field(min_length=1)
    target: Target = "issue"
    need_input: bool = True


class ExpectConflict(_Timed):
    label: str = Field(min_length=1)


class ExpectNamespace(_Timed):
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: list[str] = Field(default_factory=list)
    present: bool = True


class ExpectWorkload(_Timed):
    pass


class ExpectFlowEvent(_Timed):
    event_type: str = Field(min_length=1)
    match: str = ""
    count: int = 1

    @field_validator("match")
    @classmethod
    def _valid(cls, v: str) -> str:
        return _regex(v) if v else v


class ExpectApproval(_Timed):
    tool: str = Field(min_length=1)
    status: str = "pending"


class ExpectAccess(_Timed):
    account: str = "codex-runner"
    verb: str = "get"
    resource: str = "secrets"
    allowed: bool = False


class ExpectPr(_Timed):
    state: Literal["open", "closed", "any", "none"] = "open"


class ExpectLeaseExtended(_Timed):
    pass


class ExpectSameNamespace(_Timed):
    kinds: list[str] = Field(default_factory=list)


class ExpectNoSecrets(_Timed):
    pass


Repository = Literal["platform", "project"]
DeployStatus = Literal["pending", "running", "succeeded", "failed", "canceled"]


class ExpectDeploy(_Timed):
    within: float = RUN_WITHIN
    #: whose runtime deploy: the current run's, or the one a push to `branch` of `repository` started
    of: Literal["run", "branch"] = "run"
    repository: Repository = "platform"
    #: "" = the repository's default branch
    branch: str = ""
    status: DeployStatus = "succeeded"


class ExpectRollout(_Timed):
    #: "" = the namespace the deploy went to
    namespace: str = ""
    #: the deploy's migrations Job ("" when the stack has none)
    migrations_job: str = "kodex-migrate"


class ExpectProject(_Timed):
    repository: Repository = "platform"


class Docset(_Step):
    operation: Literal["import", "sync"]
    repository: Repository = "project"
    docset_ref: str = Field(default="main", min_length=1)
    locale: Literal["ru", "en"] = "ru"
    #: import only; none = the manifest's default groups
    groups: list[str] = Field(default_factory=list)


STEP_TYPES: dict[str, tuple[type[_Step], str, bool]] = {
    # kind: (model, the field a scalar fills, is an action)
    "create_issue": (CreateIssue, "title", True),
    "add_label": (AddLabel, "label", True),
    "remove_label": (RemoveLabel, "label", True),
    "comment": (Comment, "body", True),
    "review": (Review, "event", True),
    "decide_approval": (DecideApproval, "tool", True),
    "wait": (Wait, "duration", True),
    "expect_run": (ExpectRun, "trigger_kind", False),
    "expect_no_run": (ExpectNoRun, "within", False),
    "expect_refusal": (ExpectRefusal, "reason_code", False),
    "expect_conflict": (ExpectConflict, "label", False),
    "expect_label": (ExpectLabel, "label", False),
    "expect_namespace": (ExpectNamespace, "present", False),
    "expect_workload": (ExpectWorkload, "within", False),
    "expect_same_namespace": (ExpectSameNamespace, "kinds", False),
    "expect_lease_extended": (ExpectLeaseExtended, "within", False),
    "expect_flow_event": (ExpectFlowEvent, "event_type", False),
    "expect_approval": (ExpectApproval, "tool", False),
    "expect_access": (ExpectAccess, "resource", False),
    "expect_pr": (ExpectPr, "state", False),
    "expect_no_secrets": (ExpectNoSecrets, "within", False),
    "expect_deploy": (ExpectDeploy, "of", False),
    "expect_rollout": (ExpectRollout, "namespace", False),
    "expect_project": (ExpectProject, "repository", False),
    "docset": (Docset, "operation", True),
}

#: what counts as a trigger for the comment watermark (runs and refusals after it belong to it)
TRIGGERS = ("add_label", "review")

Step = _Step


class StepError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def parse_step(raw: Any) -> Step:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise StepError("a step is a one-key mapping such as `add_label: run:intake`")
    ((kind, args),) = raw.items()
    if kind not in STEP_TYPES:
        raise StepError(f"unknown step {kind!r} (known: {', '.join(STEP_TYPES)})")
    model, scalar_field, is_action = STEP_TYPES[kind]
    if args is None:
        args = {}
    elif not isinstance(args, dict):
        args = {scalar_field: args}
    try:
        step = model.model_validate({**args, "kind": kind, "action": is_action})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown argument"
        raise StepError(f"{kind}: {field + ': ' if field else ''}{msg}", field) from None
    if kind != "wait" and not step.source.strip():
        raise StepError(
            f"{kind}: source: name the platform file whose behaviour this step relies on (source: PATH)",
            "source",
        )
    return step
