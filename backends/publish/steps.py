"""The publication's steps. Each looks first and writes only what is missing or different, and says
what it did: created, updated or unchanged. Run again after a stop, each finds what the last run
finished and does the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.github_models import AssetRef, ReleaseRef
from backends.github_publishing import text_sha256

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class Outcome:
    step: str
    target: str
    status: str
    url: str = ""
    detail: str = ""


async def ensure_branch(gh: Any, repo: str, branch: str, base_sha: str) -> Outcome:
    if await gh.ref_head(repo, branch) is not None:
        return Outcome("branch", branch, UNCHANGED)
    await gh.create_branch(repo, branch, base_sha)
    return Outcome("branch", branch, CREATED, detail=f"from {base_sha[:12]}")


async def ensure_file(gh: Any, repo: str, branch: str, path: str, data: bytes, message: str) -> Outcome:
    current = await gh.file_at(repo, path, branch)
    if current is not None and current.data == data:
        return Outcome("file", path, UNCHANGED)
    commit = await gh.put_file(repo, path, data, message, branch, current.sha if current else None)
    return Outcome("file", path, UPDATED if current else CREATED, detail=f"commit {commit[:12]}")


async def ensure_release(
    gh: Any, repo: str, tag: str, name: str, body: str, target: str
) -> tuple[Outcome, ReleaseRef]:
    found = await gh.release_by_tag(repo, tag)
    if found is None:
        release = await gh.create_draft_release(repo, tag, name, body, target)
        return Outcome("release", tag, CREATED, release.url, "draft"), release
    if found.text_sha256 == text_sha256(name, body):
        return Outcome("release", tag, UNCHANGED, found.url), found
    release = await gh.edit_release(repo, found.id, name, body)
    return Outcome("release", tag, UPDATED, release.url), release


def asset_label(digest: str) -> str:
    return f"Gate Room evidence bundle, digest {digest}"


async def ensure_asset(
    gh: Any, repo: str, release: ReleaseRef, name: str, data: bytes, digest: str
) -> tuple[Outcome, AssetRef]:
    """The bundle as the release's asset: kept when its label names this digest and its size is
    right; otherwise the old one is removed and this one uploaded (GitHub cannot replace an asset's
    content in place). A stop between the two leaves no asset, which the next run uploads."""
    label = asset_label(digest)
    same = [a for a in await gh.release_assets(repo, release.id) if a.name == name]
    if same and same[0].label == label and same[0].size == len(data):
        return Outcome("asset", name, UNCHANGED, same[0].download_url), same[0]
    for old in same:
        await gh.delete_asset(repo, old.id)
    asset = await gh.upload_asset(repo, release.id, name, label, data)
    status = UPDATED if same else CREATED
    return Outcome("asset", name, status, asset.download_url, f"{len(data)} bytes"), asset


async def ensure_pull(gh: Any, repo: str, base: str, branch: str, title: str, body: str) -> Outcome:
    found = await gh.open_pull(repo, branch)
    if found is None:
        pull = await gh.create_pull(repo, base, branch, title, body)
        return Outcome("pull", f"#{pull.number}", CREATED, pull.url)
    if found.text_sha256 == text_sha256(title, body):
        return Outcome("pull", f"#{found.number}", UNCHANGED, found.url)
    pull = await gh.edit_pull(repo, found.number, title, body)
    return Outcome("pull", f"#{pull.number}", UPDATED, pull.url)


async def upsert_comment(gh: Any, repo: str, issue: int, marker: str, body: str, me: str) -> Outcome:
    found = await gh.own_comment(repo, issue, marker, me)
    target = f"{repo}#{issue}"
    if found is None:
        url = await gh.comment(repo, issue, body)
        return Outcome("comment", target, CREATED, str(url or ""))
    if found.body_sha256 == text_sha256(body):
        return Outcome("comment", target, UNCHANGED, found.url)
    url = await gh.edit_comment(repo, issue, found.id, body)
    return Outcome("comment", target, UPDATED, url)
