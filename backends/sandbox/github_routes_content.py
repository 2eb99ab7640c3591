"""The sandbox GitHub's handlers for repository content: git refs, files, pull requests opened over
the API, releases with their assets (uploaded to the `upload_url` a release names), and editing an
issue comment. Each answers in GitHub's shape (`github_json_content`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from backends.errors import AdapterError, ErrorKind
from backends.sandbox import github_json as js
from backends.sandbox import github_json_content as jc
from backends.sandbox.github_content import RepoContent
from backends.sandbox.github_routes import error_response
from backends.sandbox.github_state import GitHubState, Issue

OCTET_STREAM = "application/octet-stream"


async def _json(request: web.Request) -> dict[str, Any]:
    data = await request.json() if request.can_read_body else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _refused(err: AdapterError, status: int = 422) -> web.Response:
    if err.kind is ErrorKind.NOT_FOUND:
        return error_response(404, "Not Found")
    return error_response(status, str(err))


class ContentHandlers:
    state: GitHubState
    url: str

    def _repo_name(self, request: web.Request) -> str:
        return f"{request.match_info['owner']}/{request.match_info['repo']}"

    def _content(self, request: web.Request) -> tuple[str, RepoContent]:
        name = self._repo_name(request)
        return name, self.state.repo_content(name)

    def _login(self, request: web.Request) -> str:
        from backends.sandbox.github_api import LOGIN

        return request.get(LOGIN) or self.state.login

    def page(self, request: web.Request, items: list[Any]) -> web.Response:
        raise NotImplementedError  # RestHandlers pages every list the same way

    # -- git refs -------------------------------------------------------------------------------------
    async def get_ref(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        branch = request.match_info["branch"]
        if branch not in content.branches:
            return error_response(404, "Not Found")
        return web.json_response(jc.git_ref(self.url, name, branch, content.branches[branch]))

    async def create_ref(self, request: web.Request) -> web.Response:
        (name, content), data = self._content(request), await _json(request)
        ref = str(data["ref"])
        if not ref.startswith("refs/heads/"):
            return error_response(422, "Validation Failed: only branch refs are served here")
        branch = ref.removeprefix("refs/heads/")
        try:
            content.create_branch(branch, str(data["sha"]))
        except AdapterError as err:
            return _refused(err)
        return web.json_response(jc.git_ref(self.url, name, branch, content.branches[branch]), status=201)

    # -- files ----------------------------------------------------------------------------------------
    async def get_contents(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        path = request.match_info["path"]
        ref = request.query.get("ref") or content.default_branch
        try:
            data = content.file(ref, path)
        except AdapterError as err:
            return _refused(err)
        if data is None:
            return error_response(404, "Not Found")
        return web.json_response(jc.content(self.url, name, ref, path, data))

    async def put_contents(self, request: web.Request) -> web.Response:
        (name, content), data = self._content(request), await _json(request)
        path = request.match_info["path"]
        branch = str(data.get("branch") or content.default_branch)
        try:
            raw = base64.b64decode(str(data["content"]), validate=True)
        except (binascii.Error, ValueError):
            return error_response(422, "Validation Failed: content is not valid Base64")
        try:
            existed = content.file(branch, path) is not None
            commit = content.put_file(
                branch, path, raw, str(data["message"]), str(data.get("sha") or ""), self._login(request)
            )
        except AdapterError as err:
            return _refused(err, 409 if data.get("sha") else 422)
        body = {
            "content": jc.content(self.url, name, branch, path, raw),
            "commit": jc.commit(self.url, name, commit),
        }
        return web.json_response(body, status=200 if existed else 201)

    # -- pull requests over the API -------------------------------------------------------------------
    async def create_pull(self, request: web.Request) -> web.Response:
        (name, content), data = self._content(request), await _json(request)
        head, base = str(data["head"]).split(":")[-1], str(data.get("base") or content.default_branch)
        if head not in content.branches or base not in content.branches:
            return error_response(422, "Validation Failed: head or base is not a branch")
        repo = self.state.repo(name)
        if any(
            i.is_pr and i.state == "open" and i.head == head and i.base == base for i in repo.issues.values()
        ):
            return error_response(422, f"Validation Failed: A pull request already exists for {name}:{head}.")
        number = self.state.create_pull(
            name,
            head,
            str(data.get("title") or head),
            str(data.get("body") or ""),
            actor=self._login(request),
            base=base,
        )
        return web.json_response(js.pull(self.url, repo, self.state.issue(name, number)), status=201)

    async def edit_pull(self, request: web.Request) -> web.Response:
        name, data = self._repo_name(request), await _json(request)
        pull: Issue = self.state.issue(name, int(request.match_info["number"]))
        if not pull.is_pr:
            return error_response(404, "Not Found")
        pull.title = str(data.get("title", pull.title))
        pull.body = str(data.get("body", pull.body) or "")
        pull.state = str(data.get("state", pull.state))
        pull.base = str(data.get("base", pull.base))
        return web.json_response(js.pull(self.url, self.state.repo(name), pull))

    # -- releases and assets --------------------------------------------------------------------------
    async def list_releases(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        found = sorted(content.releases.values(), key=lambda r: r.id, reverse=True)
        return self.page(request, [jc.release(self.url, name, r) for r in found])

    async def create_release(self, request: web.Request) -> web.Response:
        (name, content), data = self._content(request), await _json(request)
        try:
            release = content.create_release(
                str(data["tag_name"]),
                str(data.get("name") or data["tag_name"]),
                str(data.get("body") or ""),
                draft=bool(data.get("draft", False)),
                target=str(data.get("target_commitish") or ""),
                author=self._login(request),
            )
        except AdapterError as err:
            return _refused(err)
        return web.json_response(jc.release(self.url, name, release), status=201)

    def _release_id(self, request: web.Request) -> int:
        return int(request.match_info["release"])

    async def get_release(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        return web.json_response(jc.release(self.url, name, content.release(self._release_id(request))))

    async def edit_release(self, request: web.Request) -> web.Response:
        (name, content), data = self._content(request), await _json(request)
        release = content.release(self._release_id(request))
        release.name = str(data.get("name", release.name))
        release.body = str(data.get("body", release.body) or "")
        release.draft = bool(data.get("draft", release.draft))
        release.prerelease = bool(data.get("prerelease", release.prerelease))
        release.tag_name = str(data.get("tag_name", release.tag_name))
        return web.json_response(jc.release(self.url, name, release))

    async def list_assets(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        release = content.release(self._release_id(request))
        answers = [jc.asset(self.url, name, release, a) for a in release.assets.values()]
        return self.page(request, answers)

    async def upload_asset(self, request: web.Request) -> web.Response:
        name, content = self._content(request)
        asset_name = request.query.get("name", "")
        if not asset_name:
            return error_response(422, "Validation Failed: name is required")
        data = await request.read()
        try:
            release = content.release(self._release_id(request))
            asset = content.upload(
                release.id,
                asset_name,
                request.query.get("label", ""),
                request.headers.get("Content-Type", OCTET_STREAM),
                data,
                self._login(request),
            )
        except AdapterError as err:
            return _refused(err)
        return web.json_response(jc.asset(self.url, name, release, asset), status=201)

    async def get_asset(self, request: web.Request) -> web.StreamResponse:
        name, content = self._content(request)
        release, asset = content.asset(int(request.match_info["asset"]))
        if OCTET_STREAM in request.headers.get("Accept", ""):
            return web.Response(body=asset.data, content_type=OCTET_STREAM)
        return web.json_response(jc.asset(self.url, name, release, asset))

    async def delete_asset(self, request: web.Request) -> web.Response:
        _name, content = self._content(request)
        content.delete_asset(int(request.match_info["asset"]))
        return web.Response(status=204)

    # -- one issue comment ----------------------------------------------------------------------------
    def _comment(self, request: web.Request) -> tuple[str, int, Any]:
        name, wanted = self._repo_name(request), int(request.match_info["comment"])
        for issue in self.state.repo(name).issues.values():
            for comment in issue.comments:
                if comment.id == wanted:
                    return name, issue.number, comment
        raise AdapterError(ErrorKind.NOT_FOUND, f"no comment {wanted} in {name}")

    async def get_comment(self, request: web.Request) -> web.Response:
        name, number, comment = self._comment(request)
        return web.json_response(js.comment(self.url, name, number, comment))

    async def edit_comment(self, request: web.Request) -> web.Response:
        (name, number, comment), data = self._comment(request), await _json(request)
        edited = self.state.edit_comment(name, number, comment.id, str(data["body"]))
        return web.json_response(js.comment(self.url, name, number, edited))

    # -- the route table ------------------------------------------------------------------------------
    def add_content_routes(self, app: web.Application) -> None:
        r = "/repos/{owner}/{repo}"
        release = r + "/releases/{release:\\d+}"
        table = [
            ("GET", r + "/git/ref/heads/{branch:.+}", self.get_ref),
            ("GET", r + "/git/refs/heads/{branch:.+}", self.get_ref),
            ("POST", r + "/git/refs", self.create_ref),
            ("GET", r + "/contents/{path:.+}", self.get_contents),
            ("PUT", r + "/contents/{path:.+}", self.put_contents),
            ("POST", r + "/pulls", self.create_pull),
            ("PATCH", r + "/pulls/{number:\\d+}", self.edit_pull),
            ("GET", r + "/releases", self.list_releases),
            ("POST", r + "/releases", self.create_release),
            ("GET", release, self.get_release),
            ("PATCH", release, self.edit_release),
            ("GET", release + "/assets", self.list_assets),
            ("POST", jc.UPLOADS + release + "/assets", self.upload_asset),
            ("GET", r + "/releases/assets/{asset:\\d+}", self.get_asset),
            ("DELETE", r + "/releases/assets/{asset:\\d+}", self.delete_asset),
            ("GET", r + "/issues/comments/{comment:\\d+}", self.get_comment),
            ("PATCH", r + "/issues/comments/{comment:\\d+}", self.edit_comment),
        ]
        for method, path, handler in table:
            app.router.add_route(method, path, handler)
