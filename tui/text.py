"""Outside text on screen: always data, never markup, never terminal instructions.

Labels, titles, comments, notes, host output and log lines come from people and programs the gate
does not control. They reach the screen only through `plain` (a rich `Text`, which Textual never
parses for markup) or `printable` (a str for the few places that take one, with markup=False), so
`[/]`, `[red]PASS[/]` or `[ai-model-x]` show as written. Both make the text safe for a terminal:

  escape sequences   ESC [ … (CSI: colours, cursor moves), ESC ] … (OSC: hyperlinks, window
                     titles) and the other ESC forms are removed: they are instructions for the
                     program's own terminal; the text between them stays
  tab                becomes spaces to the next multiple of four columns
  newline            kept where the field has lines, shown as ␊ in a one-line field
  other controls     C0 and DEL as their Unicode control pictures (␀ … ␟, ␡), C1 (U+0080–U+009F,
                     8-bit CSI and OSC included) as a \\x9b-style escape, and what follows them is
                     kept as text: visible, and one glance tells they were there
"""

from __future__ import annotations

import re
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel
from textual.widget import Widget

#: escape sequences (ECMA-48): CSI, then the string kinds (OSC, DCS, SOS, PM, APC) up to their
#: terminator (BEL or ST) or the end, then the two- and three-character ESC forms
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROL_KEEP_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TAB = 4
#: a table cell holds at most this much; the detail views show the whole text
CELL_LIMIT = 1_000


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}"


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def printable(value: object, *, one_line: bool = False, limit: int | None = None) -> str:
    """`value` as text a terminal shows and does not obey (see the module's rules)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case costs one C scan
        return _clip(text, limit)
    if "\x1b" in text:
        text = _SEQUENCE.sub("", text)
    if "\t" in text:
        text = "\n".join(line.expandtabs(_TAB) for line in text.split("\n"))
    if "\r\n" in text and not one_line:
        text = text.replace("\r\n", "\n")
    text = (_CONTROL if one_line else _CONTROL_KEEP_NEWLINE).sub(_picture, text)
    return _clip(text, limit)


def plain(value: object, style: str | Style = "", *, one_line: bool = False) -> Text:
    """Outside text as a `Text`: never parsed as markup, made printable."""
    return Text(printable(value, one_line=one_line), style=style)


def cell(value: object, style: str | Style = "", *, limit: int = CELL_LIMIT) -> Text:
    """A table cell: one line of outside text, clipped at `limit` characters."""
    return Text(printable(value, one_line=True, limit=limit), style=style)


def notify(
    where: Widget | App[Any],
    message: str,
    *,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A toast whose words may come from outside (an error, a key, a name): shown as written."""
    where.notify(
        printable(message),
        title=printable(title, one_line=True),
        severity=severity,
        timeout=timeout,
        markup=False,
    )
