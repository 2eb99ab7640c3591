"""What a publication publishes: the session's records up to its last record that is not itself about
publishing, with a decision on them that is still current, and their bundle.

Publication records are kept out so a second run publishes the very same bundle (same files, same
archive bytes, same digest) and finds everything already right; anything else recorded in between
(a new decision, a witness) is new evidence, and the next run publishes it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.bundle.errors import BundleError
from backends.bundle.export import ARCHIVE_SUFFIX, archive_bytes, files_of, session_records
from backends.bundle.manifest import MANIFEST
from backends.bundle.runs import runs_document
from backends.bundle.verify import verify_bundle
from backends.errors import GateError
from backends.events import DecisionRecorded, PublishFinished, PublishStep
from backends.signoff import SignoffSummary, decision_status, summarise

PUBLICATION_KINDS = frozenset({PublishStep.kind, PublishFinished.kind})


class PublishError(GateError):
    """Publication cannot go on: one line saying why and, when it stopped part-way, that a rerun
    finishes it."""


@dataclass(frozen=True)
class Decided:
    session_id: str
    records: Sequence[Mapping[str, Any]]
    summary: SignoffSummary
    decision: DecisionRecorded
    decided_at: float
    runs: Mapping[str, Any] | None
    files: Mapping[str, bytes]
    archive: bytes
    digest: str
    head: str

    @property
    def asset_name(self) -> str:
        return f"gateroom-{self.session_id}{ARCHIVE_SUFFIX}"


def published_part(records: Sequence[Mapping[str, Any]]) -> int:
    """How many records are published: all up to the last one that is not about publishing."""
    cut = len(records)
    while cut and records[cut - 1]["kind"] in PUBLICATION_KINDS:
        cut -= 1
    return cut


def _verified(archive: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="gateroom-publish-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(archive)
        result = verify_bundle(path)
    if not result.ok:
        raise PublishError(f"the bundle does not verify: [{result.stage}] {result.problem}")


def decided_evidence(session_dir: Path, known_secrets: Iterable[str] = ()) -> Decided:
    try:
        every = session_records(session_dir)
    except BundleError as exc:
        raise PublishError(str(exc)) from None
    records = every[: published_part(every)]
    status = decision_status(records)
    if status.decision is None:
        raise PublishError(
            "no decision recorded on this evidence: the owner decides first (pane 5, gateroom sign)"
        )
    if status.stale:
        raise PublishError(
            "the decision is stale (evidence was added after it): the owner decides again before publishing"
        )
    summary = summarise(records)
    try:
        files = files_of(records, session_dir, known_secrets)
    except BundleError as exc:
        raise PublishError(str(exc)) from None
    session_id = summary.state.session_id or "session"
    archive = archive_bytes(files, f"gateroom-{session_id}")
    decided = Decided(
        session_id=session_id,
        records=records,
        summary=summary,
        decision=status.decision,
        decided_at=status.decided_at,
        runs=runs_document(records, summary),
        files=files,
        archive=archive,
        digest=_manifest_digest(files),
        head=summary.head,
    )
    _verified(archive, decided.asset_name)
    return decided


def _manifest_digest(files: Mapping[str, bytes]) -> str:
    return str(json.loads(files[MANIFEST])["digest"])
