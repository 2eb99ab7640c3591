"""The witness at export and at verify: the network half of `gateroom export|verify --witness…`.

Kept apart from the bundle code, which never touches the network: export writes the bundle, then
this posts its head; verify reads the witnesses first, then checks the bundle offline against them.
"""

from __future__ import annotations

from pathlib import Path

from backends.config import GitHubSettings, Settings
from backends.errors import GateError
from backends.events import EventBus, WitnessPosted
from backends.evidence.witness import Witnessed, WitnessError
from backends.github import GitHubAdapter
from backends.redact import Redactor
from backends.session import Session
from backends.witness import WitnessIssue, read_witnesses
from backends.witness_step import Witness


def _token(github: GitHubSettings) -> str:
    token = github.token()
    if not token:
        raise GateError(f"${github.token_env} is not set: GitHub cannot be asked about the witness")
    return token


async def witness_export(settings: Settings, session_dir: Path, records: int, head: str) -> WitnessPosted:
    """Post the exported head on the gate's issue and record that in the session."""
    if settings.github is None:
        raise GateError(f"{settings.source or 'the config'} has no [github]: nowhere to post the witness")
    if not settings.witness.enabled:
        raise GateError(f"{settings.source or 'the config'}: [witness] enabled = false")
    session = Session(session_dir)
    bus = EventBus()
    bus.subscribe(session.record)
    github = GitHubAdapter(settings.github, Redactor(), token=_token(settings.github))
    try:
        event = await Witness(settings, github, session.store, bus).post(
            session.session_id, "export", at=(records, head)
        )
    finally:
        await github.aclose()
        await session.aclose()
    assert event is not None  # enabled and configured, checked above
    return event


async def fetch_witnesses(
    github: GitHubSettings, issue: WitnessIssue, author: str | None
) -> list[Witnessed] | WitnessError:
    """The witnesses on the issue, or the reason one of them cannot be trusted (the verify stage
    fails on it); GateError when GitHub cannot be asked at all (verify cannot run)."""
    adapter = GitHubAdapter(github, Redactor(), token=_token(github))
    try:
        await adapter.connect()
        return await read_witnesses(adapter, issue, author)
    except WitnessError as exc:
        return exc
    finally:
        await adapter.aclose()
