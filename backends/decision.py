"""The owner's decision: bound to a chain head and to the digest of the bundle of that evidence.

A decision is final for the evidence it was made on. Records written afterwards that only say who
looked (logins, refused actions) or who decided do not change the evidence; anything else does,
and then the decision is stale and a new one is needed.
"""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from backends.bundle.content import LAYOUT, Record, build_files
from backends.bundle.errors import BundleError
from backends.bundle.manifest import bundle_digest
from backends.errors import GateError
from backends.events import ActionRecorded, DecisionRecorded
from backends.evidence.chain import GENESIS
from backends.signing import decision_statement, records_up_to
from backends.signoff import AUDIT_KINDS, DecisionStatus, SignoffSummary, decision_status, summarise
from backends.sshsig import DECISION_NAMESPACE, SignatureError, sign_with_agent

if TYPE_CHECKING:
    from backends.gate import Gate
    from backends.session import Session

DECISIONS = ("GO", "NO-GO")
DECIDING_ROLES = frozenset({"owner", "operator"})


class DecisionError(GateError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is at the keyboard: the local user, or a served user by key fingerprint."""

    who: str
    role: str = "operator"
    #: decides over `gateroom serve`: the decision is signed through the forwarded SSH agent
    #: (`agent_path`) with the key `who` names, and a GO without that signature is refused
    served: bool = False
    agent_path: str = ""

    @property
    def can_decide(self) -> bool:
        return self.role in DECIDING_ROLES


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return Actor(f"{user}@{socket.gethostname()}", "operator")


def session_excerpts(session_dir: Path):  # type: ignore[no-untyped-def]
    """Reads each excerpt's bytes from the session's log files, as the record points at them."""

    def read(record: Record) -> bytes:
        p = record["payload"]
        try:
            with open(Path(session_dir) / p["file"], "rb") as fh:
                fh.seek(int(p["start"]))
                return fh.read(int(p["end"]) - int(p["start"]))
        except (OSError, KeyError, ValueError) as exc:
            raise BundleError(
                f"record {record['seq']} (log excerpt): cannot read {p.get('file', '?')}: {exc}"
            ) from exc

    return read


def digest_at(session_dir: Path, records: Sequence[Record]) -> str:
    """The digest of the bundle `gateroom export` would write for exactly these records."""
    return bundle_digest(build_files(records, session_excerpts(session_dir), LAYOUT))


@dataclass(frozen=True)
class SignoffSnapshot:
    summary: SignoffSummary
    status: DecisionStatus


def snapshot(session: Session) -> SignoffSnapshot:
    """What the sign-off pane shows, from the evidence on disk (blocking: call it in a thread)."""
    session.store.flush()
    records = session.store.records()
    return SignoffSnapshot(summarise(records), decision_status(records))


def prepare(session: Session, actor: Actor, decision: str, comment: str = "") -> DecisionRecorded:
    """The decision event for the evidence on disk now (blocking); refused if already decided."""
    if decision not in DECISIONS:
        raise DecisionError(f"a decision is GO or NO-GO, not {decision!r}")
    if not actor.can_decide:
        raise DecisionError(f"a {actor.role} cannot record a decision")
    session.store.flush()
    records = session.store.records()
    if decision_status(records).final:
        raise DecisionError("a decision is already recorded for this evidence")
    head = records[-1]["hash"] if records else GENESIS
    digest = digest_at(session.dir, records)
    comment = " ".join(comment.split())
    return DecisionRecorded(decision, actor.who, comment, head, digest, actor.role, bundle_layout=LAYOUT)


def prepare_signed(
    session: Session, actor: Actor, decision: str, comment: str, sign: Callable[[bytes], str]
) -> DecisionRecorded:
    """`prepare`, then the decider's SSH signature over the decision statement (blocking)."""
    event = prepare(session, actor, decision, comment)
    closes = records_up_to(session.store.records(), event.chain_head)
    if closes is None:
        raise DecisionError("the evidence changed while the decision was prepared; decide again")
    return replace(event, signature=sign(decision_statement(event, closes)))


async def _sign_through_agent(session: Session, actor: Actor, event: DecisionRecorded) -> DecisionRecorded:
    records = await asyncio.to_thread(session.store.records)
    closes = records_up_to(records, event.chain_head)
    try:
        if closes is None:
            raise SignatureError("the evidence changed while the decision was prepared; decide again")
        statement = decision_statement(event, closes)
        signature, _ = await sign_with_agent(actor.agent_path, DECISION_NAMESPACE, statement, want=actor.who)
    except SignatureError as exc:
        if event.decision == "GO":
            raise DecisionError(f"GO not recorded: it must be signed with your key, but {exc}") from exc
        return event  # a NO-GO blocks the release either way; it is kept, unsigned
    return replace(event, signature=signature)


async def decide(gate: Gate, actor: Actor, decision: str, comment: str = "") -> DecisionRecorded:
    """Record the decision on the evidence as it is on disk now, and write it before returning."""
    event = await asyncio.to_thread(prepare, gate.session, actor, decision, comment)
    if actor.served:
        event = await _sign_through_agent(gate.session, actor, event)
    gate.bus.publish(event)
    await asyncio.to_thread(gate.session.store.flush)
    return event


async def refuse(gate: Gate, actor: Actor, action: str, detail: str = "") -> None:
    """Record an action the actor's role does not allow (the audit trail shows attempts too)."""
    gate.bus.publish(ActionRecorded(actor.who, actor.role, action, False, detail))
    await asyncio.to_thread(gate.session.store.flush)


__all__ = ["AUDIT_KINDS", "Actor", "DecisionStatus", "decide", "decision_status", "prepare", "snapshot"]
