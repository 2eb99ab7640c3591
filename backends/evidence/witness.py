"""The witness: a chain head and record count posted outside the session, and checking a bundle against it.

A bundle alone proves only that its records chain; whoever holds it can drop the last records and
re-chain the manifest. The gate therefore posts `(session, records, head)` as a comment on the gate's
GitHub issue at the end of each phase and at export: GitHub's timestamp on a comment nobody edited is
the outside witness. A bundle passes only if it holds at least as many records as were ever witnessed
for its session and its record at each witnessed count has the witnessed hash (the same prefix).

The comment carries a hidden marker of the gate's own format (one line, JSON):
`<!-- gateroom:witness {"session": "…", "records": 573, "head": "…", "phase": "scenarios"} -->`.
No I/O here: posting and reading comments is `backends.witness`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MARKER = "gateroom:witness"
_MARKER_RE = re.compile(r"<!--\s*gateroom:witness\s+(\{.*?\})\s*-->")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
PHASES = ("checks", "scenarios", "finished", "export")


class WitnessError(ValueError):
    """A witness comment that carries the marker but cannot be read: fail closed, never skip it."""


@dataclass(frozen=True)
class Witnessed:
    session: str
    records: int
    head: str
    phase: str
    #: where GitHub says it was posted (filled in by the reader; "" when built locally)
    comment_id: int = 0
    author: str = ""
    created_at: str = ""


def witness_comment(session: str, records: int, head: str, phase: str) -> str:
    """The comment body: one readable line for people, the marker for `gateroom verify --witness`."""
    marker = json.dumps(
        {"session": session, "records": records, "head": head, "phase": phase}, separators=(",", ":")
    )
    return (
        f"Gate Room witness: session `{session}`, {records} evidence records, chain head `{head[:12]}`"
        f" (after {phase}).\n\n<!-- {MARKER} {marker} -->"
    )


def parse_witness(body: str) -> Witnessed | None:
    """The witness in a comment body; None when the comment carries no witness marker."""
    found = _MARKER_RE.findall(body)
    if not found:
        if MARKER in body:
            raise WitnessError("a witness marker that is not `<!-- gateroom:witness {json} -->`")
        return None
    try:
        data = json.loads(found[-1])
    except ValueError as exc:
        raise WitnessError(
            f"the witness marker is not valid JSON ({exc.args[0] if exc.args else exc})"
        ) from exc
    if not isinstance(data, dict):
        raise WitnessError("the witness marker is not a JSON object")
    session, records, head, phase = (data.get(k) for k in ("session", "records", "head", "phase"))
    if not isinstance(session, str) or not session:
        raise WitnessError("the witness marker names no session")
    if not isinstance(records, int) or isinstance(records, bool) or records < 0:
        raise WitnessError(f"the witness marker's record count {records!r} is not a count")
    if not isinstance(head, str) or not _HEX64.match(head):
        raise WitnessError(f"the witness marker's head {head!r} is not a SHA-256")
    return Witnessed(session, records, head, str(phase or ""))


@dataclass(frozen=True)
class WitnessCheck:
    ok: bool
    detail: str  # one line: what was compared, or the first disagreement


def check_against(
    records: Sequence[Mapping[str, Any]], session: str, witnesses: Iterable[Witnessed]
) -> WitnessCheck:
    """Every witness of `session` must be a prefix of `records`; the latest one bounds the count.

    Witnesses of other sessions (the issue may serve several) are ignored; none at all is a failure,
    because the caller asked for a witness and an unwitnessed bundle is exactly what a forger produces.
    """
    mine = sorted((w for w in witnesses if w.session == session), key=lambda w: (w.records, w.created_at))
    if not mine:
        return WitnessCheck(False, f"no witness for session {session} on the issue")
    for w in mine:
        where = f"witness of {w.created_at or 'unknown time'} by {w.author or 'unknown'} ({w.phase})"
        if w.records > len(records):
            return WitnessCheck(
                False,
                f"the bundle has {len(records)} records, but {w.records} were witnessed ({where}): "
                f"records were removed",
            )
        if w.records == 0:
            continue
        actual = records[w.records - 1].get("hash")
        if actual != w.head:
            return WitnessCheck(
                False,
                f"record {w.records} has hash {str(actual)[:12]}, but {where} names {w.head[:12]}: "
                f"a different history",
            )
    latest = mine[-1]
    return WitnessCheck(
        True,
        f"{len(mine)} witness(es) agree; latest: {latest.records} records, head {latest.head[:12]}, "
        f"posted {latest.created_at or '?'} by {latest.author or '?'} ({latest.phase}); "
        f"the bundle has {len(records)}",
    )
