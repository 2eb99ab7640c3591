"""Load and validate a plan file; every problem is one line naming the file, the line and the reason."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from backends.errors import ConfigError
from backends.plan.model import Plan
from backends.plan.steps import StepError

DEFAULT_PLAN = "default_plan.yaml"

Path_ = tuple[str | int, ...]


def _line_map(node: yaml.Node, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """The source line (1-based) of every value in the document, keyed by its path."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)
    return out


def _line_for(lines: dict[Path_, int], loc: Path_) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _error_location(exc: ValidationError, data: Any) -> tuple[Path_, str]:
    err = exc.errors()[0]
    loc: Path_ = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}"
    ctx_error = err.get("ctx", {}).get("error") if err.get("ctx") else None
    if isinstance(ctx_error, StepError) and loc and loc[-1] == "steps":
        # a step error from the list validator: find which step by re-parsing each one
        steps = _get(data, loc) or []
        for index, raw in enumerate(steps):
            try:
                from backends.plan.steps import parse_step

                parse_step(raw)
            except StepError as step_err:
                kind = next(iter(raw)) if isinstance(raw, dict) and raw else None
                where: Path_ = (*loc, index)
                if kind is not None and step_err.field:
                    where = (*where, kind, step_err.field)
                return where, str(step_err)
    if "|" in msg:  # a model validator names the path it refers to after a bar
        msg, dotted = msg.split("|", 1)
        loc = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
    return loc, msg


def _get(data: Any, loc: Path_) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def parse_plan(text: str, source: str) -> Plan:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark else "?"
        raise ConfigError(f"{source}: {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{source}: line 1: a plan is a mapping with name, checks and scenarios")
    try:
        return Plan.model_validate({**data, "source": source})
    except ValidationError as exc:
        loc, msg = _error_location(exc, data)
        line = _line_for(_line_map(node), loc)
        # inside a step the message names the step and its field; the path stops at the step
        shown = loc[: loc.index("steps") + 2] if "steps" in loc else loc
        dotted = ".".join(str(p) for p in shown)
        raise ConfigError(f"{source}: line {line}: {dotted}: {msg}") from None


def load_plan(path: str | Path | None = None) -> Plan:
    if path is None:
        text = resources.files("backends.plan").joinpath(DEFAULT_PLAN).read_text(encoding="utf-8")
        return parse_plan(text, "<default plan>")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_plan(text, str(path))
