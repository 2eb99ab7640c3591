"""The JSON shapes of the sandbox GitHub's answers about repository content: git refs, files,
commits, releases and release assets, with the fields PyGithub reads.

A release's `upload_url` points at this same server (`/api/uploads/…`, the path GitHub Enterprise
Server uses on its one host): PyGithub sends uploads to whatever `upload_url` says, and accepts a
same-host address only on the API's own port.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from backends.sandbox.github_content import Asset, Commit, Release, blob_sha
from backends.sandbox.github_json import user

Json = dict[str, Any]
UPLOADS = "/api/uploads"


def git_ref(base: str, repo: str, branch: str, sha: str) -> Json:
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": f"REF_{sha[:12]}",
        "url": f"{base}/repos/{repo}/git/refs/heads/{quote(branch)}",
        "object": {"sha": sha, "type": "commit", "url": f"{base}/repos/{repo}/git/commits/{sha}"},
    }


def content(base: str, repo: str, ref: str, path: str, data: bytes) -> Json:
    sha = blob_sha(data)
    encoded = base64.encodebytes(data).decode()  # GitHub wraps the base64 in lines of 60
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": encoded,
        "sha": sha,
        "url": f"{base}/repos/{repo}/contents/{quote(path)}?ref={quote(ref)}",
        "git_url": f"{base}/repos/{repo}/git/blobs/{sha}",
        "html_url": f"{base}/{repo}/blob/{quote(ref)}/{quote(path)}",
        "download_url": f"{base}/{repo}/raw/{quote(ref)}/{quote(path)}",
    }


def commit(base: str, repo: str, c: Commit) -> Json:
    who = {"name": c.author, "email": f"{c.author}@users.noreply.example", "date": c.created_at}
    return {
        "sha": c.sha,
        "node_id": f"C_{c.sha[:12]}",
        "url": f"{base}/repos/{repo}/git/commits/{c.sha}",
        "html_url": f"{base}/{repo}/commit/{c.sha}",
        "message": c.message,
        "author": who,
        "committer": who,
        "parents": [{"sha": c.parent, "url": f"{base}/repos/{repo}/git/commits/{c.parent}"}]
        if c.parent
        else [],
    }


def asset(base: str, repo: str, release: Release, a: Asset) -> Json:
    return {
        "id": a.id,
        "node_id": f"RA_{a.id}",
        "name": a.name,
        "label": a.label,
        "content_type": a.content_type,
        "state": "uploaded",
        "size": len(a.data),
        "digest": f"sha256:{a.sha256}",
        "download_count": 0,
        "created_at": a.created_at,
        "updated_at": a.created_at,
        "uploader": user(base, a.uploader),
        "url": f"{base}/repos/{repo}/releases/assets/{a.id}",
        "browser_download_url": f"{base}/{repo}/releases/download/{quote(release.tag_name)}/{quote(a.name)}",
    }


def release(base: str, repo: str, r: Release) -> Json:
    url = f"{base}/repos/{repo}/releases/{r.id}"
    # a draft has no public tag page yet: GitHub shows it under an "untagged-…" address
    page = f"untagged-{r.id}" if r.draft else quote(r.tag_name)
    return {
        "id": r.id,
        "node_id": f"RE_{r.id}",
        "tag_name": r.tag_name,
        "target_commitish": r.target_commitish,
        "name": r.name,
        "body": r.body,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "created_at": r.created_at,
        "published_at": None if r.draft else r.created_at,
        "author": user(base, r.author),
        "url": url,
        "html_url": f"{base}/{repo}/releases/tag/{page}",
        "assets_url": f"{url}/assets",
        "upload_url": f"{base}{UPLOADS}/repos/{repo}/releases/{r.id}/assets{{?name,label}}",
        "tarball_url": f"{base}/repos/{repo}/tarball/{quote(r.tag_name)}",
        "zipball_url": f"{base}/repos/{repo}/zipball/{quote(r.tag_name)}",
        "assets": [asset(base, repo, r, a) for a in r.assets.values()],
    }
