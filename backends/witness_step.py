"""The gate's witness step: after a phase (and at export) post the chain head, record what happened.

A witness that cannot be posted never stops the gate: the failure is recorded with its reason (the
bundle then verifies only without `--witness`, or against an earlier witness) and shown as progress.
"""

from __future__ import annotations

from dataclasses import replace

from backends.config import Settings
from backends.errors import GateError
from backends.events import EventBus, Progress, WitnessPosted
from backends.evidence.store import EvidenceStore
from backends.github import GitHubAdapter
from backends.witness import WitnessIssue, gate_issue, post_witness


class Witness:
    def __init__(
        self, settings: Settings, github: GitHubAdapter | None, store: EvidenceStore, bus: EventBus
    ) -> None:
        self.settings = settings
        self.github = github
        self.store = store
        self.bus = bus
        self._issue: WitnessIssue | None = None

    @property
    def enabled(self) -> bool:
        return self.github is not None and self.settings.github is not None and self.settings.witness.enabled

    def _repo(self) -> str:
        assert self.settings.github is not None
        return self.settings.witness.repo or self.settings.github.platform_repo

    async def post(self, session: str, phase: str, at: tuple[int, str] | None = None) -> WitnessPosted | None:
        """Witness the chain as it is on disk now (or the `(records, head)` an export holds); None
        when no witness is configured."""
        if not self.enabled or self.github is None:
            return None
        self.store.flush()
        chain = self.store.verify()
        if not chain.ok:
            problem = f"the chain does not verify: {chain.problem}"
            event = WitnessPosted(phase, "", chain.count, chain.head, reason=problem)
        else:
            if at is not None:
                chain = replace(chain, count=at[0], head=at[1])
            try:
                await self.github.connect()
                if self._issue is None:
                    self._issue = await gate_issue(
                        self.github, self._repo(), session, self.settings.witness.issue
                    )
                url = await post_witness(self.github, self._issue, session, chain.count, chain.head, phase)
                event = WitnessPosted(phase, str(self._issue), chain.count, chain.head, url=url)
            except GateError as exc:
                where = str(self._issue) if self._issue else self._repo()
                event = WitnessPosted(phase, where, chain.count, chain.head, reason=str(exc).splitlines()[0])
        if event.reason:
            self.bus.publish(Progress(f"witness after {phase} not posted: {event.reason}"))
        self.bus.publish(event)
        return event
