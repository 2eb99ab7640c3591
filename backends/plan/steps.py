"""The scenario step vocabulary: a few actions and a few expectations, each one line in a plan.

A step is a one-key mapping, `{kind: arguments}`; a scalar argument fills the step's first field, so
`- add_label: run:intake` and `- add_label: {label: run:intake, target: issue}` mean the same.

Actions (they change the world; each is idempotent, so a resumed scenario never repeats a side effect):
  create_issue   {repo: platform|project, title, body}     open the scenario's test issue
  add_label      {label, target: issue|pr}                 no-op (still recorded) if already there
  remove_label   {label, target: issue|pr}
  comment        {body}
  review         {event: APPROVE|REQUEST_CHANGES|COMMENT, body}   on the scenario's PR
  wait           {duration}
Expectations (they observe; each polls until it holds or `within` runs out):
  expect_label      {label, present: true, target: issue|pr, within}
  expect_namespace  {selector, present: true, within}          a run namespace (label selector)
  expect_pod_log    {match (regex), within}                    a line of the scenario's agent pod
  expect_comment    {match (regex), within}                    a platform comment on the issue
  expect_rejected   {match (regex), within}                    the run was refused with a diagnostic
  expect_pr         {state: open, within}                      a PR linked to the issue (none: no PR appears)
  expect_lease_extended {within}                               the run namespace's lease moved later
  expect_same_namespace {within}                               a revise reused the first run's namespace
  expect_no_secrets {within}                                   no secret in the run's pod log or comments
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backends.plan.durations import parse_duration

DEFAULT_WITHIN = 60.0


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str = ""
    action: bool = False

    def describe(self) -> str:
        args = " ".join(
            f"{k}={v}" for k, v in self.model_dump(exclude={"kind", "action"}).items() if v not in (None, "")
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


class ExpectNamespace(_Timed):
    selector: str = "kodex.works/namespace-purpose=run"
    present: bool = True


class _Match(_Timed):
    match: str

    @field_validator("match")
    @classmethod
    def _valid(cls, v: str) -> str:
        return _regex(v)


class ExpectPodLog(_Match):
    pass


class ExpectComment(_Match):
    pass


class ExpectRejected(_Match):
    pass


class ExpectPr(_Timed):
    state: Literal["open", "closed", "any", "none"] = "open"


class ExpectLeaseExtended(_Timed):
    pass


class ExpectSameNamespace(_Timed):
    pass


class ExpectNoSecrets(_Timed):
    pass


STEP_TYPES: dict[str, tuple[type[_Step], str, bool]] = {
    # kind: (model, the field a scalar fills, is an action)
    "create_issue": (CreateIssue, "title", True),
    "add_label": (AddLabel, "label", True),
    "remove_label": (RemoveLabel, "label", True),
    "comment": (Comment, "body", True),
    "review": (Review, "event", True),
    "wait": (Wait, "duration", True),
    "expect_label": (ExpectLabel, "label", False),
    "expect_namespace": (ExpectNamespace, "selector", False),
    "expect_pod_log": (ExpectPodLog, "match", False),
    "expect_comment": (ExpectComment, "match", False),
    "expect_rejected": (ExpectRejected, "match", False),
    "expect_pr": (ExpectPr, "state", False),
    "expect_lease_extended": (ExpectLeaseExtended, "within", False),
    "expect_same_namespace": (ExpectSameNamespace, "within", False),
    "expect_no_secrets": (ExpectNoSecrets, "within", False),
}

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
        return model.model_validate({**args, "kind": kind, "action": is_action})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown argument"
        raise StepError(f"{kind}: {field + ': ' if field else ''}{msg}", field) from None
