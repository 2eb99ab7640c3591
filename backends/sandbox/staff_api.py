"""The sandbox staff API: the api-gateway paths a gate calls, on loopback, over the sandbox state.

Authentication is the platform's (internal/transport/http/staff_auth.go): a staff JWT as
`Authorization: Bearer` or in the `kodex_staff_jwt` cookie, verified locally; its claims are the
principal. Authorization follows control-plane's staff service: platform admins see everything,
others only the projects they are members of, and the admin-only paths answer 403.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from backends.sandbox import staff_json as js
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.staff_docset import DocsetError
from backends.sandbox.staff_enums import DEPLOY_STATUSES
from backends.sandbox.staff_state import StaffState
from backends.sandbox.staff_tokens import Claims

PLATFORM_CHECKS = (
    "platform.api",
    "platform.trigger-rights",
    "platform.repos-bound",
    "platform.repo-preflight",
)
register("staff.unauthorized", "platform", "the staff API refuses the staff token (401)", PLATFORM_CHECKS)
register("staff.server-error", "platform", "the staff API answers 500 to everything", PLATFORM_CHECKS)
register("staff.slow", "platform", "the staff API answers only after the client gave up", PLATFORM_CHECKS)
register(
    "staff.connection-drop", "platform", "the staff API cuts every connection mid-answer", PLATFORM_CHECKS
)
register(
    "staff.malformed-json",
    "platform",
    "the staff API answers 200 with a body that is not JSON",
    PLATFORM_CHECKS,
)

COOKIE = "kodex_staff_jwt"
STAFF = "/api/v1/staff"
PRINCIPAL = web.RequestKey("principal", Claims)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusal(Exception):
    """An error answer (ErrorResponse) raised from inside a handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _forbidden(message: str = "platform admin required") -> Refusal:
    return Refusal(403, "forbidden", message)


def _not_found(field: str) -> Refusal:
    return Refusal(400, "invalid_argument", f"{field}: not found")


def _limit(request: web.Request) -> int | None:
    raw = request.query.get("limit")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise Refusal(400, "invalid_argument", "limit: must be an integer between 1 and 1000")
    return int(raw)


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise Refusal(400, "invalid_argument", f"{name}: must be a boolean")


