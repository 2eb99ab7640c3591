"""The plan's data model: which checks run, which scenarios, in what groups and priorities."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backends.plan.steps import Step, parse_step

GROUPS = {
    "A": "stage lifecycle",
    "B": "review-driven revise",
    "C": "MCP governance",
    "D": "runtime and infra",
    "E": "security and RBAC",
    "F": "multi-repo and docs governance",
    "L": "label coverage",
    "S": "self-deploy contour",
    "X": "cross-project isolation",
    "O": "repository onboarding and docset governance",
    "R": "runtime build and images",
}


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[A-Z][A-Za-z0-9.-]*$")
    title: str = Field(min_length=1)
    group: Literal["A", "B", "C", "D", "E", "F", "L", "S", "X", "O", "R"]
    priority: Literal["P0", "P1", "P2"] = "P0"
    mode: Literal["auto", "manual"] = "auto"
    covers: list[str] = Field(default_factory=list)
    #: may run beside other parallel scenarios (it uses its own test issue)
    parallel: bool = False
    steps: list[Step] = Field(default_factory=list)
    checklist: list[str] = Field(default_factory=list)
    expected: str = ""

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, raw: Any) -> list[Step]:
        if not isinstance(raw, list):
            raise ValueError("steps is a list")
        return [parse_step(item) for item in raw]

    @model_validator(mode="after")
    def _shape(self) -> Scenario:
        if self.mode == "auto" and not self.steps:
            raise ValueError("an auto scenario needs steps")
        if self.mode == "manual" and not self.checklist:
            raise ValueError("a manual scenario needs a checklist")
        touched = self.touched_labels()
        unbacked = [label for label in self.covers if label not in touched]
        if unbacked:
            raise ValueError(f"covers {unbacked[0]!r} but no step with a source adds, removes or expects it")
        return self

    def touched_labels(self) -> set[str]:
        """Labels of steps that name a platform source: only those count for coverage."""
        return {
            label
            for step in self.steps
            if step.source and isinstance(label := getattr(step, "label", None), str)
        }


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "gate"
    #: globs over check ids, e.g. "host.*"
    checks: list[str] = Field(default_factory=lambda: ["*"])
    scenarios: list[Scenario] = Field(default_factory=list)
    #: every label the catalogue defines; the coverage view shows which no scenario covers
    labels: list[str] = Field(default_factory=list)
    source: str = "<default>"

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        seen: set[str] = set()
        for index, scenario in enumerate(self.scenarios):
            if scenario.id in seen:
                raise ValueError(f"duplicate scenario id {scenario.id!r}|scenarios.{index}.id")
            seen.add(scenario.id)
        return self

    def scenario(self, scenario_id: str) -> Scenario:
        return next(s for s in self.scenarios if s.id == scenario_id)

    def uncovered_labels(self) -> list[str]:
        covered = {label for s in self.scenarios for label in s.covers}
        return [label for label in self.labels if label not in covered]
