"""Env file values well-formed (URLs, emails, ports, durations, ...), and the file parsed cleanly.

Rules go by key-name suffix, so they cover the platform's whole key family (KODEX_* and the older
CODEXK8S_* alike). Only non-empty values are judged here: empty and placeholder values of required
keys are config.required-keys' business. A secret-bearing key's value is never judged or shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from backends.checks.envsource import EnvSource
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.envfile import EnvFile, is_placeholder, parse_env
from backends.redact import is_secret_key

_EMAIL = re.compile(r"^[^@\s,]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
WEBHOOK_EVENTS_NEEDED = ("issues", "issue_comment", "pull_request", "pull_request_review")
KNOWN_EVENTS = frozenset(
    {
        "push",
        "pull_request",
        "issues",
        "issue_comment",
        "pull_request_review",
        "pull_request_review_comment",
        "create",
        "delete",
        "workflow_run",
        "workflow_job",
        "check_run",
        "check_suite",
        "status",
        "release",
    }
)
# the Go preflight runs these through os.ExpandEnv and ~ expansion itself, so ${HOME} is fine there
EXPANDED_BY_PREFLIGHT = frozenset({"TARGET_ROOT_SSH_KEY", "OPERATOR_SSH_PUBKEY_PATH"})


def source_of(ctx: CheckContext) -> EnvSource:
    source = ctx.env_source
    assert isinstance(source, EnvSource)
    return source


def unreadable(source: EnvSource) -> Outcome:
    return failed(source.error or "env file not readable", command=f"read {source.path}")


def _url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"}:
        return "is not an http(s) URL"
    if not parts.hostname or " " in value:
        return "has no host"
    return None


def _https_url(value: str) -> str | None:
    problem = _url(value)
    if problem is None and not value.startswith("https://"):
        return "must be https"
    return problem


def _email(value: str) -> str | None:
    return None if _EMAIL.match(value) else "is not an email address"


def _emails(value: str) -> str | None:
    bad = [v.strip() for v in value.split(",") if v.strip() and not _EMAIL.match(v.strip())]
    return (
        f"has {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} that are not email addresses" if bad else None
    )


def _port(value: str) -> str | None:
    return None if value.isdigit() and 1 <= int(value) <= 65535 else "is not a port (1-65535)"


def _duration(value: str) -> str | None:
    # bootstrap scripts take bare seconds for some timeouts, Go durations (15m, 1800s) for others
    return None if value.isdigit() or _DURATION.match(value) else "is not a duration (e.g. 15m, 1800s, 900)"


def _boolean(value: str) -> str | None:
    return None if value in {"true", "false"} else 'is not true/false (bootstrap compares to "true")'


def _domain(value: str) -> str | None:
    return None if _HOSTNAME.match(value) else "is not a domain name"


def _repo(value: str) -> str | None:
    return None if _REPO.match(value) else "is not owner/name"


def _events(value: str) -> str | None:
    events = [e.strip() for e in value.split(",") if e.strip()]
    unknown = [e for e in events if e not in KNOWN_EVENTS]
    missing = [e for e in WEBHOOK_EVENTS_NEEDED if e not in events]
    if unknown:
        return f"names unknown event(s) {', '.join(unknown)}"
    if missing:
        return f"lacks {', '.join(missing)} (label triggers need them)"
    return None


Rule = Callable[[str], "str | None"]
#: (key suffix or exact name, what it should be, rule); the first match wins
RULES: tuple[tuple[str, Rule], ...] = (
    ("PUBLIC_BASE_URL", _https_url),
    ("GITHUB_WEBHOOK_EVENTS", _events),
    ("GITHUB_REPO", _repo),
    ("LETSENCRYPT_SERVER", _https_url),
    ("_URL", _url),
    ("_EMAILS", _emails),
    ("_EMAIL", _email),
    ("_MAIL", _email),
    ("_PORT", _port),
    ("_TTL", _duration),
    ("_TIMEOUT", _duration),
    ("_INTERVAL", _duration),
    ("_ENABLED", _boolean),
    ("_DOMAIN", _domain),
)


def rule_for(key: str) -> Rule | None:
    return next((rule for suffix, rule in RULES if key.endswith(suffix)), None)


def value_problems(env: EnvFile) -> list[str]:
    problems = []
    for key, entry in env.entries.items():
        value = entry.shell_value.strip()
        rule = rule_for(key)
        if rule is None or is_secret_key(key) or not value or is_placeholder(value):
            continue
        if "$" in value:  # an unresolved reference: its value is only known on the bootstrap machine
            continue
        problem = rule(value)
        if problem:
            problems.append(f"{key}: {value!r} {problem}")
    url, domain = env.entries.get("KODEX_PUBLIC_BASE_URL"), env.entries.get("KODEX_PRODUCTION_DOMAIN")
    if url and domain and not _url(url.shell_value) and domain.shell_value:
        host = urlsplit(url.shell_value).hostname or ""
        if host != domain.shell_value.lower():
            problems.append(
                f"KODEX_PUBLIC_BASE_URL: host {host!r} is not KODEX_PRODUCTION_DOMAIN "
                f"{domain.shell_value!r} (OAuth redirects would break)"
            )
    return problems


@check("config.values", area="config", title="Bootstrap env: values well-formed", scope=Scope.ENV)
async def values(ctx: CheckContext) -> Outcome:
    source = source_of(ctx)
    if source.text is None:
        return unreadable(source)
    env = parse_env(source.text)
    judged = sum(1 for k, e in env.entries.items() if rule_for(k) and not is_secret_key(k) and e.shell_value)
    problems = value_problems(env)
    out = {"command": f"parse {source.path}", "output": "\n".join(problems)}
    expected = "URLs, emails, ports, durations, domains well-formed"
    if problems:
        head = problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        return failed(head, f"{len(problems)} of {judged} malformed", expected, **out)
    return passed(f"{judged} values well-formed", expected, **out)


@check("config.parse", area="config", title="Bootstrap env: parses cleanly", scope=Scope.ENV)
async def parses(ctx: CheckContext) -> Outcome:
    source = source_of(ctx)
    if source.text is None:
        return unreadable(source)
    env = parse_env(source.text)
    problems = [str(p) for p in env.problems]
    differ = [e.key for e in env.differing() if e.key not in EXPANDED_BY_PREFLIGHT]
    duplicated = [
        f"{e.key} (lines {', '.join(map(str, (*e.overrides, e.line)))})"
        for e in env.entries.values()
        if e.overrides
    ]
    lines = problems + [f"{k}: the preflight and the shell bootstrap read different values" for k in differ]
    lines += [f"{d}: set more than once, the last wins" for d in duplicated]
    out = {"command": f"parse {source.path}", "output": "\n".join(lines)}
    observed = f"{len(env.entries)} keys, {len(problems)} problem line(s)"
    expected = "no problem lines; both readers agree"
    if problems:
        head = problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        return failed(head, observed, expected, **out)
    if differ or duplicated:
        parts = []
        if differ:
            parts.append("preflight and shell read differently: " + ", ".join(differ))
        if duplicated:
            parts.append("set twice: " + ", ".join(duplicated))
        return warned("; ".join(parts), observed, expected, **out)
    return passed(observed, expected, **out)
