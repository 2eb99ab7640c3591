"""Secret redaction, applied at every source before anything is buffered, shown or written.

`Redactor.redact(text)` replaces each secret with `[REDACTED:<kind>]` and keeps the text around it
(`Authorization: Bearer [REDACTED:bearer]`, `KODEX_GITHUB_PAT=[REDACTED:env-secret]`). It knows the
shapes of common credentials (GitHub, OpenAI, AWS, Slack and Telegram tokens, JWTs — which includes
Kubernetes service-account tokens —, PEM private keys, passwords in URLs and DSNs, `Authorization`
and other credential headers, assignments to secret-bearing keys and fields in env files, JSON, YAML
and Go struct dumps, credential flags) and any literal secret values it is given (`add_secret`), in
every form a program prints them (`redact_literals`). The rules are in `redact_rules`.

Speed: the redactor runs on every log line. A batch of lines is joined and scanned once for every
rule at the same time by a multi-pattern engine (`redact_hyperscan`, Hyperscan); only the lines it
flags go through the exact rules. Without Hyperscan the same rules run in pure Python: each finder
regex (a literal first character) over the whole batch, the exact rules at its hits. Both engines
give the same output, line for line (the Python one is the reference; a test holds them together).
The engine is chosen when this module is imported: Hyperscan when it loads, else Python; the
environment variable GATEROOM_REDACTION=python|hyperscan, or `Redactor(engine=...)`, picks one.
Batches of lines (`redact_lines`, `LineRedactor.feed`) are much cheaper per line than one call per line.

A PEM private key spans lines: `redact(text)` masks each body line of a block; for line-at-a-time
streams `line_stream()` returns a `LineRedactor` that remembers an open block across calls.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from backends.redact_literals import forms
from backends.redact_rules import (
    ASCII_LOWER,
    AUTH_KINDS,
    B64_LINE,
    COMPILED,
    DSN_FINDER,
    DSN_REACH,
    DSN_RULE,
    FINDERS,
    GENERIC_KINDS,
    LINE_BODY,
    NEEDLES,
    PEM_BLOCK,
    PEM_END_RE,
    PEM_TRIGGER,
    TELEGRAM_FINDER,
    TELEGRAM_RULE,
    is_secret_key,
)

__all__ = [
    "ENGINES",
    "ENGINE_ENV",
    "Finding",
    "LineRedactor",
    "Redactor",
    "engine_report",
    "fingerprint",
    "is_secret_key",
    "marker",
]

MIN_SECRET_LENGTH = 6  # known literal values shorter than this are ignored (they would shred ordinary text)

# --- the engine ---------------------------------------------------------------------------------------------

ENGINE_ENV = "GATEROOM_REDACTION"
ENGINES = ("hyperscan", "python")


class _Flagged(Protocol):
    """What the multi-pattern engine found in a text (see `redact_hyperscan.Flagged`)."""

    @property
    def ordinary(self) -> list[int]: ...
    @property
    def pem(self) -> list[int]: ...
    @property
    def breaks(self) -> int: ...
    @property
    def rules(self) -> set[int]: ...
    @property
    def literals(self) -> set[int]: ...
    def within(self, lines: Iterable[int]) -> tuple[set[int], set[int]]: ...


class _Prefilter(Protocol):
    def lines(self, data: bytes) -> _Flagged: ...


def _load_hyperscan() -> tuple[str, str]:
    """(version, "") when Hyperscan loads and compiles here, else ("", why not)."""
    try:
        from backends import redact_hyperscan

        redact_hyperscan.probe()
    except Exception as exc:  # an import error, or a CPU the library does not support
        return "", f"{type(exc).__name__}: {exc}"
    return redact_hyperscan.VERSION, ""


_HS_VERSION, _HS_PROBLEM = _load_hyperscan()
AVAILABLE: dict[str, str] = {"python": "", **({"hyperscan": _HS_VERSION} if _HS_VERSION else {})}


def _chosen(requested: str | None) -> str:
    if requested is None:
        return "hyperscan" if "hyperscan" in AVAILABLE else "python"
    if requested not in ENGINES:
        raise ValueError(f"unknown redaction engine {requested!r} (one of: {', '.join(ENGINES)})")
    if requested not in AVAILABLE:
        raise ValueError(f"redaction engine {requested!r} is not available here ({_HS_PROBLEM})")
    return requested


def _default_engine() -> tuple[str, str]:
    """The engine redactors use unless told otherwise, and why (a note when the wish was not met)."""
    wish = os.environ.get(ENGINE_ENV, "").strip().lower() or None
    try:
        return _chosen(wish), ""
    except ValueError as exc:
        return _chosen(None), f"{ENGINE_ENV}={wish} ignored: {exc}"


DEFAULT_ENGINE, _DEFAULT_NOTE = _default_engine()


def engine_report() -> str:
    """One line for `gateroom --version`: the engine in use, and why when it is not Hyperscan."""
    if DEFAULT_ENGINE == "hyperscan":
        text = f"hyperscan {_HS_VERSION}"
    else:
        why = f"chosen by {ENGINE_ENV}" if not _HS_PROBLEM else f"hyperscan unavailable: {_HS_PROBLEM}"
        text = f"python ({why})"
    return f"{text}; {_DEFAULT_NOTE}" if _DEFAULT_NOTE else text


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


_PEM_MARK = marker("private-key")
_ARMOUR = re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]+-----")


def _mask_lines(chunk: str) -> str:
    """Each non-empty line of a PEM body becomes one marker; line breaks are kept (line counts hold)."""
    return LINE_BODY.sub(_PEM_MARK, chunk)


_Span = tuple[int, int, str]  # start, end, kind


def _span(name: str, kind: str, m: re.Match[str]) -> _Span:
    """The secret in a shape's match: the group that took part (a shape's value groups are
    alternatives: one takes part, and it is the last); auth: the scheme's group names the kind."""
    if name == "auth":
        groups = m.groups()
        kind = AUTH_KINDS[0 if groups[0] is not None else 1 if groups[1] is not None else 2]
    g = m.lastindex or 0
    return (m.start(g), m.end(g), kind)


