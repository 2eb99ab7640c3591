"""What the GitHub adapter hands back: small frozen records, never PyGithub objects.

Callers (checks, scenario steps, the UI) stay free of PyGithub's lazy objects, which would make
network calls on attribute access, on whatever thread happened to touch them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RateInfo:
    limit: int
    remaining: int
    reset_at: dt.datetime


@dataclass(frozen=True)
class Comment:
    author: str
    body: str  # redacted
    created_at: str = ""  # ISO 8601, UTC
    id: int = 0
    updated_at: str = ""  # ISO 8601, UTC: the platform edits its run-status comment in place


@dataclass(frozen=True)
class LabelEvent:
    label: str
    action: str  # labeled / unlabeled
    actor: str
    at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str
    state: str
    head: str = ""


@dataclass(frozen=True)
class Review:
    author: str
    state: str  # APPROVED / CHANGES_REQUESTED / COMMENTED / ...
    body: str  # redacted


@dataclass(frozen=True)
class Protection:
    branch: str
    required_approving_review_count: int  # 0 when reviews are not required
    enforce_admins: bool


@dataclass(frozen=True)
class Hook:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class Delivery:
    id: int
    guid: str
    event: str
    action: str
    status_code: int
    redelivery: bool
    delivered_at: str


def iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FileAt:
    """A file on a branch. `data` is the raw content (a document the gate rewrites and writes back:
    redacting it would write the masks into the repository); nothing shows or records it."""

    path: str
    sha: str  # the git blob hash, which an update must name
    data: bytes


@dataclass(frozen=True)
class PullRef:
    number: int
    url: str
    state: str
    head: str
    #: SHA-256 of title and body: compared with what the gate would write, never shown
    text_sha256: str


@dataclass(frozen=True)
class ReleaseRef:
    id: int
    tag: str
    draft: bool
    url: str
    text_sha256: str  # of name and body


@dataclass(frozen=True)
class AssetRef:
    id: int
    name: str
    label: str
    size: int
    url: str  # the API address (download with Accept: application/octet-stream)
    download_url: str


@dataclass(frozen=True)
class CommentRef:
    id: int
    url: str
    author: str
    body_sha256: str
