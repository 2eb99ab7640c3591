"""The platform adapter: the api-gateway staff API (services/external/api-gateway/api/server/api.yaml)
with a staff JWT as `Authorization: Bearer` (internal/transport/http/staff_auth.go).

Each method is one documented path; results are `models` records, errors `AdapterError`s. Free text
coming back (log lines, event payloads, error bodies) is redacted here, at the source. Most list and
read paths need the token to be a platform admin's; the API answers 403 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from backends.config import PlatformSettings
from backends.errors import AdapterError, ErrorKind
from backends.platform_api import decode
from backends.platform_api import models as m
from backends.platform_api.transport import StaffHttp
from backends.redact import Redactor

T = TypeVar("T")
AUTH_ME = "/api/v1/auth/me"
STAFF = "/api/v1/staff"


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


def _params(**values: str | int | bool | None) -> dict[str, str | int]:
    out: dict[str, str | int] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class PlatformAdapter:
    def __init__(
        self, settings: PlatformSettings, redactor: Redactor | None = None, *, token: str | None = None
    ) -> None:
        self.settings = settings
        self._redactor = redactor
        self._token = token
        self.target = f"platform {settings.api_url}"
        self._http = StaffHttp(settings.api_url, settings.timeout, self._bearer, self.redact, self.target)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text) if self._redactor is not None else text

    def _bearer(self) -> str:
        token = self._token or self.settings.token()
        if not token:
            raise AdapterError(
                ErrorKind.AUTH,
                f"no staff token: set the environment variable {self.settings.token_env}",
                target=self.target,
            )
        if self._redactor is not None:
            self._redactor.add_secret(token)
        return token

    async def _get(self, path: str, parse: Callable[[Any], T], **params: str | int | bool | None) -> T:
        data = await self._http.get(path, _params(**params))
        return self._parsed(f"GET {path}", parse, data)

    async def _post(self, path: str, parse: Callable[[Any], T], body: dict[str, Any] | None = None) -> T:
        data = await self._http.post(path, body)
        return self._parsed(f"POST {path}", parse, data)

    def _parsed(self, what: str, parse: Callable[[Any], T], data: Any) -> T:
        try:
            return parse(data)
        except decode.ShapeError as err:
            raise AdapterError(
                ErrorKind.BAD_RESPONSE, self.redact(f"{what}: {err}"), target=self.target
            ) from None

    def _list(self, where: str, one: Callable[[Any], T], key: str = "items") -> Callable[[Any], list[T]]:
        return lambda data: [one(item) for item in decode.items(data, where, key)]

    # -- connection and identity ---------------------------------------------------------------------
    async def connect(self) -> m.Me:
        """Check the token: who it belongs to (GET /api/v1/auth/me)."""
        return await self.me()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def me(self) -> m.Me:
        return await self._get(AUTH_ME, decode.me)

    async def users(self, limit: int | None = None) -> list[m.User]:
        """The platform's allow-list (platform admins only)."""
        return await self._get(f"{STAFF}/users", self._list("users", decode.user), limit=limit)

    # -- runs ----------------------------------------------------------------------------------------
    async def run(self, run_id: str) -> m.Run:
        return await self._get(f"{STAFF}/runs/{_seg(run_id)}", decode.run)

    async def run_events(self, run_id: str, limit: int | None = None) -> list[m.FlowEvent]:
        """The run's flow events, newest first, with their payloads."""
        parse = self._list("run events", partial(decode.flow_event, redact=self.redact))
        return await self._get(
            f"{STAFF}/runs/{_seg(run_id)}/events", parse, limit=limit, include_payload=True
        )

    async def run_logs(self, run_id: str, tail_lines: int | None = None) -> m.RunLogs:
        parse = partial(decode.run_logs, redact=self.redact)
        return await self._get(f"{STAFF}/runs/{_seg(run_id)}/logs", parse, tail_lines=tail_lines)

    async def run_namespace(self, run_id: str) -> m.RunNamespace:
        """The run's namespace and job as the run reports them (the namespace path only deletes)."""
        run = await self.run(run_id)
        return m.RunNamespace(
            run.id, run.namespace, run.namespace_exists, run.job_name, run.job_namespace, run.job_exists
        )

    async def run_waits(
        self,
        *,
        trigger_kind: str | None = None,
        status: str | None = None,
        agent_key: str | None = None,
        wait_state: str | None = None,
        limit: int | None = None,
    ) -> list[m.Run]:
        """Runs waiting (on an approval, an owner review, a rate limit); the API means status=running
        when no status is given."""
        return await self._get(
            f"{STAFF}/runs/waits",
            self._list("run waits", decode.run),
            trigger_kind=trigger_kind,
            status=status,
            agent_key=agent_key,
            wait_state=wait_state,
            limit=limit,
        )

    # -- approvals -----------------------------------------------------------------------------------
    async def approvals(
        self, *, run_id: str | None = None, limit: int | None = None
    ) -> list[m.ApprovalRequest]:
        """Pending approval requests (the API lists only those still `requested`); `run_id` narrows them
        here, the API has no such filter."""
        found = await self._get(f"{STAFF}/approvals", self._list("approvals", decode.approval), limit=limit)
        return [a for a in found if run_id is None or a.run_id == run_id]

    async def decide_approval(
        self, approval_request_id: int, decision: str, reason: str = ""
    ) -> m.ApprovalResolution:
        """Resolve one approval request; sent once, never retried."""
        if decision not in m.APPROVAL_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(m.APPROVAL_DECISIONS)}, not {decision!r}")
        body: dict[str, Any] = {"decision": decision}
        if reason:
            body["reason"] = reason
        path = f"{STAFF}/approvals/{_seg(approval_request_id)}/decision"
        return await self._post(path, decode.resolution, body)

    # -- build and deploy, runtime errors ------------------------------------------------------------
    async def runtime_deploy_task(self, run_id: str) -> m.RuntimeDeployTask:
        parse = partial(decode.deploy_task, redact=self.redact)
        return await self._get(f"{STAFF}/runtime-deploy/tasks/{_seg(run_id)}", parse)

    async def runtime_deploy_tasks(
        self, *, status: str | None = None, target_env: str | None = None, page_size: int | None = None
    ) -> list[m.RuntimeDeployTaskItem]:
        """The runtime deploy tasks list, newest update first, as its realtime stream shows it now (the
        API has no plain list of tasks: the staff console's table reads this WebSocket)."""
        path = f"{STAFF}/runtime-deploy/tasks/realtime"
        data = await self._http.snapshot(
            path, _params(status=status, target_env=target_env, page_size=page_size)
        )
        try:
            return [
                decode.deploy_task_item(i)
                for i in decode.realtime_items(data, "runtime_deploy_tasks", self.redact)
            ]
        except decode.RealtimeRefused as refused:
            kind = ErrorKind.FORBIDDEN if "PermissionDenied" in str(refused) else ErrorKind.SERVER
            raise AdapterError(kind, f"GET {path}: {refused}", target=self.target) from None
        except decode.ShapeError as err:
            raise AdapterError(
                ErrorKind.BAD_RESPONSE, self.redact(f"GET {path}: {err}"), target=self.target
            ) from None

    async def runtime_errors(
        self,
        *,
        state: str | None = None,
        level: str | None = None,
        source: str | None = None,
        run_id: str | None = None,
        correlation_id: str | None = None,
        limit: int | None = None,
    ) -> list[m.RuntimeErrorEntry]:
        parse = self._list("runtime errors", partial(decode.runtime_error, redact=self.redact))
        return await self._get(
            f"{STAFF}/runtime-errors",
            parse,
            state=state,
            level=level,
            source=source,
            run_id=run_id,
            correlation_id=correlation_id,
            limit=limit,
        )

    # -- projects, members, repositories -------------------------------------------------------------
    async def projects(self, limit: int | None = None) -> list[m.Project]:
        return await self._get(f"{STAFF}/projects", self._list("projects", decode.project), limit=limit)

    async def project_members(self, project_id: str, limit: int | None = None) -> list[m.ProjectMember]:
        parse = self._list("project members", decode.member)
        return await self._get(f"{STAFF}/projects/{_seg(project_id)}/members", parse, limit=limit)

    async def project_repositories(
        self, project_id: str, limit: int | None = None
    ) -> list[m.RepositoryBinding]:
        parse = self._list("project repositories", decode.binding)
        return await self._get(f"{STAFF}/projects/{_seg(project_id)}/repositories", parse, limit=limit)

    async def bound_repositories(self) -> list[tuple[m.Project, m.RepositoryBinding]]:
        """Every repository binding of every project the token sees."""
        found = []
        for project in await self.projects():
            found += [(project, b) for b in await self.project_repositories(project.id)]
        return found

    async def repository_preflight(self, project_id: str, repository_id: str) -> m.RepositoryPreflight:
        """Run the platform's onboarding preflight of one bound repository (a POST: not retried)."""
        path = f"{STAFF}/projects/{_seg(project_id)}/repositories/{_seg(repository_id)}/preflight"
        return await self._post(path, partial(decode.preflight, redact=self.redact))

    async def docset_groups(
        self, docset_ref: str | None = None, locale: str | None = None
    ) -> list[m.DocsetGroup]:
        parse = self._list("docset groups", decode.docset_group, key="groups")
        return await self._get(f"{STAFF}/docset/groups", parse, docset_ref=docset_ref, locale=locale)

    async def project_github_tokens(self, project_id: str) -> m.ProjectGitHubTokens:
        """Whether the project has GitHub tokens of its own (the API never returns their values)."""
        return await self._get(f"{STAFF}/projects/{_seg(project_id)}/github-tokens", decode.project_tokens)

    async def docset_import(
        self, project_id: str, repository_id: str, docset_ref: str, locale: str, group_ids: list[str]
    ) -> m.DocsetChange:
        """Import docset groups into a bound repository: the platform opens a pull request there (a
        POST: not retried)."""
        body = {
            "repository_id": repository_id,
            "docset_ref": docset_ref,
            "locale": locale,
            "group_ids": group_ids,
        }
        return await self._post(
            f"{STAFF}/projects/{_seg(project_id)}/docset/import", decode.docset_change, body
        )

    async def docset_sync(self, project_id: str, repository_id: str, docset_ref: str) -> m.DocsetChange:
        """Safe-sync a repository's imported docset to `docset_ref`: a pull request with the updates
        (a POST: not retried)."""
        body = {"repository_id": repository_id, "docset_ref": docset_ref}
        return await self._post(
            f"{STAFF}/projects/{_seg(project_id)}/docset/sync", decode.docset_change, body
        )
