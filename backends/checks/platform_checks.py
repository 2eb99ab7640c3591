"""The platform's own view of the gate, through its staff API: the staff token works, every configured
repository is bound to a project, the gate's GitHub login may start runs there by label, and the
platform's onboarding preflight of each bound repository passes.

A repository that is not bound is reported by platform.repos-bound alone; the other checks say they
did not examine it, and skip when that leaves nothing to examine.
"""

from __future__ import annotations

from dataclasses import replace

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.errors import AdapterError
from backends.platform_api.models import Project, RepositoryBinding, User

NO_PLATFORM = "no [platform] configured"
NO_REPOS = "no repositories configured ([github] platform_repo, project_repos)"
API_YAML = "services/external/api-gateway/api/server/api.yaml"
STAFF_AUTH = "services/external/api-gateway/internal/transport/http/staff_auth.go"
TRIGGER_RULE = "services/internal/control-plane/internal/domain/webhook/service_helpers.go"
PREFLIGHT = "services/internal/control-plane/internal/domain/staff/service_repository_management.go"
#: project roles isActorAllowedForIssueTrigger lets start a run
TRIGGER_ROLES = ("admin", "read_write")

Bound = dict[str, tuple[Project, RepositoryBinding]]


def configured_repos(ctx: CheckContext) -> list[str]:
    gh = ctx.settings.github
    if gh is None:
        return []
    return list(dict.fromkeys([gh.platform_repo, *gh.project_repos]))


def _error(err: AdapterError, command: str, expected: str) -> Outcome:
    return replace(from_error(err, command), expected=expected)


async def _bound(ctx: CheckContext) -> Bound:
    return {b.full_name.lower(): (p, b) for p, b in await ctx.platform.bound_repositories()}


def _unexamined(unbound: list[str]) -> str:
    return (
        f"; not examined (bound to no project, see platform.repos-bound): {', '.join(unbound)}"
        if unbound
        else ""
    )


@check("platform.api", area="platform", title="Staff API answers with the token", scope=Scope.GLOBAL)
async def api(ctx: CheckContext) -> Outcome:
    if ctx.platform is None:
        return skipped(NO_PLATFORM)
    command = "GET /api/v1/auth/me"
    expected = f"the staff API accepts the staff JWT ({STAFF_AUTH})"
    try:
        me = await ctx.platform.me()
    except AdapterError as err:
        return _error(err, command, expected)
    rights = (
        "platform owner"
        if me.is_platform_owner
        else "platform admin"
        if me.is_platform_admin
        else "staff user"
    )
    observed = f"{me.github_login or me.email} ({rights})"
    out = {"command": command, "output": f"id={me.id} email={me.email} github_login={me.github_login}"}
    if not me.is_platform_admin:
        reason = "the token is not a platform admin's: approvals, members and repository preflight answer 403"
        return warned(reason, observed, expected, **out)
    return passed(observed, expected, **out)


@check(
    "platform.repos-bound",
    area="platform",
    title="Every configured repository is bound to a project",
    scope=Scope.GLOBAL,
)
async def repos_bound(ctx: CheckContext) -> Outcome:
    if ctx.platform is None:
        return skipped(NO_PLATFORM)
    wanted = configured_repos(ctx)
    if not wanted:
        return skipped(NO_REPOS)
    command = "GET /api/v1/staff/projects; GET /api/v1/staff/projects/{project_id}/repositories"
    expected = f"each repository bound to a project ({API_YAML}: RepositoryBinding)"
    try:
        bound = await _bound(ctx)
    except AdapterError as err:
        return _error(err, command, expected)
    lines = [f"{b.full_name} -> project {p.slug} (binding {b.id})" for p, b in bound.values()]
    observed = "; ".join(
        f"{r} -> {bound[r.lower()][0].slug}" if r.lower() in bound else f"{r} unbound" for r in wanted
    )
    out = {"command": command, "output": "\n".join(lines)}
    missing = [r for r in wanted if r.lower() not in bound]
    if missing:
        reason = f"bound to no project: {', '.join(missing)} (the platform ignores their trigger labels)"
        return failed(reason, observed, expected, **out)
    return passed(observed, expected, **out)


def _verdict(user: User | None, role: str | None) -> tuple[bool, str]:
    """isActorAllowedForIssueTrigger's answer and reason code, for a bound repository."""
    if user is None:
        return False, "sender_not_allowed"
    if user.is_platform_owner:
        return True, "platform_owner"
    if user.is_platform_admin:
        return True, "platform_admin"
    if role is None:
        return False, "sender_not_project_member"
    if role in TRIGGER_ROLES:
        return True, f"project_member_{role}"
    return False, f"sender_role_{role}_not_permitted"


