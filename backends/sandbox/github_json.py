"""The JSON shapes of the sandbox GitHub's REST answers.

They carry the fields PyGithub reads (ids, `url`/`html_url` pointing back at this server, nested users
and labels), so the real client parses them as it parses api.github.com.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from backends.sandbox.github_state import (
    Comment,
    Delivery,
    Hook,
    Issue,
    Label,
    LabelEvent,
    Repo,
    Review,
    is_bot,
)

Json = dict[str, Any]


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def user(base: str, login: str) -> Json:
    return {
        "login": login,
        "id": int(_sha(login)[:6], 16),
        "type": "Bot" if is_bot(login) else "User",
        "site_admin": False,
        "url": f"{base}/users/{login}",
        "html_url": f"{base}/{login}",
    }


def repo(base: str, r: Repo, owner_login: str) -> Json:
    owner, name = r.full_name.split("/")
    return {
        "id": r.id,
        "name": name,
        "full_name": r.full_name,
        "owner": user(base, owner) | {"type": "Organization"},
        "private": True,
        "default_branch": r.default_branch,
        "url": f"{base}/repos/{r.full_name}",
        "html_url": f"{base}/{r.full_name}",
        "permissions": {"admin": owner_login == "gate-operator", "push": True, "pull": True},
    }


def label(base: str, repo_name: str, lb: Label) -> Json:
    return {
        "id": lb.id,
        "node_id": f"LA_{lb.id}",
        "name": lb.name,
        "color": lb.color,
        "description": lb.description,
        "default": False,
        "url": f"{base}/repos/{repo_name}/labels/{quote(lb.name, safe='')}",
    }


def issue(base: str, r: Repo, i: Issue) -> Json:
    url = f"{base}/repos/{r.full_name}/issues/{i.number}"
    data: Json = {
        "id": r.id * 100000 + i.number,
        "number": i.number,
        "title": i.title,
        "body": i.body,
        "state": i.state,
        "user": user(base, i.author),
        "labels": [label(base, r.full_name, r.labels[n]) for n in i.labels if n in r.labels],
        "comments": len(i.comments),
        "created_at": i.created_at,
        "updated_at": i.created_at,
        "url": url,
        "html_url": f"{base}/{r.full_name}/{'pull' if i.is_pr else 'issues'}/{i.number}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "labels_url": f"{url}/labels{{/name}}",
        "repository_url": f"{base}/repos/{r.full_name}",
    }
    if i.is_pr:
        data["pull_request"] = {"url": f"{base}/repos/{r.full_name}/pulls/{i.number}"}
    return data


def pull(base: str, r: Repo, i: Issue) -> Json:
    url = f"{base}/repos/{r.full_name}/pulls/{i.number}"
    owner = r.full_name.split("/")[0]
    data = issue(base, r, i)
    data.pop("pull_request", None)
    data.update(
        {
            "url": url,
            "issue_url": f"{base}/repos/{r.full_name}/issues/{i.number}",
            "head": {"ref": i.head, "sha": _sha(f"{r.full_name}:{i.head}"), "label": f"{owner}:{i.head}"},
            "base": {"ref": i.base, "sha": _sha(i.base), "label": f"{owner}:{i.base}"},
            "merged": False,
            "draft": False,
            "review_comments_url": f"{url}/comments",
        }
    )
    return data


def comment(base: str, repo_name: str, number: int, c: Comment) -> Json:
    return {
        "id": c.id,
        "body": c.body,
        "user": user(base, c.author),
        "created_at": c.created_at,
        "updated_at": c.updated_at or c.created_at,
        "url": f"{base}/repos/{repo_name}/issues/comments/{c.id}",
        "html_url": f"{base}/{repo_name}/issues/{number}#issuecomment-{c.id}",
        "issue_url": f"{base}/repos/{repo_name}/issues/{number}",
    }


def event(base: str, r: Repo, e: LabelEvent) -> Json:
    lb = r.labels.get(e.label)
    return {
        "id": e.id,
        "event": e.event,
        "actor": user(base, e.actor),
        "created_at": e.created_at,
        "label": {"name": e.label, "color": lb.color if lb else "ededed"},
        "url": f"{base}/repos/{r.full_name}/issues/events/{e.id}",
    }


def review(base: str, repo_name: str, number: int, rv: Review) -> Json:
    return {
        "id": rv.id,
        "user": user(base, rv.author),
        "body": rv.body,
        "state": rv.state,
        "submitted_at": rv.submitted_at,
        "html_url": f"{base}/{repo_name}/pull/{number}#pullrequestreview-{rv.id}",
        "pull_request_url": f"{base}/repos/{repo_name}/pulls/{number}",
    }


def hook(base: str, repo_name: str, h: Hook) -> Json:
    url = f"{base}/repos/{repo_name}/hooks/{h.id}"
    return {
        "id": h.id,
        "type": "Repository",
        "name": "web",
        "active": h.active,
        "events": list(h.events),
        "config": {"url": h.url, "content_type": "json", "insecure_ssl": "0"},
        "url": url,
        "test_url": f"{url}/test",
        "ping_url": f"{url}/pings",
        "deliveries_url": f"{url}/deliveries",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "last_response": {"code": 200, "status": "active", "message": "OK"},
    }


_GH_EVENT = {"labeled": "issues", "unlabeled": "issues", "comment": "issue_comment"}


def delivery(d: Delivery, repository_id: int) -> Json:
    kind, _repo, _number, data = d.event
    gh_event = _GH_EVENT.get(kind, "pull_request_review")
    if kind == "labeled" and data.get("is_pr"):
        gh_event = "pull_request"
    action = {"comment": "created", "review": "submitted"}.get(kind, kind)
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": d.delivered_at,
        "redelivery": d.redelivery,
        "duration": 0.05,
        "status": "OK",
        "status_code": 200,
        "event": gh_event,
        "action": action,
        "installation_id": None,
        "repository_id": repository_id,
    }


def delivery_detail(d: Delivery, repository_id: int) -> Json:
    """One delivery with what was sent, as GET .../deliveries/{id} answers (the payload, trimmed)."""
    _kind, repo, number, data = d.event
    payload: Json = {
        "action": delivery(d, repository_id)["action"],
        "sender": {"login": data.get("actor", "")},
    }
    payload["pull_request" if data.get("is_pr") else "issue"] = {"number": number}
    if "label" in data:
        payload["label"] = {"name": data["label"]}
    payload["repository"] = {"id": repository_id, "full_name": repo}
    headers = {"X-GitHub-Event": delivery(d, repository_id)["event"], "X-GitHub-Delivery": d.guid}
    return delivery(d, repository_id) | {
        "url": "",
        "request": {"headers": headers, "payload": payload},
        "response": {"headers": {}, "payload": "ok"},
    }


def protection(base: str, repo_name: str, branch: str, reviews: int) -> Json:
    url = f"{base}/repos/{repo_name}/branches/{branch}/protection"
    return {
        "url": url,
        "required_status_checks": None,
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": True},
        "required_pull_request_reviews": {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False,
            "required_approving_review_count": reviews,
        },
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
    }


def branch(base: str, repo_name: str, name: str, protected: bool) -> Json:
    return {
        "name": name,
        "commit": {"sha": _sha(name), "url": f"{base}/repos/{repo_name}/commits/{_sha(name)}"},
        "protected": protected,
        "protection_url": f"{base}/repos/{repo_name}/branches/{name}/protection",
    }


def rate(limit: int, remaining: int, reset: int) -> Json:
    core = {"limit": limit, "remaining": remaining, "reset": reset, "used": limit - remaining}
    return {"resources": {"core": core | {"resource": "core"}}, "rate": core | {"resource": "core"}}
