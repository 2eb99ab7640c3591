"""The run-status comment: one comment per run, edited in place, whose last marker line carries the
run's state as JSON (`<!-- kodex:run-status {json} -->`). The gate reads only that JSON: the prose
above it is Markdown in the platform's locale (ru by default), the JSON is the same in every locale.

Reproduces the reading rules of the platform's helpers.go extractStateMarker: the last line that
starts with the prefix and ends with the suffix wins; a marker without a run id is no marker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

MARKER_PREFIX = "<!-- kodex:run-status "
MARKER_SUFFIX = " -->"

#: the platform's run-status phases in their order (model.go Phase; helpers.go phaseOrder)
PHASES = (
    "created",
    "preparing_runtime",
    "started",
    "auth_required",
    "auth_resolved",
    "ready",
    "finished",
    "namespace_deleted",
)
#: libs/go/domain/run/status.go; "cancelled" is read as canceled too (helpers.go runStatusPriority)
RUN_STATUSES = ("pending", "running", "waiting_backpressure", "succeeded", "failed", "canceled", "cancelled")
TERMINAL_STATUSES = ("succeeded", "failed", "canceled", "cancelled")
ACCESS_PROFILES = ("candidate", "production-readonly")
RUNTIME_MODES = ("full-env", "code-only")


class MarkerError(ValueError):
    """A marker line that is there but cannot be read: says what is wrong in one line."""


@dataclass(frozen=True)
class RunStatus:
    """One reading of a run-status marker (field names as the platform's JSON)."""

    run_id: str
    phase: str
    auth_requested: bool = False
    repository_full_name: str = ""
    issue_number: int = 0
    job_name: str = ""
    job_namespace: str = ""
    runtime_mode: str = ""
    runtime_target_env: str = ""
    runtime_build_ref: str = ""
    runtime_access_profile: str = ""
    namespace: str = ""
    slot_url: str = ""
    issue_url: str = ""
    pull_request_url: str = ""
    trigger_kind: str = ""
    trigger_label: str = ""
    discussion_mode: bool = False
    prompt_locale: str = ""
    model: str = ""
    reasoning_effort: str = ""
    run_status: str = ""
    codex_auth_verification_url: str = ""
    codex_auth_user_code: str = ""
    deleted: bool = False
    already_deleted: bool = False

    @property
    def order(self) -> int:
        return PHASES.index(self.phase) + 1

    @property
    def terminal(self) -> bool:
        return self.phase in ("finished", "namespace_deleted")

    def brief(self) -> str:
        """One line for an actual value: what the marker says, in its own words."""
        parts = [f"run {self.run_id}", f"trigger_kind={self.trigger_kind or '?'}", f"phase={self.phase}"]
        if self.run_status:
            parts.append(f"run_status={self.run_status}")
        if self.namespace:
            parts.append(f"namespace={self.namespace}")
        return " ".join(parts)


_FIELDS = {f.name: f for f in fields(RunStatus)}
_STRINGS = {name for name, f in _FIELDS.items() if f.type == "str"}
_BOOLS = {name for name, f in _FIELDS.items() if f.type == "bool"}


def marker_line(body: str) -> str | None:
    """The marker line the platform would read back, or None when the comment has none."""
    for line in reversed(body.strip().splitlines()):
        line = line.strip()
        if line.startswith(MARKER_PREFIX) and line.endswith(MARKER_SUFFIX):
            return line
    return None


def parse(body: str) -> RunStatus | None:
    """The run state of a comment; None when it is not a run-status comment.

    Raises MarkerError when a marker is present but malformed (bad JSON, no run id, an unknown
    phase or run status, a field of the wrong type): the gate must say so, not skip it silently.
    """
    line = marker_line(body)
    if line is None:
        return None
    raw = line[len(MARKER_PREFIX) : -len(MARKER_SUFFIX)]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MarkerError(f"run-status marker is not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise MarkerError("run-status marker is not a JSON object")
    return _state(data)


def _state(data: dict[str, Any]) -> RunStatus:
    run_id = data.get("run_id")
    if not isinstance(run_id, str) or not run_id.strip():
        raise MarkerError("run-status marker has no run_id")
    phase = data.get("phase")
    if phase not in PHASES:
        raise MarkerError(f"run {run_id}: unknown phase {phase!r} (known: {', '.join(PHASES)})")
    status = data.get("run_status", "")
    if status and status not in RUN_STATUSES:
        raise MarkerError(f"run {run_id}: unknown run_status {status!r}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            continue  # a newer platform may add fields: they are ignored, not an error
        if key in _STRINGS and not isinstance(value, str):
            raise MarkerError(f"run {run_id}: field {key} is not a string")
        if key in _BOOLS and not isinstance(value, bool):
            raise MarkerError(f"run {run_id}: field {key} is not true/false")
        if key == "issue_number" and (not isinstance(value, int) or isinstance(value, bool)):
            raise MarkerError(f"run {run_id}: field issue_number is not a number")
        values[key] = value
    return RunStatus(**values)


def render_marker(state: dict[str, Any]) -> str:
    """A marker line as the platform writes it (Go's encoding/json: compact, `<>&` escaped, empty
    optional fields left out), for the sandbox and for tests."""
    ordered = [k for k in _FIELDS if k in state] + [k for k in state if k not in _FIELDS]
    kept = {k: state[k] for k in ordered if k in ("run_id", "phase") or state[k] not in ("", 0, False, None)}
    raw = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"{MARKER_PREFIX}{raw}{MARKER_SUFFIX}"
