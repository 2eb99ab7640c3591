"""A gate that follows a session another process is running: what every served terminal opens.

The operator's app owns the engine and writes the evidence; a served terminal only reads it. Its
state comes from the records on disk alone, followed from a byte offset (each poll reads only the
lines appended since the last), so what a viewer sees is exactly what is recorded. What the served
user does (a decision, a refused action) is written to the store and shows up on screen when it is
read back, like everything else.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

from backends.config import Settings, settings_from_dict
from backends.engine import Engine
from backends.events import Event, EventBus, event_from_record
from backends.evidence.foreign import StorePoller
from backends.gate import Gate
from backends.plan.loader import load_plan
from backends.redact import Redactor
from backends.session import Session
from backends.state import GateState

#: how soon a record shows on a viewer's screen; also how often a table that keeps changing is
#: redrawn (a redraw of a visible table is the dearest thing a served terminal does while idle)
POLL_INTERVAL_S = 1.0
#: a store nobody writes to is looked at less and less often, down to this
IDLE_INTERVAL_S = 2.0


class StoreFollower(StorePoller):
    """Applies records other processes (and this one) wrote to the state, and publishes them."""

    def __init__(self, session: Session, bus: EventBus, interval: float = POLL_INTERVAL_S) -> None:
        super().__init__(session, bus, interval)
        self.replaying = False
        self.base_interval = interval
        self._seen: tuple[int, int, int] | None = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.tail.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def poll_sync(self) -> list[Event]:
        """Read new records (blocking); returns their events, already applied to the state."""
        events = []
        for record in self.read_new():
            event = event_from_record(record["kind"], record["payload"])
            if event is not None:
                self.session.state.apply(event)
                events.append(event)
        return events

    def publish(self, events: list[Event]) -> None:
        self.replaying = True
        try:
            for event in events:
                self.bus.publish(event)
        finally:
            self.replaying = False

    async def poll(self) -> None:
        seen = self._stat()
        if seen is not None and seen == self._seen:
            # nothing appended or replaced: one stat on the loop, no thread, and a longer wait
            self.interval = min(self.interval * 2, IDLE_INTERVAL_S)
            return
        self.interval = self.base_interval
        # noted before reading: whatever is appended meanwhile changes the next stat, and is read then
        self._seen = seen
        try:
            events = await asyncio.to_thread(self.poll_sync)
        except BaseException:
            self._seen = None  # not read: look again next time
            raise
        self.publish(events)


@dataclass
class WatchGate(Gate):
    follower: StoreFollower | None = field(default=None)

    async def aclose(self) -> None:
        if self.follower is not None:
            await self.follower.aclose()
        await super().aclose()


def _endpoint(target: str) -> dict[str, object]:
    """user@address:port (as SessionOpened and the SSH check record it) as host settings."""
    user, _, rest = target.rpartition("@")
    address, _, port = rest.rpartition(":")
    return {
        "address": address or rest or "unknown",
        "user": user or "codex",
        "port": int(port) if port.isdigit() else 22,
    }


def _settings_for(state: GateState) -> Settings:
    # The served terminal has no config file: describe the hosts as the session recorded them. Only
    # host checks name a host; security, GitHub and cluster checks name groups, repos and contexts.
    names = sorted({r.target for r in state.checks.values() if r.area == "host" and r.target})
    hosts = []
    for name in names or ["target"]:
        ssh = state.checks.get(f"{name}/host.ssh")
        seen = ssh.observed if ssh is not None and "@" in ssh.observed else state.target
        hosts.append({"name": name, **_endpoint(seen)})
    return settings_from_dict({"hosts": hosts})


async def open_watch_gate(session_dir: Path, operator: str) -> WatchGate:
    session = Session(session_dir)
    session.state = GateState()  # rebuilt by the follower from the file, as every later record is
    bus = EventBus()
    follower = StoreFollower(session, bus)

    def write_own(event: Event) -> None:
        if event.recorded and not follower.replaying:
            session.store.append(event.kind, event.to_payload())

    bus.subscribe(write_own)
    await asyncio.to_thread(follower.poll_sync)
    settings = _settings_for(session.state)
    engine = Engine(settings, load_plan(None), session, bus, Redactor())
    session.store.start()
    follower.start()
    return WatchGate(settings, session, engine, bus, operator=operator, follower=follower)
