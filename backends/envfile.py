"""The codex-k8s bootstrap env file (`bootstrap/host/config.env`), read the way the platform reads it.

The platform has two readers, and they disagree on purpose-free details, so every key gets two views:

* `platform_value` — the Go preflight's view. Per line: trim spaces; skip blank and `#` lines; drop an
  `export ` prefix; split at the first `=` (no `=` → the preflight rejects the whole file, as does an
  empty key); trim the value, then strip *every* leading/trailing `'`, then every leading/trailing `"`
  (so `'a'` → `a`, `"a"b` → `a"b`, `'say "hi"'` → `say "hi`). No escapes, no comments after a value,
  no variable expansion, no key-name check.
* `shell_value` — the shell bootstrap's view: the file is `source`d by bash under `set -euo pipefail`
  with `set -a`. Double-quoted and bare words expand `$VAR` / `${VAR}` (earlier keys of the file first,
  then the given environment); single quotes are literal; `\\` escapes `\\"`, `\\\\`, `\\$` and `` \\` ``
  inside double quotes and any character outside quotes; `$'...'` takes C escapes (`\\t`, `\\x41`,
  `\\'`) and `$"..."` reads as `"..."`; ` #` starts a comment after a bare word; a quote left open
  runs on to the next lines.

Lines bash would reject (not an assignment, an invalid name, spaces around `=`, extra words, an
unterminated quote, command substitution) and lines the Go parser rejects become `EnvProblem`s with
their line number — parsing never raises. A later duplicate overrides an earlier one (both readers
agree on that); the entry remembers the lines it overrode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from backends.errors import ConfigError

__all__ = [
    "DEFAULTS",
    "REQUIRED_KEYS",
    "EnvEntry",
    "EnvFile",
    "EnvProblem",
    "is_placeholder",
    "load_env_file",
    "parse_env",
]

# Required by the platform's own preflight, in its order.
REQUIRED_KEYS: tuple[str, ...] = (
    "TARGET_HOST",
    "TARGET_ROOT_USER",
    "TARGET_ROOT_SSH_KEY",
    "OPERATOR_USER",
    "OPERATOR_SSH_PUBKEY_PATH",
    "KODEX_GITHUB_REPO",
    "KODEX_GITHUB_PAT",
    "KODEX_PRODUCTION_DOMAIN",
    "KODEX_AI_DOMAIN",
    "KODEX_LETSENCRYPT_EMAIL",
    "KODEX_PUBLIC_BASE_URL",
    "KODEX_BOOTSTRAP_OWNER_EMAIL",
    "KODEX_GITHUB_OAUTH_CLIENT_ID",
    "KODEX_GITHUB_OAUTH_CLIENT_SECRET",
    "KODEX_GIT_BOT_TOKEN",
)

# What the bootstrap uses when a key is absent or empty.
DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "TARGET_PORT": "22",
        "OPERATOR_USER": "codex",
        "KODEX_PRODUCTION_NAMESPACE": "kodex-prod",
        "KODEX_SSH_PORT": "22",
        "KODEX_FIREWALL_ENABLED": "true",
        "KODEX_INTERNAL_REGISTRY_HOST": "127.0.0.1:5000",
        "KODEX_WORKER_RUN_NAMESPACE_PREFIX": "codex-issue",
        "KODEX_WORKER_RUN_SERVICE_ACCOUNT": "codex-runner",
        "KODEX_GITHUB_WEBHOOK_EVENTS": (
            "push,pull_request,issues,issue_comment,pull_request_review,pull_request_review_comment"
        ),
    }
)

_PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "change_me",
        "change-me",
        "replaceme",
        "replace_me",
        "replace-me",
        "todo",
        "tbd",
        "fixme",
        "placeholder",
        "xxx",
        "...",
        "<redacted>",
    }
)
_PLACEHOLDER_RES = (
    re.compile(r"<[^<>\s][^<>]*>"),  # <your-token>, https://<DOMAIN>/x
    re.compile(r"(?:^|[.@/])example\.(?:com|org|net)(?![A-Za-z0-9-])", re.I),  # example domains
    re.compile(r"(?:[a-z0-9]+[_-])*x{3,}", re.I),  # xxx, ghp_xxx, sk-proj-xxxx, github_pat_xxx
    re.compile(r"[*.]{3,}"),  # ***, ....
    re.compile(r"your[-_. ]\S*", re.I),  # your-token, your.domain.tld
)


def is_placeholder(value: str) -> bool:
    """True for values nobody meant to deploy: empty, `changeme`, `<...>`, `your-...`, `example.com`..."""
    v = value.strip()
    if not v:
        return True
    low = v.lower()
    if low in _PLACEHOLDER_WORDS:
        return True
    first, rest = _PLACEHOLDER_RES[0], _PLACEHOLDER_RES[1:]
    if first.search(v) or rest[0].search(v):
        return True
    return any(rx.fullmatch(v) for rx in rest[1:])


@dataclass(frozen=True)
class EnvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class EnvEntry:
    key: str
    raw: str  # the value as written (after `=`, line ending removed; continuation lines included)
    platform_value: str  # the Go preflight's view
    shell_value: str  # the sourcing shell's view
    line: int  # 1-based line of the (last) assignment
    exported: bool  # written with an `export ` prefix
    overrides: tuple[int, ...] = ()  # earlier lines that set the same key

    @property
    def views_differ(self) -> bool:
        return self.platform_value != self.shell_value


@dataclass
class EnvFile:
    entries: dict[str, EnvEntry] = field(default_factory=dict)
    problems: list[EnvProblem] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        """The platform's view of a key, or `default` when absent."""
        entry = self.entries.get(key)
        return entry.platform_value if entry is not None else default

    def differing(self) -> list[EnvEntry]:
        """Entries where the preflight and the shell bootstrap read different values."""
        return [e for e in self.entries.values() if e.views_differ]


