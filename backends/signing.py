"""What is signed: the decision statement and the bundle manifest, as exact bytes.

A statement is plain text, so the owner (or anyone) can read what a signature vouches for and check
it with `ssh-keygen -Y verify` alone. It names the decision, who made it, the chain head, how many
records that head closes, and the digest of the bundle of exactly those records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from backends.events import DecisionRecorded
from backends.evidence.chain import GENESIS

STATEMENT_FORMAT = "gateroom-decision/1"
SIGNATURE_DIR = "signatures"
MANIFEST_SIG = "manifest.json.sig"


def records_up_to(records: Sequence[Mapping[str, Any]], head: str, before: int | None = None) -> int | None:
    """How many records the chain head closes (None: not a record of this chain before `before`)."""
    if head == GENESIS:
        return 0
    end = len(records) if before is None else before
    return next((j + 1 for j in range(end) if records[j]["hash"] == head), None)


def decision_statement(decision: DecisionRecorded, records: int) -> bytes:
    lines = [
        STATEMENT_FORMAT,
        f"decision: {decision.decision}",
        f"by: {decision.by}",
        f"chain_head: {decision.chain_head}",
        f"records: {records}",
        f"bundle_digest: {decision.bundle_digest}",
    ]
    return ("\n".join(lines) + "\n").encode()


def statement_names(seq: int) -> tuple[str, str]:
    base = f"{SIGNATURE_DIR}/decision-{seq:05d}"
    return f"{base}.txt", f"{base}.sig"
