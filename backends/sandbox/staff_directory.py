"""The sandbox platform's user table and projects: users and their platform flags, projects, members
with their roles, repository bindings, and the staff tokens issued to users.

Two faults act here, as the platform itself would see its tables: `platform.gate-not-member` hides
the gate's login's platform flags and project roles (a staff token issued earlier still carries its
claims), `platform.repo-unbound` hides the binding of `fault_repo`.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from backends.sandbox.faults import FaultSet, register
from backends.sandbox.staff_enums import PROJECT_ROLES, TRIGGER_ROLES
from backends.sandbox.staff_tokens import DEFAULT_TTL_S, StaffTokens

register(
    "platform.gate-not-member",
    "platform",
    "the gate's GitHub login is neither a platform admin nor a project member: every trigger is refused",
    # every run-based scenario and probe fails too (sender_not_allowed); the check names the cause
    ["platform.trigger-rights"],
)
register(
    "platform.repo-unbound",
    "platform",
    "the project repository is bound to no platform project",
    # its runs are refused (repository_not_bound_for_issue_label), its docset has no binding to go to
    ["platform.repos-bound", "F1", "X1", "R1", "O-project"],
)


@dataclass
class UserRecord:
    id: str
    email: str
    github_login: str
    github_user_id: int
    is_platform_admin: bool = False
    is_platform_owner: bool = False


@dataclass
class ProjectRecord:
    id: str
    slug: str
    name: str


@dataclass
class BindingRecord:
    id: str
    project_id: str
    owner: str
    name: str
    external_id: int
    alias: str = ""
    role: str = "service"
    default_ref: str = "main"
    provider: str = "github"
    services_yaml_path: str = "services.yaml"
    preflight_updated_at: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class ProjectTokens:
    """project_github_tokens: a project's own platform and bot tokens (encrypted at rest; the staff
    API says only whether they are set)."""

    has_platform_token: bool = False
    has_bot_token: bool = False
    bot_username: str = ""
    bot_email: str = ""


class StaffDirectory:
    def __init__(self, faults: FaultSet | None = None, *, gate_login: str = "", fault_repo: str = "") -> None:
        self.faults = faults or FaultSet()
        #: the login `platform.gate-not-member` hides, the repository the repo faults act on
        self.gate_login = gate_login
        self.fault_repo = fault_repo
        self.tokens = StaffTokens()
        self.users: dict[str, UserRecord] = {}  # by lower-case GitHub login
        self.projects: dict[str, ProjectRecord] = {}
        self.members: dict[tuple[str, str], str] = {}  # (project_id, user_id) -> role
        self.bindings: dict[str, BindingRecord] = {}
        #: project id -> its own GitHub token overrides (whether each is set; values are never kept)
        self.project_tokens: dict[str, ProjectTokens] = {}
        self._ids = itertools.count(1)

    # -- users, projects, members, bindings ----------------------------------------------------------
    def user(self, login: str) -> UserRecord:
        """The user with this GitHub login, created (allowed, no rights) on first mention."""
        key = login.lower()
        if key not in self.users:
            uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{key}"))
            self.users[key] = UserRecord(
                uid, f"{key}@users.noreply.github.com", login, 100_000 + next(self._ids)
            )
        return self.users[key]

    def _hidden(self, login: str) -> bool:
        return (
            bool(self.gate_login)
            and login.lower() == self.gate_login.lower()
            and self.faults.active("platform.gate-not-member")
        )

    def add_project(self, project_id: str, name: str, slug: str) -> ProjectRecord:
        self.projects[project_id] = ProjectRecord(project_id, slug, name)
        return self.projects[project_id]

    def add_member(self, project_id: str, login: str, role: str) -> None:
        if role not in PROJECT_ROLES:
            raise ValueError(f"role must be one of {', '.join(PROJECT_ROLES)}, not {role!r}")
        self.members[(self._project(project_id).id, self.user(login).id)] = role

    def bind_repository(self, project_id: str, repository_id: str, full_name: str) -> BindingRecord:
        owner, _, name = full_name.partition("/")
        binding = BindingRecord(
            repository_id, self._project(project_id).id, owner, name, 500_000 + next(self._ids), alias=name
        )
        self.bindings[repository_id] = binding
        return binding

    def set_project_tokens(self, project_id: str, tokens: ProjectTokens) -> None:
        self.project_tokens[self._project(project_id).id] = tokens

    def tokens_of(self, project_id: str) -> ProjectTokens:
        return self.project_tokens.get(project_id, ProjectTokens())

    def token_scopes(self, repository_id: str) -> tuple[str, str]:
        """Which token the staff service uses for the repository (staff resolveEffectiveGitHubTokens):
        the binding's own platform token (every binding is created with one), and the bot token of
        the project when it has one, else the platform's."""
        binding = self.bindings[repository_id]
        return "repository", "project" if self.tokens_of(binding.project_id).has_bot_token else "platform"

    def set_platform_admin(self, login: str, admin: bool) -> None:
        self.user(login).is_platform_admin = admin

    def set_platform_owner(self, login: str, owner: bool) -> None:
        user = self.user(login)
        user.is_platform_owner = owner
        user.is_platform_admin = user.is_platform_admin or owner

    def is_platform_admin(self, login: str) -> bool:
        user = self.users.get(login.lower())
        return user is not None and user.is_platform_admin and not self._hidden(login)

    def is_platform_owner(self, login: str) -> bool:
        user = self.users.get(login.lower())
        return user is not None and user.is_platform_owner and not self._hidden(login)

    def visible_bindings(self) -> list[BindingRecord]:
        hide = self.fault_repo.lower() if self.faults.active("platform.repo-unbound") else None
        return [b for b in self.bindings.values() if b.full_name.lower() != hide]

    def project_of_repo(self, full_name: str) -> ProjectRecord | None:
        for binding in self.visible_bindings():
            if binding.full_name.lower() == full_name.lower():
                return self.projects[binding.project_id]
        return None

    def role_in_project(self, project_id: str, login: str) -> str | None:
        user = self.users.get(login.lower())
        if user is None or self._hidden(login):
            return None
        return self.members.get((project_id, user.id))

    def member_role(self, login: str, full_name: str) -> str | None:
        project = self.project_of_repo(full_name)
        return None if project is None else self.role_in_project(project.id, login)

    def project_members(self, project_id: str) -> list[tuple[UserRecord, str]]:
        by_id = {u.id: u for u in self.users.values()}
        return [
            (by_id[uid], role)
            for (pid, uid), role in self.members.items()
            if pid == project_id and not self._hidden(by_id[uid].github_login)
        ]

    def trigger_allowed(self, login: str, full_name: str) -> tuple[bool, str]:
        """May this GitHub user start a run by label here? With the platform's reason codes
        (control-plane domain/webhook/service_helpers.go isActorAllowedForIssueTrigger)."""
        project = self.project_of_repo(full_name)
        if project is None:
            return False, "repository_not_bound_for_issue_label"
        if login.lower() not in self.users:
            return False, "sender_not_allowed"
        if self.is_platform_owner(login):
            return True, "platform_owner"
        if self.is_platform_admin(login):
            return True, "platform_admin"
        role = self.role_in_project(project.id, login)
        if role is None:
            return False, "sender_not_project_member"
        if role in TRIGGER_ROLES:
            return True, f"project_member_{role}"
        return False, f"sender_role_{role}_not_permitted"

    def _project(self, project_id: str) -> ProjectRecord:
        if project_id not in self.projects:
            raise KeyError(f"no project {project_id!r}")
        return self.projects[project_id]

    # -- tokens ----------------------------------------------------------------------------------------
    def issue_token(self, login: str, ttl_s: float = DEFAULT_TTL_S) -> str:
        """A staff JWT for this user, carrying its flags as they are now (like a browser login)."""
        user = self.user(login)
        return self.tokens.issue(
            user.id,
            user.email,
            user.github_login,
            is_admin=user.is_platform_admin,
            is_owner=user.is_platform_owner,
            ttl_s=ttl_s,
        )
