"""Open a gate: settings + plan + session + bus + engine, wired once for the TUI and headless alike."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from backends.attention import Attention
from backends.attention_hook import AttentionHook, hook_environment
from backends.config import Settings
from backends.engine import Engine
from backends.events import EventBus
from backends.evidence.foreign import ForeignRecords
from backends.logs.hub import LogHub
from backends.plan.loader import load_plan
from backends.redact import Redactor
from backends.sandbox.world import SandboxWorld
from backends.session import Session, default_session_dir


@dataclass
class Gate:
    settings: Settings
    session: Session
    engine: Engine
    bus: EventBus
    world: SandboxWorld | None = None
    logs: LogHub | None = None
    foreign: ForeignRecords | None = None
    #: runs the `[attention] command` for each event that needs the operator
    hook: AttentionHook | None = None
    #: who sits at this terminal; recorded with manual results (the SSH server sets its user's key)
    operator: str = field(default_factory=lambda: f"local:{getpass.getuser()}")

    def start_logs(self) -> None:
        """Start following the log sources the settings name (journal units, files, pods)."""
        if self.logs is not None:
            self.logs.start(self.engine.log_sources())

    async def aclose(self) -> None:
        if self.hook is not None:
            await self.hook.aclose()  # first: the end of the gate reaches the operator, and is recorded
        if self.foreign is not None:
            await self.foreign.aclose()
        if self.logs is not None:
            await self.logs.aclose()  # before the engine closes the connections the sources use
        await self.engine.aclose()
        await self.session.aclose()
        if self.world is not None:
            await self.world.stop()


def _known_secrets(settings: Settings) -> list[str]:
    found = []
    if settings.github is not None and settings.github.token():
        found.append(settings.github.token() or "")
    if settings.platform is not None and settings.platform.token():
        found.append(settings.platform.token() or "")
    return found


def _attention_hook(settings: Settings, bus: EventBus, redactor: Redactor) -> AttentionHook | None:
    config = settings.attention
    if not config.command:
        return None
    tokens = {"GATEROOM_GITHUB_TOKEN", "GATEROOM_STAFF_TOKEN"}
    tokens |= {s.token_env for s in (settings.github, settings.platform) if s is not None}
    return AttentionHook(
        config.command,
        config.timeout_s,
        bus,
        redactor.redact,
        target=settings.target_label,
        env=hook_environment(tokens, os.environ),
    )


async def open_gate(
    settings: Settings,
    session_dir: Path | None = None,
    *,
    world: SandboxWorld | None = None,
    secrets: Iterable[str] = (),
    github_token: str | None = None,
    platform_token: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Gate:
    """Open the session and start following logs; `secrets` are redacted from the first line on."""
    plan = load_plan(settings.plan)
    session = Session(session_dir or settings.session_dir or default_session_dir(), clock)
    bus = EventBus()
    bus.subscribe(session.record)
    redactor = Redactor([*_known_secrets(settings), *secrets, *([github_token] if github_token else [])])
    engine = Engine(
        settings, plan, session, bus, redactor, github_token=github_token, platform_token=platform_token
    )
    hook = _attention_hook(settings, bus, redactor)
    bus.subscribe(
        Attention(bus, plan, session.state, redactor.redact, needs=settings.attention.on, hook=hook)
    )
    session.store.start()
    bus.publish(session.open(settings.target_label, plan.name))
    logs = LogHub(session.logs, redactor, bus, ring_size=settings.logs.ring_lines)
    gate = Gate(settings, session, engine, bus, world, logs, hook=hook)
    gate.foreign = ForeignRecords(session, bus)
    gate.foreign.start()
    gate.start_logs()
    return gate


async def open_demo_gate(
    session_dir: Path | None = None,
    faults: Iterable[str] = (),
    *,
    locale: str = "ru",
    via_host: bool = False,
) -> Gate:
    world = SandboxWorld.create(faults, locale=locale)
    await world.start()
    try:
        secrets = world.secret_values.values()
        gate = await open_gate(
            world.settings(via_host=via_host),
            session_dir,
            world=world,
            secrets=secrets,
            github_token=world.github_token,
            platform_token=world.staff_token,
        )
    except BaseException:
        await world.stop()
        raise
    for value in world.secret_values.values():
        gate.engine.redactor.add_secret(value)
    return gate
