"""Checks of the kodex bootstrap env file: the keys the platform's own preflight requires."""

from __future__ import annotations

from backends.checks.envsource import EnvSource
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.envfile import REQUIRED_KEYS, EnvFile, is_placeholder, parse_env


def _source(ctx: CheckContext) -> EnvSource:
    source = ctx.env_source
    assert isinstance(source, EnvSource)
    return source


def _value(env: EnvFile, key: str) -> str:
    return env.get(key)


def _old_spelling(env: EnvFile, key: str) -> bool:
    """Set only as CODEXK8S_*: the spelling before the rename to kodex (platform commit dd2b6ef3),
    which the current platform no longer reads."""
    return key.startswith("KODEX_") and bool(env.get("CODEXK8S_" + key.removeprefix("KODEX_")).strip())


@check("config.required-keys", area="config", title="Bootstrap env: required keys", scope=Scope.ENV)
async def required_keys(ctx: CheckContext) -> Outcome:
    source = _source(ctx)
    if source.text is None:
        return failed(source.error or "env file not readable", command=f"read {source.path}")
    env = parse_env(source.text)
    values = {k: _value(env, k) for k in REQUIRED_KEYS}
    missing = [k for k, v in values.items() if not v.strip()]
    placeholders = [k for k, v in values.items() if k not in missing and is_placeholder(v)]
    present = len(REQUIRED_KEYS) - len(missing) - len(placeholders)
    observed = f"{present}/{len(REQUIRED_KEYS)} set"
    expected = f"all {len(REQUIRED_KEYS)} required keys set"
    # the output lists key names only: values may be secrets
    old = [k for k in missing if _old_spelling(env, k)]
    lines = [
        f"{k}: missing"
        + (f" (set as CODEXK8S_{k.removeprefix('KODEX_')}, which kodex ignores)" if k in old else "")
        for k in missing
    ] + [f"{k}: placeholder value" for k in placeholders]
    out = {"command": f"parse {source.path}", "output": "\n".join(lines)}
    if missing or placeholders:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if old:
            parts.append(f"{len(old)} only under the old CODEXK8S_ names, which the current platform ignores")
        if placeholders:
            parts.append("placeholder " + ", ".join(placeholders))
        return failed("; ".join(parts), observed, expected, **out)
    if not _value(env, "KODEX_OPENAI_API_KEY").strip():
        return warned("KODEX_OPENAI_API_KEY is empty (the platform warns too)", observed, expected, **out)
    return passed(observed, expected, **out)
