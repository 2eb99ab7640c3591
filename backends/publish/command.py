"""The two ways to publish: `gateroom publish` (a session directory and a config file) and the
sign-off pane's key (the open gate, its GitHub adapter and its event bus)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from backends.config import Settings
from backends.events import Event
from backends.evidence.store import EvidenceStore
from backends.github import GitHubAdapter
from backends.publish.evidence import PublishError
from backends.publish.run import PublishResult, publish
from backends.redact import Redactor
from backends.session import STORE_FILE

if TYPE_CHECKING:
    from backends.gate import Gate


def _secrets(settings: Settings) -> list[str]:
    found = [settings.github.token() if settings.github else None]
    found.append(settings.platform.token() if settings.platform else None)
    return [s for s in found if s]


async def publish_session(
    settings: Settings, session_dir: Path, on_event: Callable[[Event], None] | None = None
) -> PublishResult:
    """Publish a session from outside the gate: each step is flushed to its evidence as it finishes
    (under the store's lock, so a running gate on the same session reads them as others' records)."""
    if settings.publish is None or settings.github is None:
        raise PublishError("no [publish] section in the configuration (see gateroom.example.toml)")
    if not (Path(session_dir) / STORE_FILE).is_file():
        raise PublishError(f"{session_dir}: no session here (no {STORE_FILE})")
    store = EvidenceStore(Path(session_dir) / STORE_FILE)
    secrets = _secrets(settings)
    gh = GitHubAdapter(settings.github, Redactor(secrets))

    def record(event: Event) -> None:
        store.record_event(event)
        store.flush()
        if on_event is not None:
            on_event(event)

    try:
        return await publish(settings, session_dir, gh, record, known_secrets=secrets)
    finally:
        await gh.aclose()
        await asyncio.to_thread(store.flush)


async def publish_gate(gate: Gate) -> PublishResult:
    """Publish the open gate's session through its own GitHub adapter; the steps go on its bus."""
    settings = gate.settings
    if settings.publish is None:
        raise PublishError("no [publish] section in the configuration: nothing says where to publish")
    github = gate.engine.github
    if github is None:
        raise PublishError("no [github] configured: there is nowhere to publish")
    await asyncio.to_thread(gate.session.store.flush)  # what is shown is what gets published
    secrets = _secrets(settings)  # the sandbox's tokens are matched by their pattern in the scan
    return await publish(settings, gate.session.dir, github, gate.bus.publish, known_secrets=secrets)
