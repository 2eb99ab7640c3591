"""Secret redaction, applied at every source before anything is buffered, shown or written.

`Redactor.redact(text)` replaces each secret with `[REDACTED:<kind>]` and keeps the text around it
(`Authorization: Bearer [REDACTED:bearer]`, `KODEX_GITHUB_PAT=[REDACTED:env-secret]`). It knows the
shapes of common credentials (GitHub, OpenAI, AWS, Slack and Telegram tokens, JWTs — which includes
Kubernetes service-account tokens —, PEM private keys, passwords in URLs, `Authorization` headers,
assignments to secret-bearing keys) and any literal secret values it is given (`add_secret`).

Speed: the redactor runs on every log line, so a full scan is never done blindly. A cheap first pass
looks for trigger substrings with `str.find` over the whole text (or a whole batch of lines joined
together), plus two regexes with a literal first character (`://…@` and `:<35 token chars>`); only
the lines holding a trigger go through the one precompiled combined regex. Batches of lines
(`redact_lines`, `LineRedactor.feed`) are much cheaper per line than one call per line.

A PEM private key spans lines: `redact(text)` masks each body line of a block; for line-at-a-time
streams `line_stream()` returns a `LineRedactor` that remembers an open block across calls.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Finding",
    "LineRedactor",
    "Redactor",
    "fingerprint",
    "is_secret_key",
    "marker",
]

MIN_SECRET_LENGTH = 6  # known literal values shorter than this are ignored (they would shred ordinary text)

# --- the secret-bearing key rule (codex-k8s bootstrap env file) ------------------------------------------

# Domain rule: keys ending in one of these hold secrets.
SECRET_KEY_SUFFIXES: tuple[str, ...] = (
    "_PAT",
    "_TOKEN",
    "_SECRET",
    "_PASSWORD",
    "_API_KEY",
    "_SIGNING_KEY",
    "_BEARER_TOKEN",
)
# A few more that are secret by any reading (the redactor errs on the side of hiding).
EXTRA_SECRET_KEY_SUFFIXES: tuple[str, ...] = (
    "_PASSWD",
    "_PRIVATE_KEY",
    "_SECRET_KEY",
    "_ACCESS_KEY",
    "_OPENAI_AUTH_FILE",  # holds the codex-cli auth.json (tokens), not a path
)
SECRET_KEY_NAMES: frozenset[str] = frozenset(
    {"KODEX_GITHUB_WEBHOOK_SECRET", "CODEXK8S_GITHUB_WEBHOOK_SECRET"}
)


def is_secret_key(key: str) -> bool:
    """True when an env key's value must never be displayed (case-insensitive, `export ` tolerated)."""
    k = key.strip().upper()
    if k.startswith("EXPORT "):
        k = k[7:].strip()
    if not k:
        return False
    if k in SECRET_KEY_NAMES or k.endswith(SECRET_KEY_SUFFIXES) or k.endswith(EXTRA_SECRET_KEY_SUFFIXES):
        return True
    return "TELEGRAM" in k and "TOKEN" in k  # the Telegram bot token, however the key is spelled


# --- findings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One secret seen in a text: what kind, where, and a fingerprint that is never the value."""

    kind: str
    start: int
    end: int
    fingerprint: str


