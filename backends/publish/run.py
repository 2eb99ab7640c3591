"""One publication: read everything first, then the steps in order, each recorded in the evidence.

Nothing is written until the evidence, the bundle, the token, the repository, the closeout issue,
the templates and the issue map have all been read and every document rendered: a bad token, a
missing issue or template stops with one line and nothing published. Past that point the steps go
in the order that keeps a stop harmless (branch, files, release, asset, pull request, comment): a
rerun finishes what is missing, and the comment that announces the publication comes last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.config import Settings
from backends.errors import AdapterError, ErrorKind, GateError
from backends.events import Event, PublishFinished, PublishStep
from backends.publish import documents, messages
from backends.publish.evidence import Decided, PublishError, decided_evidence
from backends.publish.facts import Facts
from backends.publish.issue_map import MapRow, update_issue_map
from backends.publish.steps import (
    Outcome,
    ensure_asset,
    ensure_branch,
    ensure_file,
    ensure_pull,
    ensure_release,
    upsert_comment,
)
from backends.publish.templates import parse_template

Record = Callable[[Event], None]
#: what a token without write access is told it needs
PERMISSIONS = "contents and pull requests: write (a classic token: the repo scope)"


@dataclass
class PublishResult:
    repo: str
    digest: str
    head: str
    outcomes: list[Outcome] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ("created", "updated"))


@dataclass(frozen=True)
class Prepared:
    facts: Facts
    me: str
    base_sha: str
    documents: dict[str, bytes]
    #: whether the default branch already holds every document as it would be written
    on_default: bool


def _reason(err: GateError) -> str:
    text = str(err)
    if isinstance(err, AdapterError) and err.kind is ErrorKind.FORBIDDEN:
        text += f" (the token needs {PERMISSIONS})"
    return text


async def _read(gh: Any, repo: str, path: str, ref: str) -> bytes:
    found = await gh.file_at(repo, path, ref)
    if found is None:
        raise PublishError(f"{repo}: {path} not found on {ref}")
    return bytes(found.data)


async def prepare(settings: Settings, evidence: Decided, gh: Any) -> Prepared:
    """Every read the publication needs, and every document rendered; writes nothing."""
    publish = settings.publish
    assert publish is not None and settings.github is not None
    repo = publish.repo or settings.github.platform_repo
    me = await gh.whoami()
    default = await gh.default_branch(repo)
    facts = Facts(evidence, publish, repo, default)
    if await gh.issue_exists(repo, publish.closeout_issue) is None:
        raise PublishError(
            f"closeout issue {repo}#{publish.closeout_issue} does not exist (or the token cannot see it)"
        )
    base_sha = await gh.ref_head(repo, default)
    if base_sha is None:
        raise PublishError(f"{repo}: its default branch {default} has no head")
    templates = {}
    for name, path in (
        ("release notes", publish.release_notes_template),
        ("runbook", publish.runbook_template),
    ):
        templates[name] = parse_template(
            (await _read(gh, repo, path, default)).decode("utf-8", "replace"), path
        )
    on_branch = await gh.ref_head(repo, facts.branch) is not None
    map_now = await _read(gh, repo, facts.issue_map_path, facts.branch if on_branch else default)
    row = MapRow(
        issue=publish.checkpoint_issue,
        docs=[facts.issue_map_path, facts.report_path],
        test_plan=_test_plan(facts),
        release_notes=f"`{facts.release_notes_path}`",
        status=facts.checkpoint_status,
        date=facts.date,
        also_related=(publish.closeout_issue,),
    )
    docs = {
        facts.report_path: documents.gate_report(facts),
        facts.release_notes_path: documents.release_notes(facts, templates["release notes"]),
        facts.runbook_path: documents.runbook(facts, templates["runbook"]),
        facts.issue_map_path: update_issue_map(map_now.decode("utf-8", "replace"), row).encode(),
    }
    on_default = True
    for path, data in docs.items():
        found = await gh.file_at(repo, path, default)
        on_default = on_default and found is not None and found.data == data
    return Prepared(facts, me, base_sha, docs, on_default)


def _test_plan(f: Facts) -> str:
    runs = ", ".join(f"`{r['run_id']}`" for r in f.runs_of(f.settings.checkpoint_scenario)) or "no run"
    return (
        f"Gate Room session `{f.session}`: {f.settings.checkpoint_scenario} {f.checkpoint} (runs {runs}); "
        f"gate report `{f.report_path}`; bundle digest `{f.evidence.digest[:12]}`"
    )


async def _steps(p: Prepared, gh: Any, note: Callable[[Outcome], None], at: list[str]) -> dict[str, str]:
    """The writes, in order; `at` names the step under way (for the message when one fails)."""
    f, repo = p.facts, p.facts.repo
    links: dict[str, str] = {}
    at[:] = ["branch", f.branch]
    note(await ensure_branch(gh, repo, f.branch, p.base_sha))
    for path, data in p.documents.items():
        at[:] = ["file", path]
        message = f"Gate Room {f.session}: {path.rsplit('/', 1)[-1]} ({f.decision})"
        note(await ensure_file(gh, repo, f.branch, path, data, message))
    at[:] = ["release", f.tag]
    name, body = messages.release_name(f), messages.release_body(f)
    outcome, release = await ensure_release(gh, repo, f.tag, name, body, f.default_branch)
    note(outcome)
    links["release"] = release.url
    at[:] = ["asset", f.evidence.asset_name]
    evidence = f.evidence
    outcome, asset = await ensure_asset(
        gh, repo, release, evidence.asset_name, evidence.archive, evidence.digest
    )
    note(outcome)
    links["asset"] = asset.download_url
    at[:] = ["pull", f.branch]
    if p.on_default:
        note(
            Outcome("pull", f.branch, "unchanged", detail=f"{f.default_branch} already holds these documents")
        )
    else:
        body = messages.pull_body(f, links["release"], links["asset"])
        outcome = await ensure_pull(gh, repo, f.default_branch, f.branch, messages.pull_title(f), body)
        note(outcome)
        links["pull"] = outcome.url
    issue = f.settings.closeout_issue
    at[:] = ["comment", f"{repo}#{issue}"]
    body = messages.closeout_comment(f, links)
    outcome = await upsert_comment(gh, repo, issue, messages.marker(f.session), body, p.me)
    note(outcome)
    links["comment"] = outcome.url
    return links


async def publish(
    settings: Settings,
    session_dir: Path,
    gh: Any,
    record: Record,
    *,
    known_secrets: Iterable[str] = (),
) -> PublishResult:
    """Publish the session's decided evidence through the GitHub adapter `gh`; every step (and the
    stop, if any) is recorded through `record`. Raises PublishError with one line."""
    if settings.publish is None or settings.github is None:
        raise PublishError("no [publish] section in the configuration (see gateroom.example.toml)")
    repo = settings.publish.repo or settings.github.platform_repo
    evidence = await asyncio.to_thread(decided_evidence, session_dir, list(known_secrets))
    result = PublishResult(repo, evidence.digest, evidence.head)
    current = ["preflight", repo]

    def note(outcome: Outcome) -> None:
        result.outcomes.append(outcome)
        record(
            PublishStep(
                outcome.step, outcome.target, outcome.status, outcome.url, outcome.detail, evidence.digest
            )
        )

    try:
        prepared = await prepare(settings, evidence, gh)
        note(
            Outcome(
                "preflight", repo, "checked", detail=f"as {prepared.me}, {len(prepared.documents)} documents"
            )
        )
        result.links = await _steps(prepared, gh, note, current)
    except (PublishError, GateError) as err:
        step, target = current
        reason = _reason(err)
        record(PublishStep(step, target, "failed", detail=reason, digest=evidence.digest))
        record(PublishFinished(False, repo, evidence.digest, evidence.head, len(evidence.records), reason))
        where = "before anything was written" if step == "preflight" else f"at {step} {target}"
        again = (
            "" if step == "preflight" else "; run gateroom publish again to finish (nothing is duplicated)"
        )
        raise PublishError(f"publish stopped {where}: {reason}{again}") from None
    record(
        PublishFinished(True, repo, evidence.digest, evidence.head, len(evidence.records), links=result.links)
    )
    return result
