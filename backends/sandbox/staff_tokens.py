"""Staff JWTs for the sandbox staff API, shaped like the platform's (libs/go/auth/jwt/jwt.go): HS256,
an issuer, a subject (the user id), `email`, `github_login`, `is_admin`, `is_owner`, `iat` and a
required `exp`.

Signed and checked with hmac here: the format is small, and the sandbox must refuse exactly what the
platform refuses (another algorithm, another issuer, a bad signature, an expired or revoked token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ISSUER = "kodex"
DEFAULT_TTL_S = 24 * 3600.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str
    github_login: str
    is_admin: bool
    is_owner: bool
    expires_at: float


class StaffTokens:
    def __init__(
        self,
        key: bytes | None = None,
        *,
        issuer: str = ISSUER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key or secrets.token_bytes(32)
        self.issuer = issuer
        self._clock = clock
        self._revoked: set[str] = set()

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(
        self,
        subject: str,
        email: str,
        github_login: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        ttl_s: float = DEFAULT_TTL_S,
    ) -> str:
        now = int(self._clock())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "email": email,
            "github_login": github_login,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "iss": self.issuer,
            "sub": subject,
            "iat": now,
            "exp": now + int(ttl_s),
        }
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        return f"{signing_input}.{self._sign(signing_input)}"

    def revoke(self, token: str) -> None:
        self._revoked.add(token)

    def verify(self, token: str) -> Claims | None:
        """The token's claims, or None when the platform would answer 401 "invalid auth token"."""
        if token in self._revoked or token.count(".") != 2:
            return None
        head, body, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{head}.{body}")):
            return None
        try:
            header: Any = json.loads(_unb64(head))
            claims: Any = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            return None
        exp = claims.get("exp")
        if claims.get("iss") != self.issuer or not isinstance(exp, int) or exp <= self._clock():
            return None
        if not claims.get("sub") or not claims.get("email"):
            return None
        return Claims(
            str(claims["sub"]),
            str(claims["email"]),
            str(claims.get("github_login") or ""),
            claims.get("is_admin") is True,
            claims.get("is_owner") is True,
            float(exp),
        )