# --- the Go preflight's reader -----------------------------------------------------------------------------


def _platform_line(line: str) -> tuple[str, str] | str | None:
    """(key, value), None for a skipped line, or an error message: the Go reader's rules exactly."""
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    if s.startswith("export "):
        s = s[len("export ") :].strip()
    key, sep, value = s.partition("=")
    if not sep:
        return "expected KEY=VALUE"
    key = key.strip()
    if not key:
        return "empty key"
    value = value.strip().strip("'").strip('"')
    return key, value


# --- the sourcing shell's reader ---------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_BLANKS = " \t"
_META = set(";&|<>()`")
_DQ_ESCAPABLE = set('"\\$`')
_HEX_DIGITS = {"u": r"[0-9A-Fa-f]{1,4}", "U": r"[0-9A-Fa-f]{1,8}"}
_ANSI_SIMPLE = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


class _ShellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Word:
    value: str
    end: int  # index in the text just after the word
    unbound: list[str]
    unknown: list[str]  # names with no value known (no environ given): left as written


class _Shell:
    """Enough of bash's word expansion for an assignment value in a sourced env file."""

    def __init__(self, text: str, known: dict[str, str], environ: Mapping[str, str] | None) -> None:
        self.text = text
        self.known = known
        self.environ = environ

    def lookup(self, name: str, word: _Word, written: str) -> str:
        if name in self.known:
            return self.known[name]
        if self.environ is None:
            word.unknown.append(name)
            return written
        if name in self.environ:
            return self.environ[name]
        word.unbound.append(name)
        return ""

    def word(self, i: int) -> _Word:
        """Read one word starting at i (the value after `KEY=`)."""
        t = self.text
        n = len(t)
        out: list[str] = []
        w = _Word("", i, [], [])
        at_start = True
        while i < n:
            c = t[i]
            if c in _BLANKS or c == "\n":
                break
            if c == "'":
                j = t.find("'", i + 1)
                if j == -1:
                    raise _ShellError(
                        "unterminated single quote: bash fails with "
                        "\"unexpected EOF while looking for matching `''\""
                    )
                out.append(t[i + 1 : j])
                i = j + 1
            elif c == '"':
                i = self._double(i + 1, out, w)
            elif c == "\\":
                if i + 1 >= n:
                    i += 1
                elif t[i + 1] == "\n":  # line continuation
                    i += 2
                else:
                    out.append(t[i + 1])
                    i += 2
            elif c == "$" and t[i + 1 : i + 2] == "'":
                i = self._ansi_c(i + 2, out)
            elif c == "$" and t[i + 1 : i + 2] == '"':
                i = self._double(i + 2, out, w)  # $"..." is a locale-translated "...": the same text
            elif c == "$":
                i = self._dollar(i, out, w)
            elif c in _META:
                raise _ShellError(
                    f"shell syntax {c!r} in a value: bash does not read it as part of the value"
                )
            elif c == "~" and at_start:
                j = i + 1
                if j >= n or t[j] in "/:" or t[j] in _BLANKS or t[j] == "\n":
                    out.append(self.lookup("HOME", w, "~"))
                else:
                    out.append(c)
                i = j
            else:
                out.append(c)
                i += 1
            at_start = False
        w.value = "".join(out)
        w.end = i
        return w

    def _ansi_c(self, i: int, out: list[str]) -> int:
        """bash's $'...': backslash escapes as in C, no expansion; i is just past the opening quote."""
        t = self.text
        n = len(t)
        while i < n:
            c = t[i]
            if c == "'":
                return i + 1
            if c != "\\" or i + 1 >= n:
                out.append(c)
                i += 1
                continue
            e = t[i + 1]
            if e in _ANSI_SIMPLE:
                out.append(_ANSI_SIMPLE[e])
                i += 2
            elif e == "x" and (m := re.match(r"[0-9A-Fa-f]{1,2}", t[i + 2 : i + 4])):
                out.append(chr(int(m.group(), 16)))
                i += 2 + m.end()
            elif e in "uU" and (m := re.match(_HEX_DIGITS[e], t[i + 2 :])):
                out.append(chr(int(m.group(), 16)))
                i += 2 + m.end()
            elif e in "01234567":
                m = re.match(r"[0-7]{1,3}", t[i + 1 :])
                assert m is not None
                out.append(chr(int(m.group(), 8) & 0xFF))
                i += 1 + m.end()
            else:  # an unknown escape keeps its backslash
                out.append(c + e)
                i += 2
        raise _ShellError(
            "unterminated $'...' quote: bash fails with \"unexpected EOF while looking for matching `''\""
        )

    def _double(self, i: int, out: list[str], w: _Word) -> int:
        t = self.text
        n = len(t)
        while i < n:
            c = t[i]
            if c == '"':
                return i + 1
            if c == "\\" and i + 1 < n and (t[i + 1] in _DQ_ESCAPABLE or t[i + 1] == "\n"):
                if t[i + 1] != "\n":
                    out.append(t[i + 1])
                i += 2
            elif c == "$":
                i = self._dollar(i, out, w)
            elif c == "`":
                raise _ShellError("command substitution (`...`) in a value: bash runs it while sourcing")
            else:
                out.append(c)
                i += 1
        raise _ShellError(
            'unterminated double quote: bash fails with "unexpected EOF while looking for matching `"\'"'
        )

    def _dollar(self, i: int, out: list[str], w: _Word) -> int:
        t = self.text
        n = len(t)
        nxt = t[i + 1] if i + 1 < n else ""
        if nxt == "{":
            j = t.find("}", i + 2)
            if j == -1:
                raise _ShellError("unterminated ${...}: bash fails with a bad substitution")
            inner = t[i + 2 : j]
            m = _NAME.match(inner)
            if m and m.end() == len(inner):
                out.append(self.lookup(inner, w, t[i : j + 1]))
            elif m and inner[m.end() :].startswith((":-", "-")):
                name = m.group()
                default = inner[m.end() :].removeprefix(":").removeprefix("-")
                colon = inner[m.end()] == ":"
                probe = _Word("", 0, [], [])
                value = self.lookup(name, probe, t[i : j + 1])
                if probe.unknown:
                    w.unknown.append(name)
                    out.append(value)
                elif probe.unbound or (colon and value == ""):
                    out.append(default)
                else:
                    out.append(value)
            else:
                raise _ShellError(
                    f"unsupported expansion ${{{inner}}}: this reader cannot tell what bash makes of it"
                )
            return j + 1
        if nxt == "(":
            raise _ShellError("command substitution $(...) in a value: bash runs it while sourcing")
        m = _NAME.match(t, i + 1)
        if m:
            out.append(self.lookup(m.group(), w, t[i : m.end()]))
            return m.end()
        if nxt and (nxt.isdigit() or nxt in "@*#?$!-"):
            raise _ShellError(f"special parameter ${nxt} in a value: its value depends on the running script")
        out.append("$")  # a lone `$` is literal
        return i + 1


