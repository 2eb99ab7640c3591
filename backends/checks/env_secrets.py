"""The env file's secrets stay secret: not copied into ordinary keys, the file not world-readable, and
the key files it names readable (as the platform's own preflight requires). Reports name keys only."""

from __future__ import annotations

import os
from pathlib import Path

from backends.checks.env_values import EXPANDED_BY_PREFLIGHT, source_of, unreadable
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.envfile import parse_env
from backends.redact import Redactor, is_secret_key

_SHAPES = Redactor()  # no known values: only the shapes of credentials (tokens, keys, URL passwords)


def echo_problems(values: dict[str, str]) -> list[str]:
    """Non-secret keys that carry a secret: another key's secret value, or a credential's shape."""
    secrets = {k: v for k, v in values.items() if is_secret_key(k) and len(v) >= 8}
    problems = []
    for key, value in values.items():
        if is_secret_key(key) or not value:
            continue
        holders = [s for s, secret in secrets.items() if secret in value]
        if holders:
            problems.append(f"{key} holds the value of {holders[0]} (it would be shown and logged)")
            continue
        kinds = sorted({f.kind for f in _SHAPES.findings(value)})
        if kinds:
            problems.append(f"{key} holds what looks like a credential ({', '.join(kinds)})")
    return problems


@check("config.secrets", area="config", title="Bootstrap env: secrets not echoed", scope=Scope.ENV)
async def secrets(ctx: CheckContext) -> Outcome:
    source = source_of(ctx)
    if source.text is None:
        return unreadable(source)
    env = parse_env(source.text)
    values: dict[str, str] = {}
    for key, entry in env.entries.items():
        values[key] = entry.shell_value
    secret_keys = [k for k in env.entries if is_secret_key(k)]
    set_keys = [k for k in secret_keys if env.entries[k].platform_value]
    problems = echo_problems(values)
    # names and set/empty only: a length or a prefix would already say too much
    listing = [f"{k}: {'set' if k in set_keys else 'empty'}" for k in secret_keys]
    out = {"command": f"parse {source.path}", "output": "\n".join(problems + listing)}
    observed = f"{len(set_keys)}/{len(secret_keys)} secret keys set"
    expected = "secret values only under secret-bearing keys"
    if problems:
        return failed("; ".join(problems), observed, expected, **out)
    return passed(observed, expected, **out)


@check("config.file-mode", area="config", title="Bootstrap env: not world-readable", scope=Scope.ENV)
async def file_mode(ctx: CheckContext) -> Outcome:
    source = source_of(ctx)
    where = source.path if source.target == "local" else f"{source.target}:{source.path}"
    command = f"stat {source.path}" if source.target == "local" else f"stat -c %a {source.path}"
    if source.text is None and source.mode is None:
        return unreadable(source)
    if source.mode is None or not source.mode.isdigit():
        return failed(f"cannot read the mode of {where}", command=command)
    mode = int(source.mode, 8)
    observed, expected = f"mode {source.mode}", "no access for others (e.g. 600)"
    if mode & 0o007:
        what = "world-writable" if mode & 0o002 else "world-readable"
        return failed(
            f"{where} is {what} (mode {source.mode}); it holds tokens: chmod 600",
            observed,
            expected,
            command=command,
        )
    if mode & 0o040:
        return warned(f"{where} is group-readable (mode {source.mode})", observed, expected, command=command)
    return passed(observed, expected, command=command)


def key_file_problem(path: str) -> str | None:
    """What the platform's preflight would say about a key file: it must be a readable file."""
    p = Path(path)
    if p.is_dir():
        return "is a directory"
    if not os.access(p, os.R_OK):
        return "is not readable" if p.exists() else "is missing"
    return None


def _expand(path: str) -> str:
    """As the Go preflight does: os.ExpandEnv, then a leading ~."""
    return os.path.expanduser(os.path.expandvars(path.strip()))


@check("config.key-files", area="config", title="Bootstrap env: key files readable", scope=Scope.ENV)
async def key_files(ctx: CheckContext) -> Outcome:
    """As the platform's preflight, run from this machine with this env file, would find them: the
    key paths name files on the operator's machine, whichever copy of the file names them."""
    source = source_of(ctx)
    if source.text is None:
        return unreadable(source)
    env = parse_env(source.text)
    problems, observed, paths = [], [], []
    for key in sorted(EXPANDED_BY_PREFLIGHT):
        raw = env.get(key)
        if not raw:
            continue  # config.required-keys reports it
        path = _expand(raw)
        paths.append(path)
        problem = key_file_problem(path)
        if problem:
            problems.append(f"{key}: {path} {problem} on this machine")
        else:
            observed.append(f"{key} ok")
    out = {"command": "test -r " + " ".join(paths), "output": "\n".join(problems)}
    expected = "TARGET_ROOT_SSH_KEY and OPERATOR_SSH_PUBKEY_PATH readable"
    if problems:
        return failed("; ".join(problems), ", ".join(observed) or "none readable", expected, **out)
    return passed(", ".join(observed), expected, **out)