def fingerprint(value: str) -> str:
    """First 12 hex digits of the SHA-256 of the value: enough to match leaks up, useless to an attacker."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


#: a marker left by `redact`; its group is the kind
MARKER_RE = re.compile(r"\[REDACTED:([\w.-]+)\]")


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# --- patterns ----------------------------------------------------------------------------------------------

_NOT_DONE = r"(?!\[REDACTED)"  # never re-redact a marker: redact() is idempotent

# The value after a key: quoted (up to the closing quote) or bare.
_VAL_QUOTED = rf"""\\?"({_NOT_DONE}[^"\\\r\n]+)|'({_NOT_DONE}[^'\r\n]+)"""
_VAL_EQ_BARE = rf"""({_NOT_DONE}[^\s"'\\&]+)"""
# `KEY: value` unquoted is also how tools print key names with a status ("KODEX_GITHUB_PAT: missing"):
# only token-looking values count (6+ chars with a digit, or 16+ chars).
_VAL_COLON_BARE = rf"""({_NOT_DONE}(?=[^\s"'\\,]*[0-9])[^\s"'\\,]{{6,}}|{_NOT_DONE}[^\s"'\\,]{{16,}})"""
_SEP_EQ = r"""(?:\\?["'])?[ \t]*=[ \t]*"""
_SEP_COLON = r"""(?:\\?["'])?[ \t]*:[ \t]*"""

_ENV_KEY = (
    r"(?i:_PAT|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_API_KEY|_SIGNING_KEY|_PRIVATE_KEY|_SECRET_KEY|_ACCESS_KEY)"
)
_GENERIC_KEY = r"(?i:password|passwd|secret)"

# name -> (kind, regex). Each regex has one or more capturing groups; the first that took part in a
# match is the secret (the rest of the match is kept). Regexes are tried with `.match` at the spots
# the trigger pass points at, never scanned along whole lines.
_SHAPES: dict[str, tuple[str, str]] = {
    "github-pat": ("github-pat", r"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{40,255})(?![A-Za-z0-9_])"),
    "github-token": ("github-token", r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36,251})(?![A-Za-z0-9])"),
    "openai": ("openai-key", r"(?<![A-Za-z0-9_-])(sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,})"),
    "jwt": ("jwt", r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"),
    "aws": ("aws-access-key", r"(?<![A-Za-z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?![A-Za-z0-9])"),
    "slack": ("slack-token", r"(?<![A-Za-z0-9])(xox[baprs]-[A-Za-z0-9-]{10,})"),
    "telegram": ("telegram-bot-token", r"(?<![0-9])([0-9]{8,10}:[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])"),
    "url": ("url-password", rf"""://[^\s:/@"'<>]+:({_NOT_DONE}[^\s@/"'<>]+)@"""),
    "auth": (
        "",  # the kind follows the scheme: bearer / basic-auth / auth-token
        rf"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"
        rf"(?i:(bearer)|(basic)|(token))[ \t]+({_NOT_DONE}[^\s\"',;]+)",
    ),
    "bearer": (
        "bearer",
        r"(?<![A-Za-z])(?i:bearer)[ \t]+((?=[A-Za-z0-9._~+/_-]*[0-9])[A-Za-z0-9._~+/_-]{16,}=*)",
    ),
    "env-eq": ("env-secret", rf"{_ENV_KEY}{_SEP_EQ}(?:{_VAL_QUOTED}|{_VAL_EQ_BARE})"),
    "env-colon": ("env-secret", rf"{_ENV_KEY}{_SEP_COLON}(?:{_VAL_QUOTED}|{_VAL_COLON_BARE})"),
    "pw-eq": ("password", rf"(?<![A-Za-z0-9]_){_GENERIC_KEY}{_SEP_EQ}(?:{_VAL_QUOTED}|{_VAL_EQ_BARE})"),
    "pw-colon": (
        "password",
        rf"(?<![A-Za-z0-9]_){_GENERIC_KEY}{_SEP_COLON}(?:{_VAL_QUOTED}|{_VAL_COLON_BARE})",
    ),
}
_AUTH_KINDS = ("bearer", "basic-auth", "auth-token")
_GENERIC_KINDS = frozenset({"env-secret", "password", "known-secret"})
_COMPILED = {name: (kind, re.compile(rx)) for name, (kind, rx) in _SHAPES.items()}


def _ENV_AT(offset: int) -> tuple[tuple[str, int], ...]:
    return (("env-eq", offset), ("env-colon", offset))


_ENV = _ENV_AT(0)

# The trigger pass: each finder is one regex with a literal first character (the regex engine's
# fastest search; an alternation of literals would be ten times slower), run over the lower-cased
# text or the text itself. A hit names the shapes to try and where they would start (offset from the
# hit). Every match of every shape contains some hit.
_Try = tuple[tuple[str, int], ...]
_FINDERS: tuple[tuple[re.Pattern[str], bool, dict[int | None, _Try]], ...] = (
    (
        re.compile(
            r"""_(?:(?:(pat)|(token)|(key))(?:\\?["'])?[ \t]*[:=]"""
            r"|(?<=gh[pousr]_)[a-z0-9]{36}|(pat_)(?<=github_pat_))"
        ),
        True,
        {
            1: _ENV,
            2: _ENV,
            3: (
                *_ENV_AT(-4),
                *_ENV_AT(-7),
                *_ENV_AT(-8),
            ),  # _api_key, _access_key / _secret_key, _signing_key
            None: (("github-token", -3),),
            4: (("github-pat", -6),),
        },
    ),
    (
        re.compile(r"""secret(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (*_ENV_AT(-1), ("pw-eq", 0), ("pw-colon", 0))},
    ),
    (
        re.compile(r"""ssw(?<=passw)(?:ord|d)?(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (*_ENV_AT(-3), ("pw-eq", -2), ("pw-colon", -2))},
    ),
    (re.compile(r"sk-(?=[A-Za-z0-9_-]{20})"), False, {None: (("openai", 0),)}),
    (re.compile(r"xox[baprs]-"), False, {None: (("slack", 0),)}),
    (re.compile(r"J(?<=eyJ)[A-Za-z0-9_-]{8,}\."), False, {None: (("jwt", -2),)}),
    (re.compile(r"A[KS]IA[0-9A-Z]{16}"), False, {None: (("aws", 0),)}),
    (re.compile(r"z(?<=authoriz)ation"), True, {None: (("auth", -7),)}),
    (re.compile(r"b(?=earer[ \t])"), True, {None: (("bearer", 0),)}),
    (re.compile(r"://[^\s:/@]+:[^\s@/]+@"), False, {None: (("url", 0),)}),
)
_TELEGRAM_FINDER = re.compile(r":[A-Za-z0-9_-]{35}")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

_PEM_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_BLOCK = re.compile(rf"{_PEM_BEGIN}(.*?)(?:{_PEM_END}|(\Z))", re.S)
_PEM_END_RE = re.compile(_PEM_END)
_PEM_TRIGGER = "PRIVATE KEY"
_B64_LINE = re.compile(r"[A-Za-z0-9+/=]*")
_LINE_BODY = re.compile(r"[^\r\n]+")
_PEM_MARK = marker("private-key")


def _mask_lines(chunk: str) -> str:
    """Each non-empty line of a PEM body becomes one marker; line breaks are kept (line counts hold)."""
    return _LINE_BODY.sub(_PEM_MARK, chunk)


_Span = tuple[int, int, str]  # start, end, kind


def _try(name: str, text: str, pos: int, spans: list[_Span]) -> None:
    kind, rx = _COMPILED[name]
    m = rx.match(text, pos)
    if m is None:
        return
    groups = m.groups()
    if name == "auth":
        kind = _AUTH_KINDS[0 if groups[0] is not None else 1 if groups[1] is not None else 2]
        g = 4
    else:
        g = next(i for i, v in enumerate(groups, 1) if v is not None)
    spans.append((m.start(g), m.end(g), kind))


class Redactor:
    """Replaces secrets with `[REDACTED:<kind>]`; reports them as `Finding`s (kind + fingerprint)."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._literals: list[str] = []
        self._compile()
        for value in known_secrets:
            self.add_secret(value)

    # -- configuration --

    def add_secret(self, value: str) -> None:
        """Redact this literal value wherever it appears from now on (kind `known-secret`).

        Values shorter than 6 characters are ignored. A multi-line value (a key file, a JSON blob) is
        learnt line by line (lines of 12+ characters), because redaction works within lines.
        """
        if not value:
            return
        parts = [value.strip()]
        if "\n" in value or "\r" in value:
            parts = [p.strip() for p in value.splitlines() if len(p.strip()) >= 12]
        changed = False
        for part in parts:
            if len(part) >= MIN_SECRET_LENGTH and part not in self._literals:
                self._literals.append(part)
                changed = True
        if changed:
            self._compile()

    @property
    def known_secret_count(self) -> int:
        return len(self._literals)

    def _compile(self) -> None:
        # Longest first, so a secret that contains another known one is redacted whole.
        self._ordered_literals = sorted(self._literals, key=len, reverse=True)

    # -- scanning --

    def _scan(self, text: str) -> tuple[list[_Span], bool]:
        """Secret spans in `text` (sorted, not overlapping), and whether a PEM block is left open."""
        spans: list[_Span] = []
        open_pem = False
        if _PEM_TRIGGER in text:
            open_pem = self._pem_spans(text, spans)
        # Same length as the text, so positions carry over (str.lower may lengthen some non-ASCII).
        lowered = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
        for finder, on_lower, table in _FINDERS:
            for hit in finder.finditer(lowered if on_lower else text):
                for name, offset in table[hit.lastindex]:
                    pos = hit.start() + offset
                    if pos >= 0:
                        _try(name, text, pos, spans)
        for hit in _TELEGRAM_FINDER.finditer(text):
            i = j = hit.start()
            while j > 0 and i - j <= 10 and text[j - 1].isdigit():
                j -= 1
            if 8 <= i - j <= 10:
                _try("telegram", text, j, spans)
        for literal in self._ordered_literals:
            i = text.find(literal)
            while i != -1:
                spans.append((i, i + len(literal), "known-secret"))
                i = text.find(literal, i + len(literal))
        if len(spans) < 2:
            return spans, open_pem
        # On a tie the specific shape names the kind (a JWT in `"id_token": "..."` is a jwt).
        spans.sort(key=lambda sp: (sp[0], -sp[1], sp[2] in _GENERIC_KINDS))
        merged = [spans[0]]
        for s, e, k in spans[1:]:
            ps, pe, pk = merged[-1]
            if s < pe:
                if e > pe:
                    merged[-1] = (ps, e, pk)
                continue
            merged.append((s, e, k))
        return merged, open_pem

    @staticmethod
    def _pem_spans(text: str, spans: list[_Span]) -> bool:
        open_pem = False
        covered: list[tuple[int, int]] = []
        for m in _PEM_BLOCK.finditer(text):
            covered.append((m.start(), m.end()))
            if m.end(1) > m.start(1):
                spans.append((m.start(1), m.end(1), "private-key"))
            if m.start(2) != -1:
                open_pem = True
        # An END marker with no BEGIN before it (the text starts inside a key): mask the base64 lines
        # right before it.
        for m in _PEM_END_RE.finditer(text):
            if any(s <= m.start() < e for s, e in covered):
                continue
            parts = text[: m.start()].split("\n")
            k = len(parts)
            while k > 0 and _B64_LINE.fullmatch(parts[k - 1].strip()):
                k -= 1
            start = len("\n".join(parts[:k])) + (1 if k else 0)
            if m.start() > start:
                spans.append((start, m.start(), "private-key"))
        return open_pem

    @staticmethod
    def _apply(text: str, spans: list[_Span]) -> str:
        out: list[str] = []
        pos = 0
        for s, e, kind in spans:
            out.append(text[pos:s])
            if kind == "private-key":
                out.append(_mask_lines(text[s:e]))
            else:
                out.append(marker(kind))
            pos = e
        out.append(text[pos:])
        return "".join(out)

    def _redact_state(self, text: str) -> tuple[str, bool]:
        spans, open_pem = self._scan(text)
        if not spans:
            return text, open_pem
        return self._apply(text, spans), open_pem

    # -- public API --

    def redact(self, text: str) -> str:
        """The text with every secret replaced by `[REDACTED:<kind>]` (the same object if none)."""
        return self._redact_state(text)[0]

    def findings(self, text: str) -> list[Finding]:
        """Every secret in the text: kind, position and fingerprint (never the value itself)."""
        spans, _ = self._scan(text)
        return [Finding(kind, s, e, fingerprint(text[s:e])) for s, e, kind in spans]

    def redact_lines(self, lines: Iterable[str]) -> list[str]:
        """Redact a batch of lines (with or without line endings) as one text: same count out as in.

        A PEM block spanning lines of the batch is masked; use `line_stream()` to carry an open block
        over to the next batch.
        """
        return self._redact_lines_state(list(lines), False)[0]

    def line_stream(self) -> LineRedactor:
        """A stateful redactor for one line-at-a-time stream (PEM blocks across lines and batches)."""
        return LineRedactor(self)

    stream = line_stream

    def _redact_lines_state(self, lines: list[str], in_pem: bool) -> tuple[list[str], bool]:
        head: list[str] = []
        i = 0
        while in_pem and i < len(lines):  # finish a block left open by the previous batch
            done, in_pem = self._lines_slow([lines[i]], in_pem)
            head += done
            i += 1
        if i:
            lines = lines[i:]
        if not lines:
            return head, in_pem
        out, open_pem = self._redact_joined(lines)
        return (head + out if head else out), open_pem

    def _redact_joined(self, lines: list[str]) -> tuple[list[str], bool]:
        keepends = lines[0].endswith("\n")
        joined = "".join(lines) if keepends else "\n".join(lines)
        out, open_pem = self._redact_state(joined)
        if out is joined:
            return lines, open_pem
        parts = out.splitlines(keepends=True) if keepends else out.split("\n")
        if len(parts) == len(lines):
            return parts, open_pem
        return self._lines_slow(lines, False)  # odd input (lines holding line breaks): one at a time

    def _lines_slow(self, lines: list[str], in_pem: bool) -> tuple[list[str], bool]:
        out: list[str] = []
        for line in lines:
            if in_pem:
                m = _PEM_END_RE.search(line)
                if m is None:
                    out.append(_mask_lines(line))
                    continue
                in_pem = False
                rest, in_pem = self._redact_state(line[m.start() :])
                out.append(_mask_lines(line[: m.start()]) + rest)
                continue
            red, in_pem = self._redact_state(line)
            out.append(red)
        return out, in_pem


class LineRedactor:
    """Redacts one stream a line (or a batch of lines) at a time, remembering an open PEM block.

    After a `-----BEGIN … PRIVATE KEY-----` line, every line is masked until the END line.
    """

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._in_pem = False

    @property
    def in_private_key(self) -> bool:
        return self._in_pem

    def feed(self, lines: Iterable[str]) -> list[str]:
        """Redact the next lines of the stream; returns as many lines as it was given."""
        out, self._in_pem = self._redactor._redact_lines_state(list(lines), self._in_pem)
        return out

    def feed_line(self, line: str) -> str:
        return self.feed([line])[0]

    def reset(self) -> None:
        self._in_pem = False
