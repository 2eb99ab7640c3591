"""What a view shows: which streams, from which level up, and lines matching a text or a regex.

A filter is immutable and built once; `matches(record)` is the per-line test. The same text syntax is
typed in the pane's filter bar and passed by other panes that open the logs pre-filtered:

    src:kodex-worker level:warn "lease extended"      words are ANDed; quotes keep spaces
    src:journal/k3s re:E\\d{4}                           re: a regular expression (case-insensitive)
    timeout                                            bare words: case-insensitive substring

`src:` matches a stream whose name contains the value (`src:` may repeat: any of them). Marks (gaps,
ends) of a shown stream always pass the text and level tests: hiding that a stream dropped would lie.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from backends.logs.levels import LEVEL_RANK, LEVELS
from backends.logs.record import MARK, SOURCE, TEXT, LogRecord, level_of

LEVEL_ALIASES = {"err": "error", "warning": "warn", "information": "info", "dbg": "debug", "all": ""}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class LogFilter:
    sources: tuple[str, ...] = ()  # substrings of stream names; empty = every stream
    exact_source: str = ""  # a per-stream view shows one stream exactly
    min_level: str = ""  # "" = every level; else error / warn / info / debug
    text: str = ""  # case-insensitive substring, or a regex when `regex`
    regex: bool = False
    _compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.min_level and self.min_level not in LEVELS:
            raise FilterError(f"unknown level {self.min_level!r} (error, warn, info, debug)")
        pattern = None
        if self.text:
            try:
                pattern = re.compile(self.text if self.regex else re.escape(self.text), re.IGNORECASE)
            except re.error as exc:
                raise FilterError(f"bad regex {self.text!r}: {exc}") from None
        object.__setattr__(self, "_compiled", pattern)

    @property
    def active(self) -> bool:
        return bool(self.sources or self.exact_source or self.min_level or self.text)

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return self._compiled

    def wants_stream(self, stream: str) -> bool:
        if self.exact_source and stream != self.exact_source:
            return False
        return not self.sources or any(s in stream for s in self.sources)

    def matches(self, record: LogRecord) -> bool:
        if not self.wants_stream(record[SOURCE]):
            return False
        if record[MARK]:
            return True
        if self.min_level and LEVEL_RANK[level_of(record)] > LEVEL_RANK[self.min_level]:
            return False
        return self._compiled is None or self._compiled.search(record[TEXT]) is not None

    def with_(self, **changes: object) -> LogFilter:
        values = {
            "sources": self.sources,
            "exact_source": self.exact_source,
            "min_level": self.min_level,
            "text": self.text,
            "regex": self.regex,
        }
        values.update(changes)
        return LogFilter(**values)  # type: ignore[arg-type]

    def describe(self) -> str:
        parts = []
        if self.exact_source:
            parts.append(f"stream {self.exact_source}")
        parts += [f"src:{s}" for s in self.sources]
        if self.min_level:
            parts.append(f"level≥{self.min_level}")
        if self.text:
            parts.append(f"re:{self.text}" if self.regex else repr(self.text))
        return " ".join(parts) or "everything"

    def to_query(self) -> str:
        """The filter-bar text that parses back into this filter (the per-stream choice excluded)."""
        words = [f"src:{s}" for s in self.sources]
        if self.min_level:
            words.append(f"level:{self.min_level}")
        if self.text:
            words.append(("re:" if self.regex else "") + self.text)
        return " ".join(shlex.quote(w) if (" " in w or '"' in w or "'" in w) else w for w in words)


def parse_filter(query: str, *, base: LogFilter | None = None) -> LogFilter:
    """The filter bar's text → a filter (keeping `base`'s per-stream choice)."""
    try:
        words = shlex.split(query)
    except ValueError as exc:
        raise FilterError(f"cannot read the filter: {exc}") from None
    sources: list[str] = []
    level = ""
    texts: list[str] = []
    regex = ""
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key in ("src", "source"):
            if value:
                sources.append(value)
        elif sep and key in ("level", "lvl"):
            value = LEVEL_ALIASES.get(value.lower(), value.lower())
            if value and value not in LEVELS:
                raise FilterError(f"unknown level {value!r} (error, warn, info, debug)")
            level = value
        elif sep and key == "re":
            regex = value
        else:
            texts.append(word)
    if regex and texts:
        raise FilterError("use either re:… or plain words, not both")
    exact = base.exact_source if base else ""
    if regex:
        return LogFilter(tuple(sources), exact, level, regex, True)
    return LogFilter(tuple(sources), exact, level, " ".join(texts), False)
