"""The multi-pattern libraries weighed for the redaction prefilter, each doing the same job: which lines of
a batch can hold a secret (a rule's prefilter pattern, the PEM trigger or a known value matches there).

  hyperscan       the engine in use (backends.redact_hyperscan): every pattern in one scan
  google-re2      one RE2 alternation of the same patterns, `finditer` over the batch
  pyahocorasick   an Aho-Corasick automaton of each pattern's literal anchor (lower-cased), then a regex
                  for the one rule with no literal (a Telegram token's digits and colon)

google-re2 and pyahocorasick are not dependencies: `pip install google-re2 pyahocorasick` to see them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate

from backends.redact_hyperscan import HyperscanPrefilter
from backends.redact_rules import PEM_TRIGGER, prefilter_patterns

Prefilter = Callable[[str], list[int]]  # a batch (lines joined by "\n") -> flagged line numbers


def _line_of(text: str) -> Callable[[int], int]:
    starts = [0, *accumulate(len(line) + 1 for line in text.split("\n"))]
    return lambda offset: bisect_right(starts, offset) - 1


def hyperscan_prefilter(literals: Sequence[str]) -> Prefilter:
    engine = HyperscanPrefilter(literals)
    engine.wait_combined()

    def flagged(text: str) -> list[int]:
        found = engine.lines(text.encode("utf-8", "surrogatepass"))
        return sorted({*found.ordinary, *found.pem})

    return flagged


def re2_prefilter(literals: Sequence[str]) -> Prefilter | None:
    try:
        import re2  # type: ignore[import-not-found]
    except ImportError:
        return None
    parts = [re.escape(PEM_TRIGGER), *(re.escape(v) for v in literals)]
    for rx, caseless, _rule in prefilter_patterns():
        body = rx.decode()
        parts.append(f"(?i:{body})" if caseless else f"(?:{body})")
    combined = re2.compile("|".join(parts))

    def flagged(text: str) -> list[int]:
        line_of = None
        out: set[int] = set()
        for m in combined.finditer(text):
            if line_of is None:
                line_of = _line_of(text)
            out.add(line_of(m.end() - 1))
        return sorted(out)

    return flagged


# each prefilter pattern's literal anchor: a match of the pattern contains it (case-folded)
_ANCHORS = [
    "_pat", "_token", "_key", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "secret", "passw",
    "sk-", "xox", "eyj", "akia", "asia", "authorization", "bearer", "://", "@tcp(", "@unix(", "@udp(",
    "token", "apikey", "api-key", "accesskey", "access-key", "privatekey", "private-key", "key-data",
    "auth", "dockerc", "-u", "--user", "cookie", "private key",
]  # fmt: skip
_TELEGRAM = re.compile(r"[0-9]{8}:[A-Za-z0-9_-]{35}")


def ahocorasick_prefilter(literals: Sequence[str]) -> Prefilter | None:
    try:
        import ahocorasick  # type: ignore[import-not-found]
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for word in {*_ANCHORS, *(v.lower() for v in literals)}:
        automaton.add_word(word, word)
    automaton.make_automaton()

    def flagged(text: str) -> list[int]:
        lowered = text.lower()
        ends = [end for end, _word in automaton.iter(lowered)]
        ends += [m.end() - 1 for m in _TELEGRAM.finditer(text)]
        if not ends:
            return []
        line_of = _line_of(text)
        return sorted({line_of(end) for end in ends})

    return flagged


def candidates(literals: Sequence[str]) -> dict[str, Prefilter | None]:
    return {
        "hyperscan": hyperscan_prefilter(literals),
        "google-re2": re2_prefilter(literals),
        "pyahocorasick": ahocorasick_prefilter(literals),
    }
