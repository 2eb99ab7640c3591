"""Result values shared by checks, scenarios and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"  # could not be evaluated (host unreachable, API error)
    SKIP = "SKIP"

    @property
    def finished(self) -> bool:
        return self not in {Status.PENDING, Status.RUNNING}

    @property
    def blocking(self) -> bool:
        """Whether this outcome, unwaived, stands in the way of GO."""
        return self in {Status.FAIL, Status.ERROR, Status.PENDING, Status.RUNNING}


@dataclass(frozen=True)
class CheckResult:
    """What one check observed. `output` is already redacted when it gets here."""

    check_id: str
    area: str  # host / config / github / cluster / rbac / secrets / ...
    title: str
    status: Status
    observed: str = ""
    expected: str = ""
    target: str = ""  # host name, repo, cluster context
    command: str = ""
    output: str = ""
    reason: str = ""  # one line: why it failed, or a note for PASS/WARN
    duration_s: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.target}/{self.check_id}" if self.target else self.check_id

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> CheckResult:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = Status(values.get("status", "ERROR"))
        return cls(**values)


@dataclass
class Waiver:
    item_key: str
    reason: str
    by: str


@dataclass(frozen=True)
class Verdict:
    go: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return "GO" if self.go else "NO-GO"
