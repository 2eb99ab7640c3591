"""The GitHub adapter's publishing calls: branches, files, pull requests, draft releases and their
assets, and the gate's own comment on an issue.

Each is one small, idempotence-friendly operation (look something up, or change one thing), so a
publication can be planned as steps that compare before they write. What comes back about text the
gate wrote (a pull request, a release, a comment) is a SHA-256 of it, for that comparison; a file's
raw content comes back only because it is rewritten and written back (see `FileAt`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from github import GithubException

from backends.github_models import AssetRef, CommentRef, FileAt, PullRef, ReleaseRef

if TYPE_CHECKING:
    from github.Repository import Repository

T = TypeVar("T")
ARCHIVE_TYPE = "application/gzip"


def text_sha256(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _missing(exc: GithubException) -> bool:
    return exc.status == 404


def _pull(p: Any) -> PullRef:
    return PullRef(p.number, p.html_url, p.state, p.head.ref, text_sha256(p.title or "", p.body or ""))


def _release(r: Any) -> ReleaseRef:
    return ReleaseRef(r.id, r.tag_name, bool(r.draft), r.html_url, text_sha256(r.name or "", r.body or ""))


def _asset(a: Any) -> AssetRef:
    return AssetRef(a.id, a.name, a.label or "", int(a.size or 0), a.url, a.browser_download_url or "")


class PublishingCalls:
    if TYPE_CHECKING:

        async def _call(self, what: str, fn: Callable[[], T], *, read: bool = True) -> T: ...

        def _repo(self, name: str) -> Repository: ...

    # -- branches and files -----------------------------------------------------------------------------
    async def ref_head(self, repo: str, branch: str) -> str | None:
        """The commit a branch points at; None when there is no such branch."""

        def fetch() -> str | None:
            try:
                return str(self._repo(repo).get_git_ref(f"heads/{branch}").object.sha)
            except GithubException as exc:
                if _missing(exc):
                    return None
                raise

        return await self._call(f"{repo} branch {branch}", fetch)

    async def create_branch(self, repo: str, branch: str, sha: str) -> None:
        await self._call(
            f"{repo} new branch {branch}",
            lambda: self._repo(repo).create_git_ref(f"refs/heads/{branch}", sha),
            read=False,
        )

    async def file_at(self, repo: str, path: str, ref: str) -> FileAt | None:
        def fetch() -> FileAt | None:
            try:
                found = self._repo(repo).get_contents(path, ref=ref)
            except GithubException as exc:
                if _missing(exc):
                    return None
                raise
            if isinstance(found, list):
                raise ValueError(f"{path} is a directory")
            return FileAt(path, found.sha, found.decoded_content)

        return await self._call(f"{repo} {path}@{ref}", fetch)

    async def put_file(
        self, repo: str, path: str, data: bytes, message: str, branch: str, sha: str | None
    ) -> str:
        """Create the file, or replace the version `sha` names; returns the new commit's sha."""

        def put() -> str:
            r = self._repo(repo)
            if sha:
                result = r.update_file(path, message, data, sha, branch=branch)
            else:
                result = r.create_file(path, message, data, branch=branch)
            return str(result["commit"].sha)

        return await self._call(f"{repo} write {path} on {branch}", put, read=False)

    # -- pull requests --------------------------------------------------------------------------------
    async def open_pull(self, repo: str, branch: str) -> PullRef | None:
        """The open pull request from `branch` of the same repository, if there is one."""
        owner = repo.split("/")[0]

        def fetch() -> PullRef | None:
            for p in self._repo(repo).get_pulls(state="open", head=f"{owner}:{branch}"):
                return _pull(p)
            return None

        return await self._call(f"{repo} pull from {branch}", fetch)

    async def create_pull(self, repo: str, base: str, branch: str, title: str, body: str) -> PullRef:
        return await self._call(
            f"{repo} new pull request from {branch}",
            lambda: _pull(self._repo(repo).create_pull(base=base, head=branch, title=title, body=body)),
            read=False,
        )

    async def edit_pull(self, repo: str, number: int, title: str, body: str) -> PullRef:
        def edit() -> PullRef:
            pull = self._repo(repo).get_pull(number)
            pull.edit(title=title, body=body)
            return _pull(pull)

        return await self._call(f"{repo}#{number} edit", edit, read=False)

    # -- draft releases and their assets --------------------------------------------------------------
    async def release_by_tag(self, repo: str, tag: str) -> ReleaseRef | None:
        """The release (drafts included: only the release list shows them) with this tag name."""

        def fetch() -> ReleaseRef | None:
            for r in self._repo(repo).get_releases():
                if r.tag_name == tag:
                    return _release(r)
            return None

        return await self._call(f"{repo} release {tag}", fetch)

    async def create_draft_release(
        self, repo: str, tag: str, name: str, body: str, target: str
    ) -> ReleaseRef:
        def create() -> ReleaseRef:
            release = self._repo(repo).create_git_release(
                tag, name, body, draft=True, target_commitish=target, make_latest="false"
            )
            return _release(release)

        return await self._call(f"{repo} new draft release {tag}", create, read=False)

    async def edit_release(self, repo: str, release_id: int, name: str, body: str) -> ReleaseRef:
        """New name and body; a release someone has published since stays published."""

        def edit() -> ReleaseRef:
            release = self._repo(repo).get_release(release_id)
            draft, prerelease = bool(release.draft), bool(release.prerelease)
            return _release(release.update_release(name, body, draft=draft, prerelease=prerelease))

        return await self._call(f"{repo} release {release_id} edit", edit, read=False)

    async def release_assets(self, repo: str, release_id: int) -> list[AssetRef]:
        return await self._call(
            f"{repo} release {release_id} assets",
            lambda: [_asset(a) for a in self._repo(repo).get_release(release_id).get_assets()],
        )

    async def upload_asset(
        self, repo: str, release_id: int, name: str, label: str, data: bytes, content_type: str = ARCHIVE_TYPE
    ) -> AssetRef:
        def upload() -> AssetRef:
            release = self._repo(repo).get_release(release_id)
            asset = release.upload_asset_from_memory(
                io.BytesIO(data), len(data), name, content_type=content_type, label=label
            )
            return _asset(asset)

        return await self._call(f"{repo} upload {name}", upload, read=False)

    async def delete_asset(self, repo: str, asset_id: int) -> None:
        await self._call(
            f"{repo} delete asset {asset_id}",
            lambda: self._repo(repo).get_release_asset(asset_id).delete_asset(),
            read=False,
        )

    async def download_asset(self, repo: str, asset_id: int) -> bytes:
        def fetch() -> bytes:
            result = self._repo(repo).get_release_asset(asset_id).download_asset()
            assert result is not None
            _status, _headers, chunks = result
            return b"".join(chunks)

        return await self._call(f"{repo} download asset {asset_id}", fetch)

    # -- issues and the gate's own comment ------------------------------------------------------------
    async def issue_exists(self, repo: str, number: int) -> str | None:
        """The issue's web address; None when there is no such issue (a pull request is not one)."""

        def fetch() -> str | None:
            try:
                url = str(self._repo(repo).get_issue(number).html_url)
            except GithubException as exc:
                if _missing(exc):
                    return None
                raise
            return None if "/pull/" in url else url

        return await self._call(f"{repo}#{number}", fetch)

    async def own_comment(self, repo: str, number: int, marker: str, author: str) -> CommentRef | None:
        """The first comment by `author` on the issue that carries `marker`."""

        def fetch() -> CommentRef | None:
            for c in self._repo(repo).get_issue(number).get_comments():
                login = c.user.login if c.user else ""
                body = c.body or ""
                if login == author and marker in body:
                    return CommentRef(int(c.id), c.html_url, login, text_sha256(body))
            return None

        return await self._call(f"{repo}#{number} comments", fetch)

    async def edit_comment(self, repo: str, number: int, comment_id: int, body: str) -> str:
        def edit() -> str:
            comment = self._repo(repo).get_issue(number).get_comment(comment_id)
            comment.edit(body)
            return str(comment.html_url)

        return await self._call(f"{repo}#{number} comment {comment_id} edit", edit, read=False)