@check(
    "platform.trigger-rights",
    area="platform",
    title="The gate's GitHub identity may trigger runs",
    scope=Scope.GLOBAL,
)
async def trigger_rights(ctx: CheckContext) -> Outcome:
    if ctx.platform is None:
        return skipped(NO_PLATFORM)
    if ctx.github is None:
        return skipped("no GitHub configured: the gate's GitHub login is unknown")
    wanted = configured_repos(ctx)
    if not wanted:
        return skipped(NO_REPOS)
    command = "GET /user (GitHub); GET /api/v1/staff/users; GET /api/v1/staff/projects/{project_id}/members"
    expected = (
        "the gate's GitHub login is a platform owner or admin, or an admin or read_write member of each "
        f"repository's project ({TRIGGER_RULE}: isActorAllowedForIssueTrigger)"
    )
    try:
        login = await ctx.github.whoami()
        bound = await _bound(ctx)
        user = next((u for u in await ctx.platform.users() if u.github_login.lower() == login.lower()), None)
        roles: dict[str, str | None] = {}
        for project, _ in (bound[r.lower()] for r in wanted if r.lower() in bound):
            if user is not None and project.id not in roles:
                members = await ctx.platform.project_members(project.id)
                roles[project.id] = next((m.role for m in members if m.user_id == user.id), None)
    except AdapterError as err:
        return _error(err, command, expected)
    examined = [r for r in wanted if r.lower() in bound]
    unbound = [r for r in wanted if r.lower() not in bound]
    if not examined:
        return skipped("no configured repository is bound to a project: see platform.repos-bound")
    answers = {r: _verdict(user, roles.get(bound[r.lower()][0].id)) for r in examined}
    lines = [
        f"{r} (project {bound[r.lower()][0].slug}): {'allowed' if ok else 'refused'} {why}"
        for r, (ok, why) in answers.items()
    ]
    out = {"command": command, "output": "\n".join([f"GitHub login: {login}", *lines])}
    observed = (
        f"{login}: " + "; ".join(f"{r} {why}" for r, (_, why) in answers.items()) + _unexamined(unbound)
    )
    refused = [f"{r} ({why})" for r, (ok, why) in answers.items() if not ok]
    if refused:
        reason = f"the platform would ignore {login}'s trigger labels on {', '.join(refused)}"
        return failed(reason, observed, expected, **out)
    return passed(observed, expected, **out)


@check("platform.repo-preflight", area="platform", title="Repository preflight passes", scope=Scope.GLOBAL)
async def repo_preflight(ctx: CheckContext) -> Outcome:
    """The platform's own onboarding preflight; on a real platform it exercises GitHub (webhook, labels,
    an issue and a PR by the bot) and cleans up after itself."""
    if ctx.platform is None:
        return skipped(NO_PLATFORM)
    wanted = configured_repos(ctx)
    if not wanted:
        return skipped(NO_REPOS)
    command = "POST /api/v1/staff/projects/{project_id}/repositories/{repository_id}/preflight"
    expected = f"status ok for each bound repository ({PREFLIGHT}: RunRepositoryPreflight)"
    lines, observed, problems = [], [], []
    try:
        bound = await _bound(ctx)
        examined = [r for r in wanted if r.lower() in bound]
        for repo in examined:
            project, binding = bound[repo.lower()]
            report = await ctx.platform.repository_preflight(project.id, binding.id)
            lines += [f"{repo} {c.name}: {c.status} {c.details}".rstrip() for c in report.checks]
            observed.append(f"{repo} {report.status}")
            bad = report.failed_checks
            if report.status != "ok" or bad:
                named = ", ".join(f"{c.name} ({c.details})" if c.details else c.name for c in bad)
                problems.append(f"{repo}: {named or report.status}")
    except AdapterError as err:
        return _error(err, command, expected)
    unbound = [r for r in wanted if r.lower() not in bound]
    if not examined:
        return skipped("no configured repository is bound to a project: see platform.repos-bound")
    out = {"command": command, "output": "\n".join(lines)}
    if problems:
        return failed(
            "preflight failed: " + "; ".join(problems),
            "; ".join(observed) + _unexamined(unbound),
            expected,
            **out,
        )
    return passed("; ".join(observed) + _unexamined(unbound), expected, **out)
