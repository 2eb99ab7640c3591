"""Level detection by cheap heuristics: a couple of regex probes over the head of the line, no parsing.

Recognised, in the order a line is most likely to show them:
  klog (k3s, kubelet, controllers)   `E1124 05:57:55.123456 ...`   (I/W/E/F + MMDD)
  logfmt / JSON / zap / logrus       `level=warn`, `"level":"error"`, `"severity":"WARNING"`, `lvl=dbug`
  a bare upper-case word             `ERROR`, `[WARN]`, `INFO:`, `DEBUG`, `FATAL`, `panic:`
Anything else has no level (shown blank, counted as info when filtering by level).

Python's `re` is slow at alternations that start with `\\b` or case-insensitive groups (every position
is tried), so the probe is a plain alternation of literals (which `re` scans with a first-character
set), and word boundaries and key/value forms are checked in Python only when it hits.
"""

from __future__ import annotations

import re

# Levels, most severe first. "" = no level recognised.
ERROR, WARN, INFO, DEBUG, NONE = "error", "warn", "info", "debug", ""
LEVELS = (ERROR, WARN, INFO, DEBUG)
#: for "at least this severe" filters; a line with no level counts as info
LEVEL_RANK = {ERROR: 0, WARN: 1, INFO: 2, DEBUG: 3, NONE: 2}

#: how much of a line is looked at: levels live at the start, messages can be long
HEAD = 160

_KLOG = re.compile(r"([IWEFD])\d{4} \d\d:").match
_KLOG_LEVEL = {"I": INFO, "W": WARN, "E": ERROR, "F": ERROR, "D": DEBUG}

_WORDS = {
    "ERROR": ERROR, "ERR": ERROR, "FATAL": ERROR, "PANIC": ERROR, "CRITICAL": ERROR, "CRIT": ERROR,
    "EMERG": ERROR, "ALERT": ERROR, "WARN": WARN, "WARNING": WARN, "INFO": INFO, "NOTICE": INFO,
    "DEBUG": DEBUG, "TRACE": DEBUG,
}  # fmt: skip
_VALUES = {
    "err": ERROR, "error": ERROR, "eror": ERROR, "fatal": ERROR, "panic": ERROR, "crit": ERROR,
    "critical": ERROR, "alert": ERROR, "emerg": ERROR, "warn": WARN, "warning": WARN, "info": INFO,
    "inf": INFO, "notice": INFO, "debug": DEBUG, "dbug": DEBUG, "dbg": DEBUG, "trace": DEBUG,
}  # fmt: skip

# longest alternatives first so WARNING wins over WARN; upper case only (few false starts)
_PROBE = re.compile("|".join(sorted(_WORDS, key=len, reverse=True))).search
_KEYS = ("evel", "lvl", "everity", "EVEL")  # level, Level, LEVEL, lvl, severity, Severity
_KEY_VALUE = re.compile(r"""["']?\s*[=:]\s*["']?([A-Za-z]+)""").match


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _key_value_level(text: str, end: int) -> str:
    for key in _KEYS:
        at = text.find(key, 0, end)
        if at >= 0:
            kv = _KEY_VALUE(text, at + len(key))
            if kv is not None:
                level = _VALUES.get(kv.group(1).lower())
                if level is not None:
                    return level
    return NONE


def detect_level(text: str) -> str:
    """error / warn / info / debug, or "" when the line names no level."""
    klog = _KLOG(text)
    if klog is not None:
        return _KLOG_LEVEL[klog.group(1)]
    end = min(len(text), HEAD)
    level = _key_value_level(text, end)
    if level:
        return level
    pos = 0
    while (m := _PROBE(text, pos, end)) is not None:
        start, stop = m.span()
        before = text[start - 1] if start else " "
        after = text[stop] if stop < len(text) else " "
        if not _is_word_char(before) and not _is_word_char(after):
            return _WORDS[m.group()]
        pos = start + 1
    if text.startswith(("panic:", "Traceback (most")):
        return ERROR
    return NONE


def detect_levels(texts: list[str]) -> list[str]:
    return [detect_level(t) for t in texts]


#: journald PRIORITY (syslog severity) → level
PRIORITY_LEVEL = {"0": ERROR, "1": ERROR, "2": ERROR, "3": ERROR, "4": WARN, "5": INFO, "6": INFO, "7": DEBUG}
