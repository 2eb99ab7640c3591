"""Load and validate a plan file; problems are one line naming the file and where."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from backends.errors import ConfigError
from backends.plan.model import Plan

DEFAULT_PLAN = "default_plan.yaml"


def _parse(text: str, source: str) -> Plan:
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark else "?"
        raise ConfigError(f"{source}: {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a plan is a mapping with name, checks and scenarios")
    try:
        return Plan.model_validate({**data, "source": source})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{source}: {loc}: {err['msg']}") from None


def load_plan(path: str | Path | None = None) -> Plan:
    if path is None:
        text = resources.files("backends.plan").joinpath(DEFAULT_PLAN).read_text(encoding="utf-8")
        return _parse(text, "<default plan>")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return _parse(text, str(path))