def parse_env(text: str, environ: Mapping[str, str] | None = None) -> EnvFile:
    """Parse the env file text; never raises. `environ` is the bootstrap shell's environment (for
    `${HOME}` and friends); None means unknown, and unresolved references are then left as written."""
    result = EnvFile()
    known: dict[str, str] = {}
    lines = text.split("\n")
    shell = _Shell(text, known, environ)
    # start offset of each line, to move between the shell's view (text positions) and line numbers
    starts: list[int] = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    if "\r\n" in text:
        first = next(i for i, line in enumerate(lines, 1) if line.endswith("\r"))
        result.problems.append(
            EnvProblem(first, "CRLF line endings: bash keeps a trailing carriage return (\\r) in every value")
        )

    def line_of(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    platform_failed = False
    idx = 0
    while idx < len(lines):
        lineno = idx + 1
        line = lines[idx]
        idx += 1
        go = _platform_line(line)
        if isinstance(go, str):
            if not platform_failed:
                message = f"{go}: the platform's preflight rejects the whole file here"
            else:
                message = f"{go} (the platform's preflight also rejects this line)"
            platform_failed = True
        else:
            message = ""

        # bash's view of the same line
        begin = starts[lineno - 1]
        stripped = line.lstrip(_BLANKS)
        i = begin + (len(line) - len(stripped))
        body = stripped.rstrip("\r")
        if not body or body.startswith("#"):
            if message:
                result.problems.append(EnvProblem(lineno, message))
            continue
        exported = False
        m_exp = re.match(r"export[ \t]+", stripped)
        if m_exp:
            exported = True
            i += m_exp.end()
        m = _ASSIGN.match(text, i)
        if m is None:
            first_word = _first_word(text, i)
            if exported and _NAME.fullmatch(text[i : begin + len(line)].strip()):
                bash = "bash only marks the name for export; nothing is assigned"
            elif re.match(r"[A-Za-z_][A-Za-z0-9_]*[ \t]+=", text[i:]):
                first_word = first_word.partition("=")[0]
                bash = (
                    f"spaces around '=': bash runs {first_word!r} as a command "
                    f"({first_word}: command not found) and the bootstrap stops (set -e)"
                )
            elif "=" in first_word and not _NAME.fullmatch(first_word.partition("=")[0]):
                bad = first_word.partition("=")[0]
                bash = (
                    f"invalid variable name {bad!r}: bash runs the line as a command "
                    f"({first_word}: command not found) and the bootstrap stops (set -e)"
                )
            else:
                bash = (
                    f"not an assignment: bash runs {first_word!r} as a command "
                    "and the bootstrap stops (set -e)"
                )
            result.problems.append(EnvProblem(lineno, f"{message}; {bash}" if message else bash))
            continue
        key = m.group(1)
        try:
            word = shell.word(m.end())
            rest_end = _rest_of_command(text, word.end)
        except _ShellError as err:
            text_msg = err.message
            result.problems.append(EnvProblem(lineno, f"{message}; {text_msg}" if message else text_msg))
            if "unterminated" in text_msg:
                break  # bash reads to the end of the file looking for the closing quote
            continue
        if rest_end is not None:  # extra words after the value
            extra = text[word.end : rest_end].strip()
            bash = (
                f"unquoted space in the value: bash sets {key} only for a command {extra.split()[0]!r} "
                f"and the bootstrap stops (command not found, set -e); quote the value"
            )
            result.problems.append(EnvProblem(lineno, f"{message}; {bash}" if message else bash))
            continue
        last_line = line_of(max(word.end - 1, m.end()))
        if last_line > lineno:
            note = (
                f"{key}: the quoted value runs over lines {lineno}-{last_line}: bash reads one multi-line "
                f"value, the platform's preflight reads line {lineno} alone"
            )
            for other in range(lineno + 1, last_line + 1):
                go_other = _platform_line(lines[other - 1])
                if isinstance(go_other, str):
                    note += f" and rejects line {other} ({go_other})"
                    platform_failed = True
                    break
            result.problems.append(EnvProblem(lineno, note))
            idx = last_line  # the continuation lines belong to this value in bash
        if message:
            result.problems.append(EnvProblem(lineno, message))
        for name in word.unbound:
            result.problems.append(
                EnvProblem(
                    lineno, f"{key}: ${name} is not set: bash stops with '{name}: unbound variable' (set -u)"
                )
            )
        raw_end = word.end if last_line > lineno else begin + len(line.rstrip("\r"))
        raw = text[m.end() : raw_end].strip(_BLANKS)
        platform_value = go[1] if isinstance(go, tuple) and go[0] == key else ""
        previous = result.entries.get(key)
        overrides = (*previous.overrides, previous.line) if previous else ()
        entry = EnvEntry(key, raw, platform_value, word.value, lineno, exported, overrides)
        result.entries.pop(key, None)  # keep the file order of the winning assignment
        result.entries[key] = entry
        known[key] = word.value
    return result


def _first_word(text: str, i: int) -> str:
    """The first blank-separated word from i on the line (what bash would try to run)."""
    m = re.match(r"[^\s]*", text[i : i + 200])
    return m.group() if m else ""


def _rest_of_command(text: str, i: int) -> int | None:
    """After a value: None if only blanks and/or a comment follow on the line, else the line's end."""
    n = len(text)
    j = i
    while j < n and text[j] in _BLANKS:
        j += 1
    if j >= n or text[j] == "\n":
        return None
    if text[j] == "\r" and (j + 1 >= n or text[j + 1] == "\n"):
        return None
    if text[j] == "#" and j > i:  # ` #` starts a comment; `a#b` is part of the word and never gets here
        return None
    end = text.find("\n", j)
    return n if end == -1 else end


def load_env_file(path: str | Path) -> EnvFile:
    """Read and parse an env file; ConfigError (one line naming the file) when it cannot be read."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: env file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: env file is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read env file ({exc.strerror or exc})") from None
    return parse_env(text)
