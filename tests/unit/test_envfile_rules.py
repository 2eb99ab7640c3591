"""The env file's rules, table-driven: tricky lines read as the platform's two readers read them (the
shell view checked against real bash), and the value, label and secret rules of the config checks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backends.checks.env_labels import key_of, label_problems
from backends.checks.env_secrets import echo_problems
from backends.checks.env_values import rule_for, value_problems
from backends.envfile import parse_env

ENV = {"HOME": "/root", "EMPTY": ""}

# (id, line, Go preflight's view, bash's view after `set -a; source`)
LINES: list[tuple[str, str, str, str]] = [
    ("export-many-spaces", "export   A=v", "v", "v"),
    ("indented-export", '  export A="x"', "x", "x"),
    ("single-then-double", "A='x'\"y\"", "x'\"y", "xy"),
    ("braced-bare", "A=${HOME}/.ssh", "${HOME}/.ssh", "/root/.ssh"),
    ("default-no-colon", 'A="${A_UNSET-def}"', "${A_UNSET-def}", "def"),
    ("default-on-empty", 'A="${EMPTY:-d}"', "${EMPTY:-d}", "d"),
    ("default-when-set", 'A="${HOME:-/x}"', "${HOME:-/x}", "/root"),
    ("empty-then-comment", 'A=""  # comment', "  # comment", ""),
    ("blank-then-comment", "A= # c", "# c", ""),
    ("tab-comment", "A=v\t# c", "v\t# c", "v"),
    ("escaped-single", "A='it'\\''s'", "it'\\''s", "it's"),
    ("quoted-then-bare", 'A="$HOME"x', '$HOME"x', "/rootx"),
    ("escaped-dollar-bare", "A=\\$HOME", "\\$HOME", "$HOME"),
    ("escaped-hash-bare", "A=a\\#b", "a\\#b", "a#b"),
    ("hash-in-single", "A='a # b'", "a # b", "a # b"),
    ("trailing-blanks", 'A="multi word"   ', "multi word", "multi word"),
    ("unicode", 'A="héllo"', "héllo", "héllo"),
    ("lone-single-in-double", 'A="\'"', "'", "'"),
    ("empty-single", "A=''", "", ""),
    ("trailing-dollar", "A=x$", "x$", "x$"),
    ("double-then-single", "A=\"${HOME}\"'/x'", "${HOME}\"'/x", "/root/x"),
    ("ansi-c-tab", "A=$'x\\ty'", "$'x\\ty", "x\ty"),
    ("ansi-c-quote", "A=$'it\\'s'", "$'it\\'s", "it's"),
    ("ansi-c-hex", "A=$'\\x41b'", "$'\\x41b", "Ab"),
    ("locale-double", 'A=$"x y"', '$"x y', "x y"),
    ("double-escape-kept", 'A="a\\tb"', "a\\tb", "a\\tb"),
]


@pytest.mark.parametrize(("line", "platform", "shell"), [t[1:] for t in LINES], ids=[t[0] for t in LINES])
def test_line_views(line: str, platform: str, shell: str) -> None:
    env = parse_env(line + "\n", ENV)
    assert not env.problems, env.problems
    entry = env.entries["A"]
    assert entry.platform_value == platform
    assert entry.shell_value == shell


def _go_reader(line: str) -> str:
    """cmd/codex-bootstrap/internal/envfile.Load, line by line, as the Go code reads."""
    s = line.strip()
    if s.startswith("export "):
        s = s.removeprefix("export ").strip()
    return s.partition("=")[2].strip().strip("'").strip('"')


@pytest.mark.parametrize(("line", "platform"), [(t[1], t[2]) for t in LINES], ids=[t[0] for t in LINES])
def test_platform_view_is_the_go_readers(line: str, platform: str) -> None:
    assert _go_reader(line) == platform


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
@pytest.mark.parametrize(("line", "shell"), [(t[1], t[3]) for t in LINES], ids=[t[0] for t in LINES])
def test_shell_view_is_bashs(tmp_path: Path, line: str, shell: str) -> None:
    path = tmp_path / "config.env"
    path.write_text(line + "\n", encoding="utf-8")
    script = 'set -euo pipefail; set -a; source "$1"; set +a; printf "%s" "$A"'
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script, "_", str(path)],
        capture_output=True,
        env={**ENV, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == shell


def test_unterminated_ansi_c_quote_is_a_problem() -> None:
    env = parse_env("A=$'open\nB=1\n", ENV)
    assert "A" not in env.entries
    assert env.problems and "unterminated $'...'" in env.problems[0].message


# --- value rules: (key, value, problem words or None) ---

VALUES: list[tuple[str, str, str | None]] = [
    ("KODEX_PUBLIC_BASE_URL", "https://platform.kodex.dev", None),
    ("KODEX_PUBLIC_BASE_URL", "http://platform.kodex.dev", "must be https"),
    ("KODEX_PUBLIC_BASE_URL", "platform.kodex.dev", "not an http(s) URL"),
    ("KODEX_GITHUB_WEBHOOK_URL", "https://", "has no host"),
    ("KODEX_LETSENCRYPT_EMAIL", "ops@kodex.dev", None),
    ("KODEX_LETSENCRYPT_EMAIL", "ops-at-kodex.dev", "not an email"),
    ("KODEX_BOOTSTRAP_ALLOWED_EMAILS", "a@x.dev, b@y.dev", None),
    ("KODEX_BOOTSTRAP_ALLOWED_EMAILS", "a@x.dev,b", "1 entry"),
    ("KODEX_GIT_BOT_MAIL", "codex-bot@codex-k8s.local", None),
    ("TARGET_PORT", "22", None),
    ("TARGET_PORT", "22x", "not a port"),
    ("KODEX_SSH_PORT", "70000", "not a port"),
    ("KODEX_JWT_TTL", "15m", None),
    ("KODEX_KANIKO_TIMEOUT", "1800s", None),
    ("KODEX_DNS_WAIT_TIMEOUT", "900", None),
    ("KODEX_HELM_TIMEOUT", "1h30m", None),
    ("KODEX_JWT_TTL", "15 minutes", "not a duration"),
    ("KODEX_FIREWALL_ENABLED", "true", None),
    ("KODEX_FIREWALL_ENABLED", "yes", "not true/false"),
    ("KODEX_AI_DOMAIN", "ai.kodex.dev", None),
    ("KODEX_AI_DOMAIN", "https://ai.kodex.dev", "not a domain"),
    ("KODEX_GITHUB_REPO", "codex-k8s/codex-k8s", None),
    ("KODEX_GITHUB_REPO", "codex-k8s", "not owner/name"),
    ("KODEX_GITHUB_WEBHOOK_EVENTS", "push,pull_request,issues,issue_comment,pull_request_review", None),
    ("KODEX_GITHUB_WEBHOOK_EVENTS", "push,issues", "lacks issue_comment"),
    (
        "KODEX_GITHUB_WEBHOOK_EVENTS",
        "issues,issue_comment,pull_request,pull_request_review,pushes",
        "unknown",
    ),
]


@pytest.mark.parametrize(("key", "value", "words"), VALUES, ids=[f"{k}={v}" for k, v, _ in VALUES])
def test_value_rules(key: str, value: str, words: str | None) -> None:
    rule = rule_for(key)
    assert rule is not None
    problem = rule(value)
    if words is None:
        assert problem is None
    else:
        assert problem is not None and words in problem


def test_values_skip_secrets_placeholders_and_references() -> None:
    env = parse_env(
        'KODEX_GITHUB_PAT="not a url"\n'
        'KODEX_LETSENCRYPT_EMAIL="ops@example.com"\n'
        'KODEX_PUBLIC_BASE_URL="https://${KODEX_PRODUCTION_DOMAIN}"\n'
        'KODEX_JWT_TTL=""\n'
    )
    assert value_problems(env) == []


def test_public_url_must_match_production_domain() -> None:
    env = parse_env('KODEX_PRODUCTION_DOMAIN="a.kodex.dev"\nKODEX_PUBLIC_BASE_URL="https://b.kodex.dev"\n')
    (problem,) = value_problems(env)
    assert "is not KODEX_PRODUCTION_DOMAIN" in problem


# --- label catalogue keys ---

CATALOGUE = ("run:intake", "run:intake:revise", "run:dev", "state:blocked", "[ai-model-gpt-5.2]")


@pytest.mark.parametrize(
    ("entries", "problem", "note"),
    [
        ({"KODEX_RUN_INTAKE_LABEL": "run:intake"}, None, None),
        ({"RUN_INTAKE_LABEL": "run:intake"}, None, None),  # the older unprefixed spelling
        ({"KODEX_RUN_DEV_LABEL": "run:develop"}, None, "renamed"),
        ({"KODEX_RUN_DEV_LABEL": "run:dev", "KODEX_RUN_INTAKE_LABEL": "run:dev"}, "both name", None),
        ({"KODEX_RUN_INTAKE_REVISE_LABEL": "run:intake"}, "lacks :revise", None),
        ({"KODEX_RUN_INTAKE_LABEL": "run:intake:revise"}, "has :revise", None),
        ({"KODEX_STATE_BLOCKED_LABEL": "blocked"}, "not a state label", None),
        ({"KODEX_AI_MODEL_GPT_5_2_LABEL": "ai-model-gpt-5.2"}, "not a ai-model label", None),
        ({"KODEX_RUN_ABORT_LABEL": "run:abort"}, None, "not in the catalogue"),
        ({"KODEX_RUN_DEV_LABEL": ""}, None, None),  # empty: the default applies
    ],
)
def test_label_rules(entries: dict[str, str], problem: str | None, note: str | None) -> None:
    problems, notes = label_problems(entries, CATALOGUE)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
    if note is not None:
        assert any(note in n for n in notes), notes


def test_label_key_names() -> None:
    assert key_of("run:intake:revise") == "RUN_INTAKE_REVISE"
    assert key_of("[ai-model-gpt-5.3-codex]") == "AI_MODEL_GPT_5_3_CODEX"
    assert key_of("run:doc-audit") == "RUN_DOC_AUDIT"


# --- secrets stay under secret keys ---


def test_secret_copied_into_ordinary_key() -> None:
    token = "ghp_" + "Ab1" * 12
    problems = echo_problems({"KODEX_GIT_BOT_TOKEN": token, "KODEX_GIT_BOT_USERNAME": token})
    assert problems == [
        "KODEX_GIT_BOT_USERNAME holds the value of KODEX_GIT_BOT_TOKEN (it would be shown and logged)"
    ]
    assert token not in problems[0]


def test_credential_shape_in_ordinary_key() -> None:
    (problem,) = echo_problems({"KODEX_GITHUB_WEBHOOK_URL": "https://bot:hunter2hunter2@hooks.kodex.dev/x"})
    assert "looks like a credential" in problem and "hunter2" not in problem


def test_ordinary_values_are_not_secrets() -> None:
    assert (
        echo_problems({"KODEX_GITHUB_OAUTH_CLIENT_ID": "Iv1.8a61f9b3a7aba766", "OPERATOR_USER": "codex"})
        == []
    )
