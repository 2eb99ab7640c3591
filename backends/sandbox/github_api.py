"""The sandbox GitHub REST server: the subset of api.github.com Gate Room uses, on loopback.

Answers carry GitHub's shapes, Link-header pagination and rate-limit headers, so PyGithub talks to it
as to the real thing. Faults that break the HTTP side (bad token, 500s, rate limits) live here; faults
that change what exists (labels, protection, hooks) live in the state.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from backends.errors import AdapterError
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.github_json_content import UPLOADS
from backends.sandbox.github_routes import RestHandlers, error_response
from backends.sandbox.github_routes_content import ContentHandlers
from backends.sandbox.github_state import GitHubState

#: the login a request's token belongs to (the routes act as that user)
LOGIN = web.RequestKey("login", str)

register(
    "github.token-expired", "github", "the GitHub token is rejected (401 Bad credentials)", ["github.token"]
)
register("github.api-500", "github", "the GitHub API answers 500 to everything", ["github.token"])
register(
    "github.rate-limited",
    "github",
    "the first GitHub calls hit the rate limit (the adapter must wait it out)",
    [],
)

register(
    "github.token-read-only",
    "github",
    "the GitHub token may not write contents, pull requests or releases (403, as a fine-grained token "
    "with read access only)",
    [],
)
register("github.uploads-502", "github", "release asset uploads answer 502 Bad Gateway", [])
#: what a token needs `contents` or `pull_requests` write access for (the read-only fault refuses it)
_PUBLICATION_WRITE = re.compile(
    r"^(/api/uploads)?/repos/[^/]+/[^/]+/(git/refs|contents/|pulls$|pulls/\d+$|releases)"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RATE_LIMIT = 5000
SECONDARY_LIMIT = "You have exceeded a secondary rate limit. Please retry your request again later."


class SandboxGitHubApi(RestHandlers, ContentHandlers):
    def __init__(self, state: GitHubState, faults: FaultSet) -> None:
        self.state = state
        self.faults = faults
        self.calls: list[tuple[str, str]] = []
        #: a standalone sandbox also appends each call here, so another process can audit them
        self.call_log: Path | None = None
        #: how the `github.rate-limited` fault bites: this many calls refused, then a reset this far ahead
        self.rate_limited_calls = 1
        self.rate_reset_s = 2
        self.rate_style = "primary"  # primary: 403 + X-RateLimit-Remaining 0; secondary: 429 + Retry-After
        self._limited = 0
        self._used = 0
        self._window_reset = int(time.time()) + 3600
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.add_routes(app)
        self.add_content_routes(app)
        # a call still in flight when the world stops (a PyGithub thread) must not hold the stop for
        # aiohttp's default minute
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

    # -- the cross-cutting part: call log, auth, faults, rate headers -----------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        if self.call_log is not None:
            with self.call_log.open("a", encoding="utf-8") as log:
                log.write(f"{request.method} {request.path}\n")
        refusal = self._refusal(request)
        response: web.StreamResponse
        if refusal is not None:
            response = refusal
        else:
            try:
                response = await handler(request)
            except AdapterError as err:
                response = error_response(404, f"Not Found ({err})")
            except (KeyError, ValueError, TypeError) as err:
                response = error_response(422, f"Validation Failed: {err}")
        if not response.headers.get("X-RateLimit-Remaining"):
            self._used += 1
            response.headers.update(self._rate_headers(RATE_LIMIT - self._used, self._window_reset))
        return response

    def rate_now(self) -> tuple[int, int, int]:
        return RATE_LIMIT, max(RATE_LIMIT - self._used, 0), self._window_reset

    def _rate_headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(RATE_LIMIT - max(remaining, 0)),
            "X-RateLimit-Resource": "core",
        }

    def _refusal(self, request: web.Request) -> web.Response | None:
        if self.faults.active("github.api-500"):
            return error_response(500, "Server Error")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if (
            scheme.lower() not in {"token", "bearer"}
            or token not in self.state.tokens
            or self.faults.active("github.token-expired")
        ):
            return error_response(401, "Bad credentials")
        request[LOGIN] = self.state.tokens[token]
        if (
            self.faults.active("github.token-read-only")
            and request.method in {"POST", "PUT", "PATCH", "DELETE"}
            and _PUBLICATION_WRITE.match(request.path)
        ):
            return error_response(403, "Resource not accessible by personal access token")
        if self.faults.active("github.uploads-502") and request.path.startswith(UPLOADS):
            return error_response(502, "Bad Gateway")
        if self.faults.active("github.rate-limited") and self._limited < self.rate_limited_calls:
            self._limited += 1
            if self.rate_style == "secondary":
                response = error_response(
                    429, "You have exceeded a secondary rate limit. Please retry your request again later."
                )
                response.headers["Retry-After"] = str(self.rate_reset_s)
                return response
            reset = math.ceil(time.time()) + self.rate_reset_s
            response = error_response(403, f"API rate limit exceeded for user {self.state.login}.")
            response.headers.update(self._rate_headers(0, reset))
            return response
        return None
