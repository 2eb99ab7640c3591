"""A sandbox staff API on loopback, seeded like the sandbox world: the platform project and the example
project, each with its repository bound and the gate's login as a read_write member and platform admin."""

from __future__ import annotations

from dataclasses import dataclass

from backends.config import PlatformSettings
from backends.platform_api import PlatformAdapter
from backends.redact import Redactor
from backends.sandbox.faults import FaultSet
from backends.sandbox.github_state import OPERATOR
from backends.sandbox.staff_api import SandboxStaffApi
from backends.sandbox.staff_state import StaffState

PLATFORM_REPO, PROJECT_REPO = "codex-k8s/codex-k8s", "codex-k8s/project-example"
PROJECTS = {
    "p-kodex": ("kodex", PLATFORM_REPO, "r-kodex"),
    "p-example": ("project-example", PROJECT_REPO, "r-example"),
}


@dataclass
class StaffRig:
    faults: FaultSet
    state: StaffState
    api: SandboxStaffApi
    token: str
    redactor: Redactor

    def settings(self, timeout: float = 5.0) -> PlatformSettings:
        return PlatformSettings(api_url=self.api.url, timeout=timeout)

    def adapter(self, *, token: str | None = None, timeout: float = 5.0) -> PlatformAdapter:
        return PlatformAdapter(self.settings(timeout), self.redactor, token=token or self.token)

    async def stop(self) -> None:
        await self.api.stop()


def seeded_state(faults: FaultSet, login: str = OPERATOR) -> StaffState:
    state = StaffState(faults, gate_login=login, fault_repo=PROJECT_REPO)
    for project_id, (slug, repo, repo_id) in PROJECTS.items():
        state.add_project(project_id, slug, slug)
        state.add_member(project_id, login, "read_write")
        state.bind_repository(project_id, repo_id, repo)
    state.set_platform_admin(login, True)
    return state


async def start_staff(faults: FaultSet | None = None, *, slow_s: float = 30.0) -> StaffRig:
    faults = faults or FaultSet()
    state = seeded_state(faults)
    api = SandboxStaffApi(state, faults, slow_s=slow_s)
    await api.start()
    token = state.issue_token(OPERATOR)
    return StaffRig(faults, state, api, token, Redactor([token]))
