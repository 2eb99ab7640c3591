"""The label catalogue keys of the env file (labels-as-vars) agree with each other and the catalogue.

The platform lets an installation rename labels through `KODEX_RUN_*_LABEL`, `KODEX_STATE_*_LABEL`,
`KODEX_NEED_*_LABEL`, `KODEX_AI_MODEL_*_LABEL`, `KODEX_AI_REASONING_*_LABEL` (and the older unprefixed
or `CODEXK8S_` spellings). A rename is allowed; two keys naming one label, a value outside its key's
family, or a `:revise` key without `:revise` are not — the platform would route runs wrongly.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from backends.checks.env_values import source_of, unreadable
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.envfile import parse_env
from backends.errors import ConfigError
from backends.plan.loader import load_plan

LABEL_KEY = re.compile(
    r"^(?:KODEX_|CODEXK8S_)?(?P<family>RUN|STATE|NEED|MODE|AI_MODEL|AI_REASONING)_(?P<name>[A-Z0-9_]+)_LABEL$"
)
FAMILY_SHAPE = {
    "RUN": re.compile(r"^run:[a-z0-9-]+(:revise)?$"),
    "STATE": re.compile(r"^state:[a-z0-9-]+$"),
    "NEED": re.compile(r"^need:[a-z0-9-]+$"),
    "MODE": re.compile(r"^mode:[a-z0-9-]+$"),
    "AI_MODEL": re.compile(r"^\[ai-model-[a-z0-9.-]+\]$"),
    "AI_REASONING": re.compile(r"^\[ai-reasoning-[a-z0-9-]+\]$"),
}


def key_of(label: str) -> str:
    """The unprefixed key part a catalogue label is configured by: `run:intake:revise` → RUN_INTAKE_REVISE."""
    return re.sub(r"[^A-Z0-9]+", "_", label.upper()).strip("_")


@functools.lru_cache(maxsize=4)
def _plan_labels(plan_path: Path | None) -> tuple[str, ...]:
    try:
        return tuple(load_plan(plan_path).labels)
    except ConfigError:
        return ()


def catalogue(ctx: CheckContext) -> tuple[str, ...]:
    labels = ctx.extras.get("labels")
    return tuple(labels) if labels else _plan_labels(ctx.settings.plan)


def label_problems(entries: dict[str, str], known: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(problems, notes) for {key: label} of the env's label keys."""
    canonical = {key_of(label): label for label in known}
    problems, notes = [], []
    by_label: dict[str, list[str]] = {}
    for key, value in entries.items():
        m = LABEL_KEY.match(key)
        assert m is not None
        family, name = m["family"], m["name"]
        if not value:
            continue  # empty: the platform's default label applies
        by_label.setdefault(value, []).append(key)
        if not FAMILY_SHAPE[family].match(value):
            problems.append(f"{key}: {value!r} is not a {family.lower().replace('_', '-')} label")
            continue
        if family == "RUN" and name.endswith("_REVISE") != value.endswith(":revise"):
            problems.append(f"{key}: {value!r} {'lacks' if name.endswith('_REVISE') else 'has'} :revise")
        default = canonical.get(f"{family}_{name}")
        if default is None:
            notes.append(f"{key}: not in the catalogue")
        elif value != default:
            notes.append(f"{key}: renamed {default!r} → {value!r}")
    for label, keys in by_label.items():
        if len(keys) > 1:
            problems.append(f"{' and '.join(keys)} both name {label!r}")
    return problems, notes


@check("config.labels", area="config", title="Bootstrap env: label catalogue keys", scope=Scope.ENV)
async def labels(ctx: CheckContext) -> Outcome:
    source = source_of(ctx)
    if source.text is None:
        return unreadable(source)
    env = parse_env(source.text)
    entries = {k: e.shell_value.strip() for k, e in env.entries.items() if LABEL_KEY.match(k)}
    problems, notes = label_problems(entries, catalogue(ctx))
    out = {"command": f"parse {source.path}", "output": "\n".join(problems + notes)}
    observed = f"{len(entries)} label keys" if entries else "no label keys (catalogue defaults)"
    expected = "distinct labels, each in its key's family"
    if problems:
        head = problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        return failed(head, observed, expected, **out)
    if any("not in the catalogue" in n for n in notes):
        odd = [n.partition(":")[0] for n in notes if "not in the catalogue" in n]
        return warned(f"keys outside the catalogue: {', '.join(odd)}", observed, expected, **out)
    return passed(observed, expected, **out)