def _positive(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise Refusal(400, "invalid_argument", "page: must be a positive integer")
    return int(raw)


def js_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _items(items: list[Any], limit: int | None) -> web.Response:
    return web.json_response({"items": items[:limit] if limit else items})


class SandboxStaffApi:
    def __init__(self, state: StaffState, faults: FaultSet, *, slow_s: float = 30.0) -> None:
        self.state = state
        self.faults = faults
        self.slow_s = slow_s  # the staff.slow delay: longer than any client timeout in use
        #: how often a realtime stream looks for changes (the gateway's realtimeUpdateInterval)
        self.realtime_every_s = 0.5
        self.calls: list[tuple[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        get, post = app.router.add_get, app.router.add_post
        get("/api/v1/auth/me", self._me)
        get(f"{STAFF}/users", self._users)
        get(f"{STAFF}/projects", self._projects)
        get(f"{STAFF}/projects/{{project_id}}/members", self._members)
        get(f"{STAFF}/projects/{{project_id}}/repositories", self._repositories)
        post(f"{STAFF}/projects/{{project_id}}/repositories/{{repository_id}}/preflight", self._preflight)
        get(f"{STAFF}/runs/waits", self._waits)
        get(f"{STAFF}/runs/{{run_id}}", self._run)
        get(f"{STAFF}/runs/{{run_id}}/events", self._events)
        get(f"{STAFF}/runs/{{run_id}}/logs", self._logs)
        get(f"{STAFF}/approvals", self._approvals)
        post(f"{STAFF}/approvals/{{approval_request_id}}/decision", self._decision)
        get(f"{STAFF}/runtime-deploy/tasks/realtime", self._deploy_tasks_realtime)
        get(f"{STAFF}/runtime-deploy/tasks/{{run_id}}", self._deploy_task)
        get(f"{STAFF}/runtime-errors", self._runtime_errors)
        get(f"{STAFF}/docset/groups", self._docset_groups)
        get(f"{STAFF}/projects/{{project_id}}/github-tokens", self._project_tokens)
        post(f"{STAFF}/projects/{{project_id}}/docset/import", self._docset_import)
        post(f"{STAFF}/projects/{{project_id}}/docset/sync", self._docset_sync)
        # a slow answer's handler ends with its client, so stopping never waits on it
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- faults, authentication, error bodies ---------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        if self.faults.active("staff.slow"):
            await asyncio.sleep(self.slow_s)
        if self.faults.active("staff.connection-drop"):
            return await self._drop(request)
        if self.faults.active("staff.server-error"):
            return web.json_response(js.error("internal", "internal error"), status=500)
        claims = self._claims(request)
        if claims is None or self.faults.active("staff.unauthorized"):
            message = (
                "invalid auth token" if claims is not None or self._token(request) else "missing auth token"
            )
            return web.json_response(js.error("unauthorized", message), status=401)
        if self.faults.active("staff.malformed-json"):
            return web.Response(text='{"items": [{"id": ', content_type="application/json")
        request[PRINCIPAL] = claims
        try:
            return await handler(request)
        except Refusal as refusal:
            return web.json_response(js.error(refusal.code, str(refusal)), status=refusal.status)

    @staticmethod
    def _token(request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        return request.cookies.get(COOKIE, "")

    def _claims(self, request: web.Request) -> Claims | None:
        token = self._token(request)
        return self.state.tokens.verify(token) if token else None

    @staticmethod
    async def _drop(request: web.Request) -> web.StreamResponse:
        """Headers and the start of a body, then the connection goes."""
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "4096"})
        await response.prepare(request)
        await response.write(b'{"items": [')
        if request.transport is not None:
            request.transport.abort()
        return response

    # -- who may see what ----------------------------------------------------------------------------
    @staticmethod
    def _admin(request: web.Request) -> Claims:
        claims = request[PRINCIPAL]
        if not claims.is_admin:
            raise _forbidden()
        return claims

    def _project_access(self, request: web.Request, project_id: str) -> None:
        claims = request[PRINCIPAL]
        if not claims.is_admin and self.state.role_in_project(project_id, claims.github_login) is None:
            raise _forbidden("project access required")

    def _run_record(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        run_id = request.match_info["run_id"]
        record = self.state.get_run(run_id)
        if record is None:
            raise _not_found("run_id")
        if not request[PRINCIPAL].is_admin:
            if not record["project_id"]:
                raise _forbidden("run is not assigned to a project")
            self._project_access(request, record["project_id"])
        return run_id, record

    def _visible_runs(self, request: web.Request) -> list[tuple[str, dict[str, Any]]]:
        claims = request[PRINCIPAL]
        return [
            (run_id, r)
            for run_id, r in self.state.runs.items()
            if claims.is_admin or self.state.role_in_project(r["project_id"], claims.github_login) is not None
        ]

    # -- handlers --------------------------------------------------------------------------------------
    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response(js.me(request[PRINCIPAL]))

    async def _users(self, request: web.Request) -> web.Response:
        self._admin(request)
        return _items([js.user(self.state, u) for u in self.state.users.values()], _limit(request))

    async def _projects(self, request: web.Request) -> web.Response:
        claims = request[PRINCIPAL]
        found = []
        for project in self.state.projects.values():
            role = "admin" if claims.is_admin else self.state.role_in_project(project.id, claims.github_login)
            if role is not None:
                found.append(js.project(project, role))
        return _items(found, _limit(request))

    async def _members(self, request: web.Request) -> web.Response:
        self._admin(request)
        project_id = request.match_info["project_id"]
        members = [js.member(project_id, u, role) for u, role in self.state.project_members(project_id)]
        return _items(members, _limit(request))

    async def _repositories(self, request: web.Request) -> web.Response:
        project_id = request.match_info["project_id"]
        self._project_access(request, project_id)
        bound = [js.binding(b) for b in self.state.visible_bindings() if b.project_id == project_id]
        return _items(bound, _limit(request))

    async def _preflight(self, request: web.Request) -> web.Response:
        self._admin(request)
        repository_id = request.match_info["repository_id"]
        binding = self.state.bindings.get(repository_id)
        if binding is None or binding not in self.state.visible_bindings():
            raise _not_found("repository_id")
        return web.json_response(js.preflight(repository_id, self.state.repository_preflight(repository_id)))

    async def _waits(self, request: web.Request) -> web.Response:
        q = request.query
        status = q.get("status") or "running"
        waiting = [
            js.run(self.state, run_id, r)
            for run_id, r in reversed(self._visible_runs(request))
            if r["wait_state"]
            and r["status"] == status
            and q.get("trigger_kind", r["trigger_kind"]) == r["trigger_kind"]
            and q.get("agent_key", r["agent_key"]) == r["agent_key"]
            and q.get("wait_state", r["wait_state"]) == r["wait_state"]
        ]
        return _items(waiting, _limit(request) or 200)

    async def _run(self, request: web.Request) -> web.Response:
        run_id, record = self._run_record(request)
        return web.json_response(js.run(self.state, run_id, record))

    async def _events(self, request: web.Request) -> web.Response:
        run_id, _ = self._run_record(request)
        payload = _flag(request, "include_payload")
        events = [js.flow_event(e, payload) for e in self.state.run_events(run_id)]
        return _items(events, _limit(request) or 500)

    async def _logs(self, request: web.Request) -> web.Response:
        run_id, record = self._run_record(request)
        raw = request.query.get("tail_lines", "")
        if raw and (not raw.isdigit() or int(raw) <= 0):
            raise Refusal(400, "invalid_argument", "tail_lines: must be a positive integer")
        tail = min(int(raw), js.MAX_TAIL_LINES) if raw else js.DEFAULT_TAIL_LINES
        texts = self.state.run_logs.get(run_id, [])
        return web.json_response(js.run_logs(run_id, record, texts, tail, _flag(request, "include_snapshot")))

    async def _approvals(self, request: web.Request) -> web.Response:
        self._admin(request)
        pending = [js.approval(self.state, a) for a in self.state.pending_approvals()]
        return _items(pending, _limit(request) or 200)

    async def _decision(self, request: web.Request) -> web.Response:
        claims = self._admin(request)
        raw_id = request.match_info["approval_request_id"]
        if not raw_id.isdigit() or int(raw_id) <= 0:
            raise Refusal(400, "invalid_argument", "approval_request_id: must be a positive int64")
        try:
            body = await request.json()
        except ValueError:
            raise Refusal(400, "invalid_argument", "request body is not JSON") from None
        decision = body.get("decision") if isinstance(body, dict) else None
        if decision not in ("approved", "denied", "expired", "failed"):
            raise Refusal(400, "invalid_argument", "decision: must be approved, denied, expired or failed")
        if int(raw_id) not in self.state.approvals:
            raise Refusal(404, "not_found", "approval request not found")
        actor = f"staff:{claims.github_login or claims.email or claims.subject}"
        approval = self.state.decide(int(raw_id), decision, actor, str(body.get("reason") or ""))
        return web.json_response(js.resolution(approval))

    async def _deploy_task(self, request: web.Request) -> web.Response:
        self._admin(request)
        task = self.state.deploy_tasks.get(request.match_info["run_id"])
        if task is None:
            raise _not_found("run_id")
        return web.json_response(js.deploy_task(task))

    async def _runtime_errors(self, request: web.Request) -> web.Response:
        claims = request[PRINCIPAL]
        q = request.query
        found = [
            js.runtime_error(e)
            for e in reversed(self.state.runtime_errors)
            if (claims.is_admin or self.state.role_in_project(e.project_id, claims.github_login) is not None)
            and q.get("state", "active") in ("active", "all")
            and q.get("level", e.level) == e.level
            and q.get("source", e.source) == e.source
            and q.get("run_id", e.run_id) == e.run_id
            and q.get("correlation_id", e.correlation_id) == e.correlation_id
        ]
        return _items(found, _limit(request) or 100)

    async def _docset_groups(self, request: web.Request) -> web.Response:
        self._admin(request)
        return web.json_response({"groups": list(self.state.docset_groups)})

    # -- runtime deploy tasks, project tokens, docset import and sync --------------------------------
    async def _deploy_tasks_realtime(self, request: web.Request) -> web.StreamResponse:
        """The tasks table's WebSocket: a `snapshot` message at once, another whenever the page
        changes (staff_list_realtime_handler.go); a refused list is one `error` message, then close."""
        q = request.query
        status, target_env = q.get("status", ""), q.get("target_env", "")
        if status and status not in DEPLOY_STATUSES:
            raise Refusal(400, "invalid_argument", "status: value is not one of the allowed values")
        page, page_size = _positive(q.get("page"), 1), min(_positive(q.get("page_size"), 20), 1000)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if not request[PRINCIPAL].is_admin:
            refused = "rpc error: code = PermissionDenied desc = platform admin required"
            await ws.send_json({"type": "error", "message": refused, "sent_at": js_now()})
            await ws.close()
            return ws
        sent = ""
        while not ws.closed:
            tasks = self.state.list_deploy_tasks(status, target_env)
            snapshot = js.deploy_tasks_message(tasks, page, page_size, js_now())
            fingerprint = json.dumps({**snapshot, "sent_at": ""}, sort_keys=True)
            if fingerprint != sent:
                await ws.send_json(snapshot)
                sent = fingerprint
            try:
                incoming = await ws.receive(timeout=self.realtime_every_s)
            except TimeoutError:
                continue
            if incoming.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
        return ws

    async def _project_tokens(self, request: web.Request) -> web.Response:
        project_id = request.match_info["project_id"]
        self._project_access(request, project_id)
        return web.json_response(js.project_tokens(project_id, self.state.tokens_of(project_id)))

    async def _docset_body(self, request: web.Request, required: tuple[str, ...]) -> dict[str, Any]:
        self._admin(request)
        try:
            body = await request.json()
        except ValueError:
            raise Refusal(400, "invalid_argument", "request body is not JSON") from None
        if not isinstance(body, dict) or any(not isinstance(body.get(k), str) for k in required):
            # the gateway's OpenAPI request validator, before any handler
            raise Refusal(400, "invalid_argument", "request body has an error: doesn't match schema")
        return body

    def _docset_target(self, repository_id: str) -> str:
        """The repository the docset goes to: the binding with this id (the project in the path only
        picks the tokens), as the staff service resolves it."""
        binding = self.state.bindings.get(repository_id)
        if binding is None or binding not in self.state.visible_bindings():
            raise _not_found("repository_id")
        if self.state.docset is None:  # no GitHub management client: a plain error, so 500
            raise Refusal(500, "internal", "internal error")
        return binding.full_name

    async def _docset_import(self, request: web.Request) -> web.Response:
        body = await self._docset_body(request, ("repository_id", "docset_ref", "locale"))
        groups = body.get("group_ids")
        if body["locale"] not in ("ru", "en") or not isinstance(groups, list):
            raise Refusal(400, "invalid_argument", "request body has an error: doesn't match schema")
        repo = self._docset_target(body["repository_id"])
        assert self.state.docset is not None
        try:
            answer = self.state.docset.import_docset(
                repo, body["docset_ref"].strip() or "main", body["locale"], [str(g) for g in groups]
            )
        except DocsetError:
            # a plain error of the staff service: control-plane toStatus says Internal, the gateway
            # hides the text (error_handler.go mapGRPCStatus)
            raise Refusal(500, "internal", "internal error") from None
        return web.json_response(answer)

    async def _docset_sync(self, request: web.Request) -> web.Response:
        body = await self._docset_body(request, ("repository_id", "docset_ref"))
        if not body["docset_ref"].strip():
            raise Refusal(400, "invalid_argument", "docset_ref: is required")
        repo = self._docset_target(body["repository_id"])
        assert self.state.docset is not None
        try:
            answer = self.state.docset.sync_docset(repo, body["docset_ref"].strip())
        except DocsetError:
            raise Refusal(500, "internal", "internal error") from None
        return web.json_response(answer)