def _try(name: str, text: str, pos: int, spans: list[_Span]) -> None:
    kind, rx = COMPILED[name]
    m = rx.match(text, pos)
    if m is not None:
        spans.append(_span(name, kind, m))


# Each finder's table, resolved once: (offset, shape name, kind, regex, separator). A key rule's
# `…-eq` shape cannot match where the finder's hit ends in ":" (nor `…-colon` at "="): the finder
# and the shape read the same separator.
_Entry = tuple[int, str, str, re.Pattern[str], str]
_TABLES: tuple[dict[int | None, tuple[_Entry, ...]], ...] = tuple(
    {
        group: tuple(
            (
                offset,
                name,
                *COMPILED[name],
                "=" if name.endswith("-eq") else ":" if name.endswith("-colon") else "",
            )
            for name, offset in tries
        )
        for group, tries in finder[2].items()
    }
    for finder in FINDERS
)


class Redactor:
    """Replaces secrets with `[REDACTED:<kind>]`; reports them as `Finding`s (kind + fingerprint).

    `engine`: "hyperscan" or "python" (default: the module's choice, see `engine_report`). Both give
    the same results; the Python engine is the reference.
    """

    def __init__(self, known_secrets: Iterable[str] = (), *, engine: str | None = None) -> None:
        self.engine = DEFAULT_ENGINE if engine is None else _chosen(engine)
        self.engine_problem = ""  # why this redactor left Hyperscan for the Python engine, if it did
        self._literals: list[str] = []
        self._forms: list[str] = []
        self._prefilter: _Prefilter | None = None
        self._compile()
        for value in known_secrets:
            self.add_secret(value)

    # -- configuration --

    def add_secret(self, value: str) -> None:
        """Redact this literal value wherever it appears from now on (kind `known-secret`).

        Values shorter than 6 characters are ignored. A multi-line value (a key file, a JSON blob) is
        learnt line by line (lines of 12+ characters but a PEM armour line), because redaction works
        within lines. Each value is also looked for percent-encoded, JSON-escaped and inside base64
        (`redact_literals`).
        """
        if not value:
            return
        parts = [value.strip()]
        if "\n" in value or "\r" in value:
            # a key file's armour lines (`-----BEGIN … KEY-----`) say what it is, not what it holds
            parts = [
                p.strip()
                for p in value.splitlines()
                if len(p.strip()) >= 12 and not _ARMOUR.fullmatch(p.strip())
            ]
        changed = False
        for part in parts:
            if len(part) >= MIN_SECRET_LENGTH and part not in self._literals:
                self._literals.append(part)
                for form in forms(part):
                    if form not in self._forms:
                        self._forms.append(form)
                changed = True
        if changed:
            self._compile()

    @property
    def known_secret_count(self) -> int:
        return len(self._literals)

    def _compile(self) -> None:
        # Longest first, so a secret that contains another known one is redacted whole.
        self._ordered_literals = sorted(self._forms, key=len, reverse=True)
        self._prefilter = None  # made again, with the new values, on the next scan

    def _engine(self) -> _Prefilter | None:
        """The multi-pattern prefilter, or None for the pure-Python engine."""
        if self.engine == "python":
            return None
        if self._prefilter is None:
            from backends.redact_hyperscan import HyperscanPrefilter

            try:
                self._prefilter = HyperscanPrefilter(self._ordered_literals)
            except Exception as exc:  # a database Hyperscan would not compile: same rules, in Python
                self.engine = "python"
                self.engine_problem = f"{type(exc).__name__}: {exc}"
                return None
        return self._prefilter

    # -- scanning (the reference: exact rules at the finders' hits) --

    def _scan(
        self, text: str, rules: set[int] | None = None, literals: Sequence[str] | None = None
    ) -> tuple[list[_Span], bool]:
        """Secret spans in `text` (sorted, not overlapping), and whether a PEM block is left open.

        `rules` / `literals`: only these rules (numbers) and known values can match here (the
        multi-pattern engine saw no other anywhere in the batch); None: all.
        """
        spans: list[_Span] = []
        open_pem = False
        if PEM_TRIGGER in text:
            open_pem = self._pem_spans(text, spans)
        # Same length as the text, so positions carry over (str.lower may lengthen some non-ASCII).
        lowered = text.lower() if text.isascii() else text.translate(ASCII_LOWER)
        for number, (finder, on_lower, _table, _prefilter) in enumerate(FINDERS):
            source = lowered if on_lower else text
            if rules is None:
                needles = NEEDLES[number]
                if needles is not None and not any(needle in source for needle in needles):
                    continue
            elif number not in rules:
                continue
            table = _TABLES[number]
            for hit in finder.finditer(source):
                at = hit.start()
                sep = source[hit.end() - 1]
                for offset, name, kind, rx, need in table[hit.lastindex]:
                    pos = at + offset
                    if pos < 0 or (need and need != sep):
                        continue
                    m = rx.match(text, pos)
                    if m is not None:
                        spans.append(_span(name, kind, m))
        if rules is None or TELEGRAM_RULE in rules:
            for hit in TELEGRAM_FINDER.finditer(text):
                i = j = hit.start()
                while j > 0 and i - j <= 10 and text[j - 1].isdigit():
                    j -= 1
                if 8 <= i - j <= 10:
                    _try("telegram", text, j, spans)
        if rules is None or DSN_RULE in rules:
            for hit in DSN_FINDER.finditer(text):
                j = text.rfind(":", max(0, hit.start() - DSN_REACH), hit.start())
                if j > 0:
                    _try("dsn", text, j, spans)
        for literal in self._ordered_literals if literals is None else literals:
            i = text.find(literal)
            while i != -1:
                spans.append((i, i + len(literal), "known-secret"))
                i = text.find(literal, i + len(literal))
        if len(spans) < 2:
            return spans, open_pem
        # On a tie the specific shape names the kind (a JWT in `"id_token": "..."` is a jwt).
        spans.sort(key=lambda sp: (sp[0], -sp[1], sp[2] in GENERIC_KINDS))
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
        for m in PEM_BLOCK.finditer(text):
            covered.append((m.start(), m.end()))
            if m.end(1) > m.start(1):
                spans.append((m.start(1), m.end(1), "private-key"))
            if m.start(2) != -1:
                open_pem = True
        # An END marker with no BEGIN before it (the text starts inside a key): mask the base64 lines
        # right before it.
        for m in PEM_END_RE.finditer(text):
            if any(s <= m.start() < e for s, e in covered):
                continue
            parts = text[: m.start()].split("\n")
            k = len(parts)
            while k > 0 and B64_LINE.fullmatch(parts[k - 1].strip()):
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

    def _reference_state(
        self, text: str, rules: set[int] | None = None, literals: Sequence[str] | None = None
    ) -> tuple[str, bool]:
        spans, open_pem = self._scan(text, rules, literals)
        if not spans:
            return text, open_pem
        return self._apply(text, spans), open_pem

    # -- the multi-pattern engine: the exact rules on the lines it flags only --

    def _flagged(self, text: str, engine: _Prefilter) -> _Flagged:
        return engine.lines(text.encode("utf-8", "surrogatepass"))

    def _literals_of(self, indexes: set[int]) -> list[str]:
        """The known values the engine saw, longest first (the reference's order)."""
        ordered = self._ordered_literals
        return [ordered[i] for i in sorted(indexes)]

    def _redact_state(self, text: str) -> tuple[str, bool]:
        engine = self._engine()
        if engine is None:
            return self._reference_state(text)
        flagged = self._flagged(text, engine)
        if not flagged.ordinary and not flagged.pem:
            return text, False
        if not flagged.breaks:
            return self._reference_state(text, flagged.rules, self._literals_of(flagged.literals))
        lines = text.split("\n")
        done = self._flagged_lines(lines, flagged)
        if done is None:
            return self._reference_state(text)
        out, open_pem = done
        return (text if out is lines else "\n".join(out)), open_pem

    def _region(self, lines: list[str], first: int, last: int, flagged: _Flagged) -> tuple[str, str, bool]:
        """Lines first … last as one text, and the reference's result on it (with the rules and values
        the engine saw on those lines)."""
        region = "\n".join(lines[first : last + 1])
        rules, values = flagged.within(range(first, last + 1))
        red, open_pem = self._reference_state(region, rules, self._literals_of(values))
        return region, red, open_pem

    def _flagged_lines(self, lines: list[str], flagged: _Flagged) -> tuple[list[str], bool] | None:
        """The reference's result on "\\n".join(lines), computed on the flagged lines only.

        Every rule but the PEM one is line-local, so a flagged line redacts the same alone as in the
        whole text (they are redacted together, joined, in one reference pass, with only the rules
        and known values the engine saw on them). A PEM key is a region: from its BEGIN line (backed up over
        the base64 lines an END with no BEGIN would mask) to the line that closes it, or to the end
        when no line does; a region closed where the reference's block closes cannot change what
        comes after it. Same output as the reference, `lines` itself when nothing changed; None when
        a part came back with another number of lines (odd input: the caller runs the reference on
        the whole text).
        """
        out: list[str] | None = None
        regions: list[tuple[int, int]] = []
        open_pem = False
        pem, n = flagged.pem, len(lines)
        k = 0
        while k < len(pem):
            # one key (or a run of keys the reference would join): from its BEGIN line, backed up
            # over base64 lines (an END with no BEGIN masks those), to the END that closes it
            first = pem[k]
            floor = regions[-1][1] + 1 if regions else 0
            while first > floor and B64_LINE.fullmatch(lines[first - 1].strip()):
                first -= 1
            last = pem[k]
            region, red, open_pem = self._region(lines, first, last, flagged)
            while open_pem and k + 1 < len(pem):  # still open: on to the next line naming a key
                k += 1
                last = pem[k]
                region, red, open_pem = self._region(lines, first, last, flagged)
            if open_pem and last < n - 1:  # never closed: the block runs to the end of the text
                last = n - 1
                region, red, open_pem = self._region(lines, first, last, flagged)
            k += 1
            regions.append((first, last))
            if red is not region:
                parts = red.split("\n")
                if len(parts) != last - first + 1:
                    return None
                if out is None:
                    out = lines.copy()
                out[first : last + 1] = parts
        picked = flagged.ordinary
        if regions:
            picked = [i for i in picked if not any(a <= i <= b for a, b in regions)]
        if picked:
            sub = "\n".join([lines[i] for i in picked])
            rules, values = flagged.within(picked)
            red, _ = self._reference_state(sub, rules, self._literals_of(values))
            if red is not sub:
                parts = red.split("\n")
                if len(parts) != len(picked):
                    return None
                if out is None:
                    out = lines.copy()
                for i, part in zip(picked, parts, strict=True):
                    out[i] = part
        return (lines if out is None else out), open_pem

    # -- public API --

    def redact(self, text: str) -> str:
        """The text with every secret replaced by `[REDACTED:<kind>]` (the same object if none)."""
        return self._redact_state(text)[0]

    def findings(self, text: str) -> list[Finding]:
        """Every secret in the text: kind, position and fingerprint (never the value itself)."""
        engine = self._engine()
        if engine is None:
            spans, _ = self._scan(text)
        else:
            flagged = self._flagged(text, engine)
            if not flagged.ordinary and not flagged.pem:
                return []
            spans, _ = self._scan(text, flagged.rules, self._literals_of(flagged.literals))
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

    def _redact_lines_state(
        self, lines: list[str], in_pem: bool, joined: str | None = None
    ) -> tuple[list[str], bool]:
        head: list[str] = []
        i = 0
        while in_pem and i < len(lines):  # finish a block left open by the previous batch
            done, in_pem = self._lines_slow([lines[i]], in_pem)
            head += done
            i += 1
        if i:
            lines = lines[i:]
            joined = None
        if not lines:
            return head, in_pem
        out, open_pem = self._redact_joined(lines, joined)
        return (head + out if head else out), open_pem

    def _redact_joined(self, lines: list[str], given: str | None = None) -> tuple[list[str], bool]:
        keepends = lines[0].endswith("\n")
        if given is not None and not keepends:
            joined = given
        else:
            joined = "".join(lines) if keepends else "\n".join(lines)
        engine = self._engine()
        if engine is not None and not keepends:
            flagged = self._flagged(joined, engine)
            if not flagged.ordinary and not flagged.pem:
                return lines, False
            done = None
            if flagged.breaks == len(lines) - 1:  # the lines are the text's lines: redact in place
                done = self._flagged_lines(lines, flagged)
            if done is not None:
                return done
            out, open_pem = self._reference_state(joined)
        else:
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
                m = PEM_END_RE.search(line)
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

    def feed(self, lines: Iterable[str], joined: str | None = None) -> list[str]:
        """Redact the next lines of the stream; returns as many lines as it was given.

        `joined`: the lines as one text, exactly "\\n".join(lines), when the caller has it already (a
        source that split a block it read): scanned as is, which saves joining them again.
        """
        out, self._in_pem = self._redactor._redact_lines_state(list(lines), self._in_pem, joined)
        return out

    def feed_line(self, line: str) -> str:
        return self.feed([line])[0]

    def reset(self) -> None:
        self._in_pem = False
