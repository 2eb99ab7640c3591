"""The sandbox GitHub's repository content: branches, files per branch, releases and their assets.

Enough of git for the REST endpoints a publication uses: a branch is a name pointing at a commit,
each commit changes one file (the contents API commits one file at a time), and a file's `sha` is its
git blob hash, so an update that names a stale `sha` is refused as GitHub refuses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field

from backends.errors import AdapterError, ErrorKind

_ids = itertools.count(70_001)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def blob_sha(data: bytes) -> str:
    """Git's object id of a file's content (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    sha: str
    message: str
    parent: str
    author: str
    created_at: str = field(default_factory=_now)


@dataclass
class Asset:
    id: int
    release_id: int
    name: str
    label: str
    content_type: str
    data: bytes
    uploader: str
    created_at: str = field(default_factory=_now)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Release:
    id: int
    tag_name: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    target_commitish: str
    author: str
    created_at: str = field(default_factory=_now)
    assets: dict[int, Asset] = field(default_factory=dict)


class RepoContent:
    def __init__(self, repo: str, default_branch: str, files: dict[str, bytes] | None = None) -> None:
        self.repo = repo
        self.default_branch = default_branch
        root = hashlib.sha1(default_branch.encode()).hexdigest()
        self.commits: dict[str, Commit] = {root: Commit(root, "initial commit", "", "")}
        self.branches: dict[str, str] = {default_branch: root}
        self.trees: dict[str, dict[str, bytes]] = {root: dict(files or {})}
        self.releases: dict[int, Release] = {}

    # -- branches -----------------------------------------------------------------------------------
    def head(self, branch: str) -> str:
        try:
            return self.branches[branch]
        except KeyError:
            raise AdapterError(ErrorKind.NOT_FOUND, f"no branch {branch} in {self.repo}") from None

    def create_branch(self, branch: str, sha: str) -> None:
        if branch in self.branches:
            raise AdapterError(ErrorKind.CONFLICT, "Reference already exists")
        if sha not in self.commits:
            raise AdapterError(ErrorKind.CONFLICT, "Object does not exist")
        self.branches[branch] = sha

    # -- files --------------------------------------------------------------------------------------
    def file(self, ref: str, path: str) -> bytes | None:
        commit = self.branches.get(ref, ref)
        tree = self.trees.get(commit)
        if tree is None:
            raise AdapterError(ErrorKind.NOT_FOUND, f"no commit or branch {ref} in {self.repo}")
        return tree.get(path)

    def put_file(self, branch: str, path: str, data: bytes, message: str, sha: str, author: str) -> Commit:
        """Commit one file on a branch; `sha` must name the file's current blob when it exists."""
        parent = self.head(branch)
        current = self.trees[parent].get(path)
        if current is not None and sha != blob_sha(current):
            what = "wasn't supplied" if not sha else "does not match"
            raise AdapterError(ErrorKind.CONFLICT, f"{path} {what}: sha")
        tree = dict(self.trees[parent])
        tree[path] = data
        commit_sha = hashlib.sha1(f"{parent}:{path}:{blob_sha(data)}:{message}".encode()).hexdigest()
        commit = Commit(commit_sha, message, parent, author)
        self.commits[commit_sha] = commit
        self.trees[commit_sha] = tree
        self.branches[branch] = commit_sha
        return commit

    # -- releases -----------------------------------------------------------------------------------
    def release(self, release_id: int) -> Release:
        try:
            return self.releases[release_id]
        except KeyError:
            raise AdapterError(ErrorKind.NOT_FOUND, f"no release {release_id} in {self.repo}") from None

    def create_release(
        self, tag: str, name: str, body: str, *, draft: bool, target: str, author: str
    ) -> Release:
        if any(r.tag_name == tag for r in self.releases.values()):
            raise AdapterError(ErrorKind.CONFLICT, "Validation Failed: tag_name already_exists")
        release = Release(next(_ids), tag, name, body, draft, False, target or self.default_branch, author)
        self.releases[release.id] = release
        return release

    def asset(self, asset_id: int) -> tuple[Release, Asset]:
        for release in self.releases.values():
            if asset_id in release.assets:
                return release, release.assets[asset_id]
        raise AdapterError(ErrorKind.NOT_FOUND, f"no release asset {asset_id} in {self.repo}")

    def upload(
        self, release_id: int, name: str, label: str, content_type: str, data: bytes, by: str
    ) -> Asset:
        release = self.release(release_id)
        if any(a.name == name for a in release.assets.values()):
            raise AdapterError(ErrorKind.CONFLICT, "Validation Failed: name already_exists")
        asset = Asset(next(_ids), release_id, name, label, content_type, data, by)
        release.assets[asset.id] = asset
        return asset

    def delete_asset(self, asset_id: int) -> None:
        release, asset = self.asset(asset_id)
        del release.assets[asset.id]
