"""The bootstrap env file parser: the Go preflight's view, the sourcing shell's view, and problems."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backends.envfile import DEFAULTS, REQUIRED_KEYS, EnvFile, is_placeholder, load_env_file, parse_env
from backends.errors import ConfigError

ENV = {"HOME": "/root"}

# (id, line, key, platform view, shell view). The shell view is what `set -a; source` leaves in bash.
TRICKY: list[tuple[str, str, str, str, str]] = [
    ("plain", "A=value", "A", "value", "value"),
    ("double-quoted-spaces", 'A="value with spaces"', "A", "value with spaces", "value with spaces"),
    ("single-quoted-dollar", "A='$HOME/x'", "A", "$HOME/x", "$HOME/x"),
    ("braced-home", 'A="${HOME}/.ssh/id"', "A", "${HOME}/.ssh/id", "/root/.ssh/id"),
    ("bare-home", "A=$HOME/.ssh/id", "A", "$HOME/.ssh/id", "/root/.ssh/id"),
    ("tilde", "A=~/.ssh/id", "A", "~/.ssh/id", "/root/.ssh/id"),
    ("quoted-tilde-literal", 'A="~/.ssh/id"', "A", "~/.ssh/id", "~/.ssh/id"),
    ("export", "export A=v", "A", "v", "v"),
    ("export-quoted", 'export A="v w"', "A", "v w", "v w"),
    ("indented", '   A="v"   ', "A", "v", "v"),
    ("inline-comment-bare", "A=v # note", "A", "v # note", "v"),
    ("inline-comment-quoted", 'A="v" # note', "A", 'v" # note', "v"),
    ("hash-inside-word", "A=v#1", "A", "v#1", "v#1"),
    ("hash-inside-quotes", 'A="v # not a comment"', "A", "v # not a comment", "v # not a comment"),
    ("empty", "A=", "A", "", ""),
    ("empty-quotes", 'A=""', "A", "", ""),
    ("quote-then-text", 'A="a"b', "A", 'a"b', "ab"),
    ("text-then-quote", 'A=a"b c"', "A", 'a"b c', "ab c"),
    ("single-inside-double", 'A="it\'s"', "A", "it's", "it's"),
    ("double-inside-single", "A='say \"hi\"'", "A", 'say "hi', 'say "hi"'),
    ("escaped-quote", 'A="x\\"y"', "A", 'x\\"y', 'x"y'),
    ("escaped-dollar", 'A="cost \\$5"', "A", "cost \\$5", "cost $5"),
    ("escaped-backslash", 'A="a\\\\b"', "A", "a\\\\b", "a\\b"),
    ("other-backslash-kept", 'A="a\\nb"', "A", "a\\nb", "a\\nb"),
    ("bare-backslash", "A=a\\ b", "A", "a\\ b", "a b"),
    ("equals-in-value", 'A="k=v=w"', "A", "k=v=w", "k=v=w"),
    (
        "url-value",
        'A="https://platform.example.org/x?y=1"',
        "A",
        "https://platform.example.org/x?y=1",
        "https://platform.example.org/x?y=1",
    ),
    ("default-expansion", 'A="${UNSET_X:-fallback}"', "A", "${UNSET_X:-fallback}", "fallback"),
    ("lone-dollar", 'A="5$"', "A", "5$", "5$"),
    ("crlf", 'A="v"\r', "A", "v", "v\r"),
]


@pytest.mark.parametrize(
    ("line", "key", "platform", "shell"), [t[1:] for t in TRICKY], ids=[t[0] for t in TRICKY]
)
def test_tricky_line(line: str, key: str, platform: str, shell: str) -> None:
    env = parse_env(line + "\n", ENV)
    entry = env.entries[key]
    assert entry.platform_value == platform
    assert entry.shell_value == shell
    assert entry.views_differ == (platform != shell)
    assert entry.line == 1
    assert not [p for p in env.problems if "CRLF" not in p.message]


def test_export_flag() -> None:
    env = parse_env("export A=1\nB=2\n")
    assert env.entries["A"].exported and not env.entries["B"].exported


def test_raw_value_is_kept() -> None:
    env = parse_env('A="v" # note\n')
    assert env.entries["A"].raw == '"v" # note'


def test_expansion_uses_earlier_keys_then_environ() -> None:
    env = parse_env('BASE="/opt"\nA="${BASE}/bin:$HOME"\nHOME=/home/me\nB=$HOME\n', ENV)
    assert env.entries["A"].shell_value == "/opt/bin:/root"
    assert env.entries["A"].platform_value == "${BASE}/bin:$HOME"
    assert env.entries["B"].shell_value == "/home/me"  # the file's own HOME wins once set


def test_unknown_environment_leaves_references_as_written() -> None:
    env = parse_env('A="${HOME}/.ssh/id"\n')  # environ=None: the bootstrap's environment is unknown
    assert env.entries["A"].shell_value == "${HOME}/.ssh/id"
    assert not env.problems


def test_unset_variable_is_a_problem_under_set_u() -> None:
    env = parse_env('A="${NOPE}/x"\n', {})
    assert env.entries["A"].shell_value == "/x"
    (problem,) = env.problems
    assert problem.line == 1 and "unbound variable" in problem.message


def test_comments_and_blank_lines() -> None:
    env = parse_env("# header\n\n   # indented comment\nA=1\n")
    assert list(env.entries) == ["A"]
    assert env.entries["A"].line == 4
    assert not env.problems


def test_duplicate_key_later_wins_and_remembers() -> None:
    env = parse_env("A=first\nB=x\nA=second\nA=third\n")
    entry = env.entries["A"]
    assert entry.platform_value == entry.shell_value == "third"
    assert entry.line == 4
    assert entry.overrides == (1, 3)
    assert list(env.entries) == ["B", "A"]


def test_crlf_file() -> None:
    env = parse_env('A="v"\r\nB=w\r\n')
    assert env.entries["A"].platform_value == "v"
    assert env.entries["A"].shell_value == "v\r"
    assert env.entries["B"].shell_value == "w\r"
    assert [p.line for p in env.problems] == [1]
    assert "carriage return" in env.problems[0].message


# --- problems: (id, text, line, words the message must contain) ---

PROBLEMS: list[tuple[str, str, int, tuple[str, ...]]] = [
    ("unterminated-double", 'A=1\nB="open\nC=3\n', 2, ("unterminated double quote",)),
    ("unterminated-single", "B='open\n", 1, ("unterminated single quote",)),
    ("invalid-name-digit", "1BAD=x\n", 1, ("invalid variable name '1BAD'", "command not found")),
    ("invalid-name-dash", "MY-KEY=x\n", 1, ("invalid variable name 'MY-KEY'",)),
    ("spaces-around-equals", "KEY = v\n", 1, ("spaces around '='", "'KEY' as a command", "set -e")),
    ("space-before-equals", "KEY =v\n", 1, ("spaces around '='",)),
    ("no-equals", "BROKEN_LINE\n", 1, ("expected KEY=VALUE", "rejects the whole file")),
    ("empty-key", "=x\n", 1, ("empty key",)),
    ("unquoted-space", "A=a b\n", 1, ("unquoted space", "'b'")),
    ("command-substitution", "A=$(id -u)\n", 1, ("command substitution",)),
    ("backticks", 'A="`id`"\n', 1, ("command substitution",)),
    ("metachar", "A=a;b\n", 1, ("shell syntax",)),
    ("export-without-value", "export A\n", 1, ("expected KEY=VALUE", "marks the name for export")),
]


@pytest.mark.parametrize(("text", "line", "words"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_problem_lines(text: str, line: int, words: tuple[str, ...]) -> None:
    env = parse_env(text, ENV)
    assert env.problems, text
    problem = next(p for p in env.problems if p.line == line)
    for word in words:
        assert word in problem.message
    assert str(problem).startswith(f"line {line}: ")


def test_problem_lines_do_not_become_entries() -> None:
    env = parse_env("GOOD=1\nKEY = v\n1BAD=x\nA=a b\nLAST=2\n")
    assert list(env.entries) == ["GOOD", "LAST"]
    assert [p.line for p in env.problems] == [2, 3, 4]


def test_unterminated_quote_stops_the_shell() -> None:
    env = parse_env('A=1\nB="open\nC=3\n')
    assert list(env.entries) == ["A"]


def test_multiline_quoted_value() -> None:
    env = parse_env('A="line1\nline2"\nB=2\n')
    assert env.entries["A"].shell_value == "line1\nline2"
    assert env.entries["A"].platform_value == "line1"
    assert env.entries["B"].line == 3
    (problem,) = env.problems
    assert problem.line == 1 and "lines 1-2" in problem.message and "rejects line 2" in problem.message


def test_go_reader_failure_mentions_whole_file_once() -> None:
    env = parse_env("NOEQ1\nNOEQ2\n")
    assert "rejects the whole file" in env.problems[0].message
    assert "also rejects" in env.problems[1].message


def test_never_raises_on_garbage() -> None:
    garbage = "\x00\n=\n==\n'\n\"\n${\n$(\nexport\nexport =\n\\\n" + "A=" + "x" * 10000
    env = parse_env(garbage, {})
    assert isinstance(env, EnvFile)


# --- cross-check the shell view against real bash ---


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
@pytest.mark.parametrize(
    ("line", "key", "shell"), [(t[1], t[2], t[4]) for t in TRICKY], ids=[t[0] for t in TRICKY]
)
def test_shell_view_matches_bash(tmp_path: Path, line: str, key: str, shell: str) -> None:
    path = tmp_path / "config.env"
    path.write_bytes((line + "\n").encode())
    script = 'set -euo pipefail; set -a; source "$1"; set +a; printf "%s" "${!2}"'
    env = {"HOME": "/root", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script, "_", str(path), key],
        capture_output=True,
        env=env,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == shell


# --- files and data ---


def test_load_env_file(tmp_path: Path) -> None:
    path = tmp_path / "config.env"
    path.write_text('TARGET_HOST="203.0.113.10"\n', encoding="utf-8")
    assert load_env_file(path).get("TARGET_HOST") == "203.0.113.10"


def test_load_env_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "nope.env"
    with pytest.raises(ConfigError) as info:
        load_env_file(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_load_env_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.env"
    path.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"bad\.env"):
        load_env_file(path)


def test_load_env_file_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path))):
        load_env_file(tmp_path)


def test_required_keys_and_defaults() -> None:
    assert len(REQUIRED_KEYS) == 15 and len(set(REQUIRED_KEYS)) == 15
    assert REQUIRED_KEYS[0] == "TARGET_HOST" and REQUIRED_KEYS[-1] == "KODEX_GIT_BOT_TOKEN"
    assert DEFAULTS["TARGET_PORT"] == "22"
    assert DEFAULTS["OPERATOR_USER"] == "codex"
    assert DEFAULTS["KODEX_INTERNAL_REGISTRY_HOST"] == "127.0.0.1:5000"
    with pytest.raises(TypeError):
        DEFAULTS["TARGET_PORT"] = "2222"  # type: ignore[index]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "changeme",
        "CHANGE_ME",
        "TODO",
        "<your token>",
        "https://<KODEX_PRODUCTION_DOMAIN>/oauth2/callback",
        "your-github-token",
        "example.com",
        "platform.example.com",
        "owner@example.com",
        "https://staging.example.com",
        "xxx",
        "ghp_xxx",
        "github_pat_xxxxxxxx",
        "sk-proj-xxxx",
        "***",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "203.0.113.10",
        "root",
        "codex",
        "${HOME}/.ssh/id_ed25519",
        "codex-k8s/codex-k8s",
        "platform.gate.sandbox.test",
        "ops@kodex.dev",
        "https://platform.kodex.dev",
        "Iv1.8a61f9b3a7aba766",
        "ghp_aB3dE5fG7hJ9kLmN1pQr2StUv4WxYz6C8Xy9",
        "notexample.com",
        "xxl-node",
        "todo-app",
    ],
)
def test_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_sandbox_env_file_is_clean() -> None:
    from backends.sandbox.envfile_template import healthy_env_file

    text, secrets = healthy_env_file(host="127.0.0.1")
    env = parse_env(text, ENV)
    assert not env.problems
    for key in REQUIRED_KEYS:
        assert key in env.entries and not is_placeholder(env.entries[key].platform_value), key
    assert env.entries["TARGET_ROOT_SSH_KEY"].views_differ
    assert env.entries["KODEX_GITHUB_PAT"].platform_value == secrets["KODEX_GITHUB_PAT"]
