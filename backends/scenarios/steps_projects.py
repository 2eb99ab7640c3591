"""Steps over the platform's projects: which project a run belongs to (the staff API's run, its
namespace's `kodex.works/project-id`, and whether that project brings GitHub tokens of its own), and
docset import and sync into a bound repository through the staff API.

Which token a run used is recorded nowhere the platform exposes: a run is tied to its project, and a
project's tokens are the ones its staff operations use
(services/internal/control-plane/internal/domain/staff/service_repository_management.go
resolveEffectiveGitHubTokens); the staff API says only whether a project has tokens of its own.
"""

from __future__ import annotations

from typing import Any

from backends.errors import AdapterError, ErrorKind
from backends.plan import steps as S
from backends.scenarios.context import ScenarioContext
from backends.scenarios.step_base import Progress, StepFailed, StepResult, poll
from backends.scenarios.world import GateWorld
from backends.signals import kodex


async def _binding(platform: Any, repo: str) -> tuple[Any, Any, dict[str, str]]:
    """(project, binding) of the repository, and every other project's slug by id."""
    bound = await platform.bound_repositories()
    match = [(p, b) for p, b in bound if b.full_name.lower() == repo.lower()]
    if not match:
        raise StepFailed(f"{repo} is bound to no project in the staff API (see platform.repos-bound)")
    project, binding = match[0]
    others = {p.id: p.slug for p, _ in bound if p.id != project.id}
    return project, binding, others


def _yes(flag: bool) -> str:
    return "yes" if flag else "no (the platform's)"


async def expect_project(
    step: S.ExpectProject,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    platform = world.need_platform()
    if not ctx.run_id:
        raise StepFailed("no run matched yet (an expect_run step must come first)")
    repo = world.repo(step.repository)
    project, _, others = await _binding(platform, repo)

    def named(project_id: str) -> str:
        if project_id == project.id:
            return f"{project.slug} ({project_id})"
        return f"{others[project_id]} ({project_id})" if project_id in others else project_id or "(none)"

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        try:
            run = await platform.run(ctx.run_id)
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return False, f"run {ctx.run_id} not in the staff API yet", {}
            raise
        detail: dict[str, Any] = {"project": {"expected": project.id, "run": run.project_id}}
        if run.project_id != project.id:
            raise StepFailed(
                f"run {run.id} of {repo} is recorded under project {named(run.project_id)} in the staff "
                f"API, expected {named(project.id)}",
                detail,
            )
        seen = [f"run {run.id} of {repo}: project {named(project.id)} in the staff API"]
        namespace = ctx.namespace()
        if namespace:
            found = await world.namespace(namespace)
            if found is None:
                return False, f"{seen[0]}; namespace {namespace} not found", detail
            label = found.labels.get(kodex.PROJECT_ID, "")
            detail["project"]["namespace"] = label
            if label != project.id:
                raise StepFailed(
                    f"{seen[0]}; but namespace {namespace} has {kodex.PROJECT_ID}={named(label)}, "
                    f"expected {named(project.id)}",
                    detail,
                )
            seen.append(f"namespace {namespace}: {kodex.PROJECT_ID}={project.id}")
        tokens = await platform.project_github_tokens(project.id)
        detail["project"]["tokens"] = {"platform": tokens.has_platform_token, "bot": tokens.has_bot_token}
        bot = f" ({tokens.bot_username})" if tokens.bot_username else ""
        seen.append(
            f"project {project.slug}: own platform token {_yes(tokens.has_platform_token)}, "
            f"own bot token {_yes(tokens.has_bot_token)}{bot}"
        )
        return True, "; ".join(seen), detail

    return await poll(step.within, world.poll_interval, probe, progress)


async def docset(
    step: S.Docset, index: int, ctx: ScenarioContext, world: GateWorld, session: str
) -> StepResult:
    """Import or sync the docset into a bound repository through the staff API; the platform opens a
    pull request there. Not repeated when a restart interrupted it: the platform has no idempotency key
    for it, and the pull request may already be open."""
    platform = world.need_platform()
    repo = world.repo(step.repository)
    if index in ctx.interrupted:
        raise StepFailed(
            f"the process stopped during this docset {step.operation}: it may already have opened its pull "
            f"request in {repo} (branch kodex-docset-{step.operation}/…); look there, then run the "
            "scenario again"
        )
    project, binding, _ = await _binding(platform, repo)
    where = f"project {project.slug}, repository binding {binding.id}"
    groups = list(step.groups)
    try:
        if step.operation == "import":
            if not groups:
                offered = await platform.docset_groups(step.docset_ref, step.locale)
                groups = [g.id for g in offered if g.default_selected]
            change = await platform.docset_import(
                project.id, binding.id, step.docset_ref, step.locale, groups
            )
        else:
            change = await platform.docset_sync(project.id, binding.id, step.docset_ref)
    except AdapterError as err:
        raise StepFailed(f"docset {step.operation} of {repo} ({where}): {err}") from None
    detail = {
        "docset": {
            "operation": step.operation,
            "repository": change.repository_full_name,
            "pr_number": change.pr_number,
            "pr_url": change.pr_url,
            "branch": change.branch,
            "files_total": change.files_total,
            "files_updated": change.files_updated,
            "files_drift": change.files_drift,
            "groups": groups,
        }
    }
    opened = f"PR #{change.pr_number} {change.pr_url} on {change.branch}"
    if change.repository_full_name.lower() != repo.lower():
        raise StepFailed(
            f"the platform opened the docset {step.operation} {opened} in {change.repository_full_name}, "
            f"not in {repo} ({where})",
            detail,
        )
    if step.operation == "import":
        if not change.files_total:
            raise StepFailed(f"docset import into {repo} ({where}) copied no file: {opened}", detail)
        counts = f"{change.files_total} file(s) of {', '.join(groups) or 'the default groups'}"
    else:
        updated, drift = change.files_updated or 0, change.files_drift or 0
        counts = f"{updated} file(s) updated, {drift} drifted (left as they are)"
    return StepResult(f"docset {step.operation} into {repo} ({where}): {opened}; {counts}", detail)
