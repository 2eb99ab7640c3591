"""The sandbox GitHub's REST handlers: each reads or changes the state and answers in GitHub's shape.

The acting user is the token's user: the operator's token, and a bot's for the refusal paths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from backends.errors import AdapterError, ErrorKind
from backends.sandbox import github_json as js
from backends.sandbox.github_state import GitHubState, Issue, Label

REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


def error_response(status: int, message: str) -> web.Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    data = await request.json() if request.can_read_body else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class RestHandlers:
    state: GitHubState
    url: str

    # -- helpers ------------------------------------------------------------------------------------------
    def page(self, request: web.Request, items: Sequence[Any]) -> web.Response:
        per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
        page = max(int(request.query.get("page", 1)), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        response = web.json_response(list(items[(page - 1) * per_page : page * per_page]))

        def link(n: int, rel: str) -> str:
            query = dict(request.query) | {"per_page": str(per_page), "page": str(n)}
            return f'<{self.url}{request.path}?{urlencode(query)}>; rel="{rel}"'

        links = [link(page + 1, "next"), link(last, "last")] if page < last else []
        links += [link(1, "first"), link(page - 1, "prev")] if page > 1 else []
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    @staticmethod
    def repo_name(request: web.Request) -> str:
        return f"{request.match_info['owner']}/{request.match_info['repo']}"

    def issue_of(self, request: web.Request, *, pull: bool = False) -> tuple[str, Issue]:
        name = self.repo_name(request)
        issue = self.state.issue(name, int(request.match_info["number"]))
        if pull and not issue.is_pr:
            raise AdapterError(ErrorKind.NOT_FOUND, f"{name}#{issue.number} is not a pull request")
        return name, issue

    def actor(self, request: web.Request) -> str:
        from backends.sandbox.github_api import LOGIN

        return request.get(LOGIN) or self.state.login

    def label_named(self, request: web.Request) -> Label:
        name, wanted = self.repo_name(request), request.match_info["name"]
        for label in self.state.visible_labels(name):
            if label.name == wanted:
                return label
        raise AdapterError(ErrorKind.NOT_FOUND, f"no label {wanted}")

    # -- user, rate limit, repository ---------------------------------------------------------------------
    async def get_user(self, request: web.Request) -> web.Response:
        response = web.json_response(js.user(self.url, self.actor(request)) | {"name": self.actor(request)})
        response.headers["X-OAuth-Scopes"] = ", ".join(self.state.scopes)
        response.headers["X-Accepted-OAuth-Scopes"] = ""
        return response

    def rate_now(self) -> tuple[int, int, int]:
        """(limit, remaining, reset epoch) of the token's core budget; the server keeps the count."""
        raise NotImplementedError

    async def get_rate_limit(self, request: web.Request) -> web.Response:
        return web.json_response(js.rate(*self.rate_now()))

    async def get_repo(self, request: web.Request) -> web.Response:
        repo = self.state.repo(self.repo_name(request))
        return web.json_response(js.repo(self.url, repo, self.state.login))

    # -- labels -------------------------------------------------------------------------------------------
    async def list_labels(self, request: web.Request) -> web.Response:
        name = self.repo_name(request)
        return self.page(request, [js.label(self.url, name, lb) for lb in self.state.visible_labels(name)])

    async def get_label(self, request: web.Request) -> web.Response:
        return web.json_response(js.label(self.url, self.repo_name(request), self.label_named(request)))

    async def create_label(self, request: web.Request) -> web.Response:
        name, data = self.repo_name(request), await _body(request)
        repo = self.state.repo(name)
        label_name = str(data["name"])
        if any(lb.name == label_name for lb in self.state.visible_labels(name)):
            return error_response(422, "Validation Failed: already_exists")
        label = Label(self.state.next_id(), label_name, str(data.get("color", "ededed")))
        label.description = str(data.get("description") or "")
        repo.labels[label_name] = label
        repo.created_labels.add(label_name)
        return web.json_response(js.label(self.url, name, label), status=201)

    async def edit_label(self, request: web.Request) -> web.Response:
        label, data = self.label_named(request), await _body(request)
        label.color = str(data.get("color", label.color))
        label.description = str(data.get("description", label.description) or "")
        return web.json_response(js.label(self.url, self.repo_name(request), label))

    # -- issues -------------------------------------------------------------------------------------------
    async def list_issues(self, request: web.Request) -> web.Response:
        repo = self.state.repo(self.repo_name(request))
        q = request.query
        state, wanted = q.get("state", "open"), [x for x in q.get("labels", "").split(",") if x]
        found = [
            i
            for i in repo.issues.values()
            if (state == "all" or i.state == state)
            and all(w in i.labels for w in wanted)
            and q.get("creator", i.author) == i.author
        ]
        found.sort(key=lambda i: i.number, reverse=q.get("direction", "desc") == "desc")
        return self.page(request, [js.issue(self.url, repo, i) for i in found])

    async def create_issue(self, request: web.Request) -> web.Response:
        name, data = self.repo_name(request), await _body(request)
        labels = [str(x) for x in data.get("labels") or []]
        number = self.state.create_issue(
            name, str(data["title"]), str(data.get("body") or ""), actor=self.actor(request), labels=labels
        )
        issue = self.state.issue(name, number)
        return web.json_response(js.issue(self.url, self.state.repo(name), issue), status=201)

    async def get_issue(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request)
        return web.json_response(js.issue(self.url, self.state.repo(name), issue))

    async def edit_issue(self, request: web.Request) -> web.Response:
        (name, issue), data = self.issue_of(request), await _body(request)
        issue.title = str(data.get("title", issue.title))
        issue.body = str(data.get("body", issue.body) or "")
        issue.state = str(data.get("state", issue.state))
        if "labels" in data:
            wanted = [str(x) for x in data["labels"]]
            for gone in [x for x in issue.labels if x not in wanted]:
                self.state.remove_label(name, issue.number, gone, actor=self.actor(request))
            self.state.add_labels(name, issue.number, wanted, actor=self.actor(request))
        return web.json_response(js.issue(self.url, self.state.repo(name), issue))

    def _labels_answer(self, name: str, issue: Issue) -> web.Response:
        repo = self.state.repo(name)
        return web.json_response([js.label(self.url, name, repo.labels[n]) for n in issue.labels])

    async def issue_labels(self, request: web.Request) -> web.Response:
        return self._labels_answer(*self.issue_of(request))

    async def add_issue_labels(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request)
        data = await request.json()  # GitHub takes a bare list or {"labels": [...]}
        labels = data["labels"] if isinstance(data, dict) else data
        self.state.add_labels(name, issue.number, [str(x) for x in labels], actor=self.actor(request))
        return self._labels_answer(name, issue)

    async def remove_issue_label(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request)
        self.state.remove_label(name, issue.number, request.match_info["name"], actor=self.actor(request))
        return self._labels_answer(name, issue)

    # -- comments and the label timeline ------------------------------------------------------------------
    async def list_comments(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request)
        return self.page(request, [js.comment(self.url, name, issue.number, c) for c in issue.comments])

    async def list_repo_comments(self, request: web.Request) -> web.Response:
        """Every issue and PR comment of the repository, oldest first unless `direction=desc`."""
        name = self.repo_name(request)
        found = [(c, i.number) for i in self.state.repo(name).issues.values() for c in i.comments]
        found.sort(key=lambda pair: pair[0].id, reverse=request.query.get("direction") == "desc")
        return self.page(request, [js.comment(self.url, name, number, c) for c, number in found])

    async def create_comment(self, request: web.Request) -> web.Response:
        (name, issue), data = self.issue_of(request), await _body(request)
        comment = self.state.add_comment(name, issue.number, str(data["body"]), actor=self.actor(request))
        return web.json_response(js.comment(self.url, name, issue.number, comment), status=201)

    async def list_events(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request)
        repo = self.state.repo(name)
        return self.page(request, [js.event(self.url, repo, e) for e in issue.events])

    # -- pull requests and reviews ------------------------------------------------------------------------
    async def list_pulls(self, request: web.Request) -> web.Response:
        repo = self.state.repo(self.repo_name(request))
        state = request.query.get("state", "open")
        pulls = [i for i in repo.issues.values() if i.is_pr and state in ("all", i.state)]
        # `head` is owner:branch, `base` a branch name, as GitHub filters them
        head, base = request.query.get("head", ""), request.query.get("base", "")
        pulls = [i for i in pulls if (not head or head.split(":")[-1] == i.head) and base in ("", i.base)]
        pulls.sort(key=lambda i: i.number, reverse=True)
        return self.page(request, [js.pull(self.url, repo, i) for i in pulls])

    async def get_pull(self, request: web.Request) -> web.Response:
        name, issue = self.issue_of(request, pull=True)
        return web.json_response(js.pull(self.url, self.state.repo(name), issue))

    async def list_reviews(self, request: web.Request) -> web.Response:
        name, pr = self.issue_of(request, pull=True)
        return self.page(request, [js.review(self.url, name, pr.number, rv) for rv in pr.reviews])

    async def create_review(self, request: web.Request) -> web.Response:
        (name, pr), data = self.issue_of(request, pull=True), await _body(request)
        event = str(data.get("event", "COMMENT")).upper()
        if event not in REVIEW_STATES:
            return error_response(422, f"Validation Failed: unknown review event {event}")
        review = self.state.add_review(
            name, pr.number, REVIEW_STATES[event], str(data.get("body") or ""), actor=self.actor(request)
        )
        return web.json_response(js.review(self.url, name, pr.number, review))

    # -- branches -----------------------------------------------------------------------------------------
    async def get_branch(self, request: web.Request) -> web.Response:
        name, branch = self.repo_name(request), request.match_info["branch"]
        if branch not in self.state.repo_content(name).branches:
            return error_response(404, "Branch not found")
        protected = self.state.protection(name, branch) is not None
        answer = js.branch(self.url, name, branch, protected)
        answer["commit"]["sha"] = self.state.repo_content(name).branches[branch]
        return web.json_response(answer)

    async def get_protection(self, request: web.Request) -> web.Response:
        name, branch = self.repo_name(request), request.match_info["branch"]
        reviews = self.state.protection(name, branch)
        if reviews is None:
            return error_response(404, "Branch not protected")
        return web.json_response(js.protection(self.url, name, branch, reviews))

    # -- hooks and deliveries -----------------------------------------------------------------------------
    async def list_hooks(self, request: web.Request) -> web.Response:
        name = self.repo_name(request)
        return self.page(request, [js.hook(self.url, name, h) for h in self.state.hooks(name)])

    async def get_hook(self, request: web.Request) -> web.Response:
        name, hook_id = self.repo_name(request), int(request.match_info["hook"])
        for hook in self.state.hooks(name):
            if hook.id == hook_id:
                return web.json_response(js.hook(self.url, name, hook))
        return error_response(404, "Not Found")

    async def list_deliveries(self, request: web.Request) -> web.Response:
        name, hook_id = self.repo_name(request), int(request.match_info["hook"])
        repo_id = self.state.repo(name).id
        deliveries = self.state.deliveries_of(name, hook_id)
        return self.page(request, [js.delivery(d, repo_id) for d in deliveries])

    async def get_delivery(self, request: web.Request) -> web.Response:
        name, hook_id = self.repo_name(request), int(request.match_info["hook"])
        wanted = int(request.match_info["delivery"])
        for d in self.state.deliveries_of(name, hook_id):
            if d.id == wanted:
                return web.json_response(js.delivery_detail(d, self.state.repo(name).id))
        return error_response(404, "Not Found")

    async def redeliver(self, request: web.Request) -> web.Response:
        name, hook_id = self.repo_name(request), int(request.match_info["hook"])
        wanted = int(request.match_info["delivery"])
        if not any(d.id == wanted for d in self.state.deliveries_of(name, hook_id)):
            return error_response(404, "Not Found")
        self.state.redeliver(wanted)
        return web.json_response({}, status=202)

    # -- the route table ----------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r, n = "/repos/{owner}/{repo}", "{number:\\d+}"
        hook = r + "/hooks/{hook:\\d+}"
        table = [
            ("GET", "/user", self.get_user),
            ("GET", "/rate_limit", self.get_rate_limit),
            ("GET", r, self.get_repo),
            ("GET", r + "/labels", self.list_labels),
            ("POST", r + "/labels", self.create_label),
            ("GET", r + "/labels/{name}", self.get_label),
            ("PATCH", r + "/labels/{name}", self.edit_label),
            ("GET", r + "/issues", self.list_issues),
            ("POST", r + "/issues", self.create_issue),
            ("GET", r + "/issues/comments", self.list_repo_comments),
            ("GET", f"{r}/issues/{n}", self.get_issue),
            ("PATCH", f"{r}/issues/{n}", self.edit_issue),
            ("GET", f"{r}/issues/{n}/labels", self.issue_labels),
            ("POST", f"{r}/issues/{n}/labels", self.add_issue_labels),
            ("DELETE", f"{r}/issues/{n}/labels/{{name}}", self.remove_issue_label),
            ("GET", f"{r}/issues/{n}/comments", self.list_comments),
            ("POST", f"{r}/issues/{n}/comments", self.create_comment),
            ("GET", f"{r}/issues/{n}/events", self.list_events),
            ("GET", f"{r}/issues/{n}/timeline", self.list_events),
            ("GET", r + "/pulls", self.list_pulls),
            ("GET", f"{r}/pulls/{n}", self.get_pull),
            ("GET", f"{r}/pulls/{n}/reviews", self.list_reviews),
            ("POST", f"{r}/pulls/{n}/reviews", self.create_review),
            ("GET", r + "/branches/{branch}", self.get_branch),
            ("GET", r + "/branches/{branch}/protection", self.get_protection),
            ("GET", r + "/hooks", self.list_hooks),
            ("GET", hook, self.get_hook),
            ("GET", hook + "/deliveries", self.list_deliveries),
            ("GET", hook + "/deliveries/{delivery:\\d+}", self.get_delivery),
            ("POST", hook + "/deliveries/{delivery:\\d+}/attempts", self.redeliver),
        ]
        for method, path, handler in table:
            app.router.add_route(method, path, handler)
