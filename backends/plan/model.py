"""The plan's data model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "gate"
    #: globs over check ids, e.g. "host.*"
    checks: list[str] = Field(default_factory=lambda: ["*"])
    scenarios: list[dict[str, Any]] = Field(default_factory=list)
    source: str = "<default>"
