"""How statuses look: colour always comes with the word, never instead of it."""

from __future__ import annotations

from rich.text import Text

STATUS_STYLE = {
    "PASS": "bold green",
    "WARN": "bold yellow",
    "FAIL": "bold red",
    "ERROR": "bold magenta",
    "SKIP": "dim",
    "RUNNING": "bold cyan",
    "PENDING": "dim",
    "GO": "bold black on green",
    "NO-GO": "bold white on red",
}


def status_text(status: str, width: int = 7) -> Text:
    return Text(status.center(width) if width else status, style=STATUS_STYLE.get(status, ""))
