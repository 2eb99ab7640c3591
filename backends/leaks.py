"""Secret leak findings: where a secret was seen, its kind and a fingerprint — never the value.

The adapters redact what they hand out, so a leak scan cannot work on their ordinary results. Instead
an adapter passes the raw text of a source (a pod log, a comment, a ConfigMap value) to a `Scan` the
moment it arrives and keeps only the `Leak`s it returns; the raw text goes no further. The detector
set is the redactor's own (shapes plus the literal secrets it has learnt), so what the gate redacts
and what it reports as leaked cannot drift apart.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from backends.redact import Redactor


@dataclass(frozen=True)
class Leak:
    source: str  # pod-log / comment / event / configmap / env
    where: str  # enough to find it again: object, line or key
    kind: str  # the detector's kind (github-token, jwt, known-secret, ...)
    fingerprint: str  # sha256 prefix of the value

    def line(self) -> str:
        return f"{self.source:<9} {self.where}  {self.kind}  sha256:{self.fingerprint}"


#: (raw text, source, where) -> findings; the text is not kept
Scan = Callable[[str, str, str], list[Leak]]


def scanner(redactor: Redactor) -> Scan:
    def scan(text: str, source: str, where: str) -> list[Leak]:
        if not text:
            return []
        found = redactor.findings(text)
        if not found:
            return []
        breaks = [i for i, ch in enumerate(text) if ch == "\n"]
        multiline = (bool(breaks) and breaks[-1] != len(text) - 1) or len(breaks) > 1
        out = []
        for f in found:
            at = f"{where}:{bisect.bisect_left(breaks, f.start) + 1}" if multiline else where
            out.append(Leak(source, at, f.kind, f.fingerprint))
        return out

    return scan


def summary(leaks: list[Leak], limit: int = 3) -> str:
    """One line for a check's reason: how many, and the first few places."""
    shown = "; ".join(f"{x.kind} in {x.source} {x.where}" for x in leaks[:limit])
    more = f" (+{len(leaks) - limit} more)" if len(leaks) > limit else ""
    return f"{len(leaks)} secret(s) found: {shown}{more}"
