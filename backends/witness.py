"""Posting the chain head to the gate's GitHub issue, and reading the witnesses back for `verify`.

The gate's issue is `[witness] issue` when configured (e.g. the release's checkpoint issue); without
one the gate opens an issue of its own per session in `[witness] repo` and finds it again on resume by
a hidden marker in its body. The format of a witness is `backends.evidence.witness`.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.evidence.witness import Witnessed, WitnessError, parse_witness, witness_comment
from backends.github import GitHubAdapter


def session_marker(session: str) -> str:
    return f"<!-- gateroom:gate-session {session} -->"


@dataclass(frozen=True)
class WitnessIssue:
    repo: str
    number: int

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"


def parse_issue_ref(text: str) -> WitnessIssue:
    """`owner/name#123` -> WitnessIssue; a ValueError with a one-line reason otherwise."""
    repo, sep, number = text.strip().rpartition("#")
    if not sep or repo.count("/") != 1 or not all(repo.split("/")) or not number.isdigit():
        raise ValueError(f"{text!r} is not an issue reference like owner/name#123")
    return WitnessIssue(repo, int(number))


async def gate_issue(github: GitHubAdapter, repo: str, session: str, configured: int | None) -> WitnessIssue:
    """The issue witnesses go to: the configured one, else this session's own (found, or opened once)."""
    if configured is not None:
        return WitnessIssue(repo, configured)
    marker = session_marker(session)
    found = await github.find_issue(repo, marker)
    if found is not None:
        return WitnessIssue(repo, found[0])
    body = (
        f"Gate Room posts the evidence chain head of session `{session}` here at the end of each gate "
        f"phase and at export; `gateroom verify --witness {repo}#<this issue>` checks a bundle against "
        f"them. Please do not edit these comments.\n\n{marker}"
    )
    number, _ = await github.create_issue(repo, f"Gate Room witness: session {session}", body)
    return WitnessIssue(repo, number)


async def post_witness(
    github: GitHubAdapter, issue: WitnessIssue, session: str, records: int, head: str, phase: str
) -> str:
    """Post one witness; returns the comment's address."""
    return await github.comment(issue.repo, issue.number, witness_comment(session, records, head, phase))


async def read_witnesses(
    github: GitHubAdapter, issue: WitnessIssue, author: str | None = None
) -> list[Witnessed]:
    """Every witness on the issue (by `author` when given). A witness comment edited after it was
    posted, or one whose marker cannot be read, fails: its GitHub timestamp no longer witnesses it."""
    found: list[Witnessed] = []
    for c in await github.comments(issue.repo, issue.number):
        if author is not None and c.author != author:
            continue
        try:
            w = parse_witness(c.body)
        except WitnessError as exc:
            raise WitnessError(f"{issue} comment {c.id} by {c.author}: {exc}") from exc
        if w is None:
            continue
        if c.updated_at and c.created_at and c.updated_at != c.created_at:
            raise WitnessError(
                f"{issue} comment {c.id} by {c.author}: a witness edited after it was posted "
                f"({c.created_at} -> {c.updated_at})"
            )
        found.append(Witnessed(w.session, w.records, w.head, w.phase, c.id, c.author, c.created_at))
    return found
