"""GitHub preconditions through the GitHub adapter: the token works and may do what the platform does
(labels, webhooks) on the platform repo and the first project repo; the webhook and the label
catalogue are there; the rate limit leaves room for a gate run."""

from __future__ import annotations

from backends.checks.adapter_outcome import from_error, skipped
from backends.checks.env_labels import catalogue
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned
from backends.errors import AdapterError

NO_GITHUB = "no GitHub configured"
#: events the platform's label triggers and review flow arrive by
HOOK_EVENTS = ("issues", "issue_comment", "pull_request", "pull_request_review")
#: classic-token scopes; a fine-grained token has none and is probed instead
REPO_SCOPES = ("repo",)
HOOK_SCOPES = ("admin:repo_hook", "write:repo_hook")
RATE_HEADROOM = 0.2


def repos(ctx: CheckContext) -> list[str]:
    gh = ctx.settings.github
    if gh is None:
        return []
    return [gh.platform_repo, *gh.project_repos[:1]]


@check("github.token", area="github", title="GitHub token valid", scope=Scope.GLOBAL)
async def token(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    try:
        login = await ctx.github.whoami()
    except AdapterError as err:
        return from_error(err, "GET /user")
    return passed(f"authenticated as {login}", "a valid token", command="GET /user")


@check("github.scopes", area="github", title="GitHub token permissions", scope=Scope.GLOBAL)
async def scopes(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    expected = "repo + admin:repo_hook (or fine-grained: issues, webhooks on each repo)"
    try:
        granted = await ctx.github.scopes()
        if granted:
            missing = []
            if not any(s in granted for s in REPO_SCOPES):
                missing.append("repo")
            if not any(s in granted for s in HOOK_SCOPES):
                missing.append("admin:repo_hook")
            observed = ", ".join(sorted(granted))
            out = {"command": "GET /user (X-OAuth-Scopes)", "output": observed}
            if missing:
                return failed(f"token lacks {' and '.join(missing)}", observed, expected, **out)
            return passed(observed, expected, **out)
        # fine-grained tokens and app tokens carry no scope header: ask for what the platform needs
        probed = []
        for repo in repos(ctx):
            await ctx.github.labels(repo)
            await ctx.github.hooks(repo)
            probed.append(repo)
    except AdapterError as err:
        return from_error(err, "GET /user; GET /repos/{repo}/labels; GET /repos/{repo}/hooks")
    observed = f"fine-grained: labels and hooks readable on {', '.join(probed) or 'no repo'}"
    return passed(observed, expected, command="GET /repos/{repo}/labels; GET /repos/{repo}/hooks")


@check("github.webhook", area="github", title="Platform webhook", scope=Scope.GLOBAL)
async def webhook(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    expected = "an active hook with " + ", ".join(HOOK_EVENTS)
    observed, problems, lines = [], [], []
    for repo in repos(ctx):
        try:
            hooks = await ctx.github.hooks(repo)
        except AdapterError as err:
            return from_error(err, f"GET /repos/{repo}/hooks")
        lines += [f"{repo}: hook {h.id} {h.url} active={h.active} events={','.join(h.events)}" for h in hooks]
        good = [h for h in hooks if h.active and ("*" in h.events or all(e in h.events for e in HOOK_EVENTS))]
        if good:
            observed.append(f"{repo}: hook {good[0].id}")
            continue
        if not hooks:
            problems.append(f"{repo} has no webhook")
        else:
            best = max(hooks, key=lambda h: sum(e in h.events for e in HOOK_EVENTS))
            lacking = [e for e in HOOK_EVENTS if e not in best.events]
            state = "" if best.active else " (inactive)"
            problems.append(f"{repo} hook {best.id}{state} lacks {', '.join(lacking) or 'nothing'}")
        observed.append(f"{repo}: {len(hooks)} hook(s), none complete")
    out = {"command": "GET /repos/{repo}/hooks", "output": "\n".join(lines)}
    if problems:
        return failed("; ".join(problems), "; ".join(observed), expected, **out)
    return passed("; ".join(observed), expected, **out)


@check("github.labels", area="github", title="Label catalogue present", scope=Scope.GLOBAL)
async def labels(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    wanted = catalogue(ctx)
    expected = f"all {len(wanted)} catalogue labels"
    observed, problems, lines = [], [], []
    for repo in repos(ctx):
        try:
            present = set(await ctx.github.labels(repo))
        except AdapterError as err:
            return from_error(err, f"GET /repos/{repo}/labels")
        missing = [label for label in wanted if label not in present]
        observed.append(f"{repo}: {len(wanted) - len(missing)}/{len(wanted)}")
        if missing:
            more = f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""
            problems.append(f"{repo} lacks {', '.join(missing[:3])}{more}")
            lines.append(f"{repo} missing: " + ", ".join(missing))
    out = {"command": "GET /repos/{repo}/labels", "output": "\n".join(lines)}
    if problems:
        return failed("; ".join(problems), "; ".join(observed), expected, **out)
    return passed("; ".join(observed), expected, **out)


@check("github.rate-limit", area="github", title="API rate limit headroom", scope=Scope.GLOBAL)
async def rate_limit(ctx: CheckContext) -> Outcome:
    if ctx.github is None:
        return skipped(NO_GITHUB)
    try:
        info = await ctx.github.rate_limit()
    except AdapterError as err:
        return from_error(err, "GET /rate_limit")
    observed = f"{info.remaining}/{info.limit} left"
    expected = f">= {RATE_HEADROOM:.0%} of the limit"
    out = {"command": "GET /rate_limit", "output": f"core: {observed}, resets {info.reset_at}"}
    if info.limit and info.remaining < info.limit * RATE_HEADROOM:
        return warned(f"only {observed} until {info.reset_at:%H:%M} UTC", observed, expected, **out)
    return passed(observed, expected, **out)
