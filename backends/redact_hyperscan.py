"""The multi-pattern prefilter on Hyperscan: one scan of a whole batch finds the lines that can hold a
secret at all, and which rules and known values can match there.

The database holds every rule's prefilter pattern (`redact_rules.prefilter_patterns`), the PEM
trigger, and each form of each known secret value as a literal. A scan of the batch's UTF-8 bytes
reports where patterns end; those offsets become line numbers (a line break is one byte in UTF-8, so
counting them in the bytes counts lines of the text). The exact rules then run on those lines only,
and only the rules (and known values) that matched somewhere in the batch.

Compiling the rules takes ~0.1 s: they are compiled once per process. Known values change at run time
(`add_secret`); a database of them alone compiles in a millisecond and serves at once (a second scan
per batch), while one database of rules and values together, one scan, is compiled in a background
thread (Hyperscan releases the GIL while compiling) and replaces the pair when ready. Databases are
shared between redactors with the same values. A database's scratch space may serve one scan at a
time, so each thread gets its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import hyperscan

from backends.redact_rules import PEM_TRIGGER, RULE_COUNT, prefilter_patterns

VERSION: str = getattr(hyperscan, "__version__", "(version unknown)")
PEM = -1  # the PEM trigger's code; rules are 0 … RULE_COUNT - 1, known value i is RULE_COUNT + i
_CACHE_SIZE = 16

Match = Callable[[int, int, int, int, object], None]


class Flagged(NamedTuple):
    """What one scan found: where a rule or known value may match, and which."""

    ordinary: list[int]  # line numbers (0-based, by "\n") where a line-local rule or a known value may match
    pem: list[int]  # line numbers holding the PEM trigger
    breaks: int  # line breaks in the text (counted only when something matched; else 0)
    rules: set[int]  # rule numbers that matched somewhere
    literals: set[int]  # indexes of the known values (as given) that matched somewhere
    codes: dict[int, set[int]]  # line number -> what matched there (rule numbers; RULE_COUNT + value index)

    def within(self, lines: Iterable[int]) -> tuple[set[int], set[int]]:
        """(rules, known values) that matched on any of these lines."""
        codes: set[int] = set()
        for line in lines:
            codes |= self.codes.get(line, _NONE)
        return {c for c in codes if c < RULE_COUNT}, {c - RULE_COUNT for c in codes if c >= RULE_COUNT}


_NONE: set[int] = set()
NOTHING = Flagged([], [], 0, set(), set(), {})


def _literal(value: str) -> bytes:
    """A Hyperscan regex matching exactly these bytes (every byte escaped)."""
    return b"".join(b"\\x%02x" % b for b in value.encode("utf-8", "surrogatepass"))


def _rule_patterns() -> tuple[list[bytes], list[int], list[int]]:
    patterns: list[bytes] = [_literal(PEM_TRIGGER)]
    flags: list[int] = [0]
    codes: list[int] = [PEM]
    for rx, caseless, rule in prefilter_patterns():
        patterns.append(rx)
        flags.append(hyperscan.HS_FLAG_CASELESS if caseless else 0)
        codes.append(rule)
    return patterns, flags, codes


class _Database:
    """A compiled database whose pattern ids are the codes above; a scratch space per thread."""

    def __init__(self, patterns: list[bytes], flags: list[int], codes: list[int]) -> None:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=patterns, ids=codes_to_ids(codes), elements=len(patterns), flags=flags)
        self.db = db
        self._local = threading.local()

    def scan(self, data: bytes, on_match: Match) -> None:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.db)
        self.db.scan(data, match_event_handler=on_match, scratch=scratch)


def codes_to_ids(codes: list[int]) -> list[int]:
    """Hyperscan ids are unsigned: shift every code by one (PEM -1 → id 0)."""
    return [c + 1 for c in codes]


def probe() -> None:
    """Raises if Hyperscan cannot compile on this machine (a CPU it does not support)."""
    _Database([_literal(PEM_TRIGGER)], [0], [PEM])


_rules: _Database | None = None
_literals: OrderedDict[tuple[str, ...], _Database] = OrderedDict()
_combined: OrderedDict[tuple[str, ...], _Database] = OrderedDict()
_compiling: set[tuple[str, ...]] = set()
_failed: set[tuple[str, ...]] = set()  # never tried again: the pair of databases serves on
_lock = threading.Lock()


def _remember(cache: OrderedDict[tuple[str, ...], _Database], key: tuple[str, ...], db: _Database) -> None:
    with _lock:
        cache[key] = db
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def _cached(cache: OrderedDict[tuple[str, ...], _Database], key: tuple[str, ...]) -> _Database | None:
    with _lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
        return found


def _rules_database() -> _Database:
    global _rules
    with _lock:
        if _rules is None:
            _rules = _Database(*_rule_patterns())
        return _rules


def _literal_patterns(values: Sequence[str]) -> tuple[list[bytes], list[int], list[int]]:
    return [_literal(v) for v in values], [0] * len(values), [RULE_COUNT + i for i in range(len(values))]


def _compile_combined(key: tuple[str, ...]) -> None:
    try:
        patterns, flags, codes = _rule_patterns()
        more = _literal_patterns(key)
        _remember(_combined, key, _Database(patterns + more[0], flags + more[1], codes + more[2]))
    except hyperscan.error:
        with _lock:
            _failed.add(key)
    finally:
        with _lock:
            _compiling.discard(key)


class HyperscanPrefilter:
    name = "hyperscan"

    def __init__(self, literals: Sequence[str] = ()) -> None:
        self._key = tuple(literals)
        self._databases: tuple[_Database, ...] = ()
        self._settle()

    def _settle(self) -> None:
        """Use the one combined database when there is one; else rules + values, and start making it."""
        if not self._key:
            self._databases = (_rules_database(),)
            return
        combined = _cached(_combined, self._key)
        if combined is not None:
            self._databases = (combined,)
            return
        if not self._databases:
            values = _cached(_literals, self._key)
            if values is None:
                values = _Database(*_literal_patterns(self._key))
                _remember(_literals, self._key, values)
            self._databases = (_rules_database(), values)
        with _lock:
            start = self._key not in _compiling and self._key not in _failed
            _compiling.add(self._key)
        if start:
            threading.Thread(target=_compile_combined, args=(self._key,), daemon=True).start()

    @property
    def combined(self) -> bool:
        """True once one scan per batch does it all (for tests and benchmarks)."""
        return len(self._databases) == 1

    def wait_combined(self, timeout: float = 10.0) -> bool:
        """Block until the combined database is in use (benchmarks measure the steady state)."""
        import time

        deadline = time.monotonic() + timeout
        while not self.combined and time.monotonic() < deadline:
            self._settle()
            if not self.combined:
                time.sleep(0.01)
        return self.combined

    def lines(self, data: bytes) -> Flagged:
        if len(self._databases) > 1:
            self._settle()
        ends: list[tuple[int, int]] = []
        add = ends.append

        def on_match(pattern: int, start: int, end: int, flags: int, context: object) -> None:
            add((end, pattern))

        for db in self._databases:
            db.scan(data, on_match)
        if not ends:
            return NOTHING
        ends.sort()
        by_line: dict[int, set[int]] = {}
        pem: list[int] = []
        line = 0
        at = 0
        count = data.count
        for end, pattern in ends:
            # the match's last byte is on the line that holds it
            line += count(b"\n", at, end - 1)
            at = end - 1
            if pattern == 0:  # PEM (code -1)
                if not pem or pem[-1] != line:
                    pem.append(line)
                continue
            found = by_line.get(line)
            if found is None:
                by_line[line] = {pattern - 1}
            else:
                found.add(pattern - 1)
        breaks = line + count(b"\n", at)
        codes = set().union(*by_line.values())
        rules = {c for c in codes if c < RULE_COUNT}
        literals = {c - RULE_COUNT for c in codes if c >= RULE_COUNT}
        return Flagged(list(by_line), pem, breaks, rules, literals, by_line)
