# ruff: noqa: E501 - realistic log lines are long
"""Test data for backends.redact: lines holding secrets, and look-alikes that must pass unchanged.

Every secret here is fake (random-looking, generated for these tests, never issued by anyone). The
widened part (`WIDE_SECRETS`, `WIDE_LOOKALIKES`, `KNOWN_SECRETS`) is generated, deterministically.
"""

from __future__ import annotations

import base64
import random
import re
import string
from urllib.parse import quote

_B62 = "aB3dE5fG7hJ9kLmN1pQr2StUv4WxYz6C8"  # 34 base62 characters, reused to build token shapes
_GH36 = (_B62 + "Xy9")[:36]
_GH36B = ("Zq9" + _B62)[:36]
_FG = "11ABCDEFG0123456789abc_" + ("x9Y8z7W6v5U4t3S2r1Q0" * 3)[:59]
_SK48 = ("T3BlbkFJ" + _B62 + "a1b2c3d4e5f6g7")[:48]
_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFiQ2QifQ"
    ".eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmtvZGV4In0"
    ".dGhpc19pc19ub3RfYV9yZWFsX3NpZ25hdHVyZV9idXRfbG9va3NfbGlrZV9vbmVfMTIz"
)
_JWT_HS = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
_TG = "7123456789:AAHk3Jq9ZxW2vB5nM8pL1rT4yU6iO0aS_dF"
_TG2 = "123456789:AAE-Ho1XqKr7dYb2Lm4Np6Qs8Tu0Vw3Zx5C"

# (kind, line, secret value)
SECRETS: list[tuple[str, str, str]] = [
    # GitHub classic tokens, each prefix
    ("github-token", f"token ghp_{_GH36} in use", f"ghp_{_GH36}"),
    ("github-token", f"oauth: gho_{_GH36B}", f"gho_{_GH36B}"),
    ("github-token", f'{{"token":"ghu_{_GH36}"}}', f"ghu_{_GH36}"),
    ("github-token", f"installation token=ghs_{_GH36B}, expires soon", f"ghs_{_GH36B}"),
    ("github-token", f"refresh (ghr_{_GH36})", f"ghr_{_GH36}"),
    ("github-token", f"git clone https://x-access-token@github.com/o/r ghp_{_GH36B}", f"ghp_{_GH36B}"),
    # fine-grained
    ("github-pat", f"export GH=github_pat_{_FG}", f"github_pat_{_FG}"),
    ("github-pat", f"using github_pat_{_FG} for repo", f"github_pat_{_FG}"),
    # OpenAI-style
    ("openai-key", f"OPENAI key sk-{_SK48} loaded", f"sk-{_SK48}"),
    ("openai-key", f"client = OpenAI(api_key='sk-proj-{_SK48}_-{_B62}')", f"sk-proj-{_SK48}_-{_B62}"),
    ("openai-key", f"--key sk-svcacct-{_B62}{_B62}", f"sk-svcacct-{_B62}{_B62}"),
    # JWTs, including a Kubernetes service-account token
    ("jwt", f"kubectl --token {_JWT} get pods", _JWT),
    ("jwt", f"cookie: session={_JWT_HS}; Path=/", _JWT_HS),
    ("jwt", f'{{"id_token":"{_JWT_HS}"}}', _JWT_HS),
    # passwords in URLs
    ("url-password", "postgres://kodex:Sup3r-s3cret!@postgres.kodex-prod.svc:5432/kodex", "Sup3r-s3cret!"),
    (
        "url-password",
        "remote: https://oauth2:glpat-abcDEF123456@gitlab.example.org/x.git",
        "glpat-abcDEF123456",
    ),
    ("url-password", "redis://default:p4ssw0rd%40x@redis:6379/0", "p4ssw0rd%40x"),
    ("url-password", "fetch from https://user:hunter2hunter2@host.test/path", "hunter2hunter2"),
    # Authorization headers
    ("bearer", "Authorization: Bearer abc123.def456-ghi789_jkl", "abc123.def456-ghi789_jkl"),
    ("bearer", "curl -H 'authorization: bearer Zm9vYmFyYmF6cXV4MTIz' https://api", "Zm9vYmFyYmF6cXV4MTIz"),
    ("bearer", 'headers={"Authorization": "Bearer opaque-Tok3n-value"}', "opaque-Tok3n-value"),
    ("basic-auth", "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw=="),
    (
        "auth-token",
        "AUTHORIZATION: token 0123456789abcdef0123456789abcdef01234567",
        "0123456789abcdef0123456789abcdef01234567",
    ),
    ("bearer", "sent Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0 upstream", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    # secret-bearing keys from the bootstrap env file, in every spelling
    ("env-secret", "KODEX_GITHUB_PAT=plainvalue123", "plainvalue123"),
    ("env-secret", 'KODEX_GIT_BOT_TOKEN="quoted value with spaces"', "quoted value with spaces"),
    ("env-secret", "export KODEX_GITHUB_OAUTH_CLIENT_SECRET='0a1b2c3d4e5f'", "0a1b2c3d4e5f"),
    ("env-secret", 'env: {"KODEX_OPENAI_API_KEY": "not-a-shape-but-secret"}', "not-a-shape-but-secret"),
    ("env-secret", "  KODEX_JWT_SIGNING_KEY: r4nd0mSigningMaterial", "r4nd0mSigningMaterial"),
    ("env-secret", "KODEX_GITHUB_WEBHOOK_SECRET=whsec0123456789", "whsec0123456789"),
    ("env-secret", "KODEX_TELEGRAM_BOT_TOKEN: 'tg-value-9876'", "tg-value-9876"),
    ("env-secret", "KODEX_PROJECT_DB_ADMIN_PASSWORD = pgAdminPw77", "pgAdminPw77"),
    ("env-secret", "CODEXK8S_MCP_BEARER_TOKEN=mcp_bearer_value_1", "mcp_bearer_value_1"),
    ("env-secret", r"{\"KODEX_GITHUB_PAT\": \"escapedjsonvalue1\"}", "escapedjsonvalue1"),
    ("env-secret", "github_token=lowercasekeyvalue9", "lowercasekeyvalue9"),
    ("env-secret", "?x=1&access_token=querystringtoken5&y=2", "querystringtoken5"),
    # AWS, Slack, Telegram
    ("aws-access-key", "aws_access_key_id AKIAIOSFODNN7EXAMPL3", "AKIAIOSFODNN7EXAMPL3"),
    ("aws-access-key", "creds ASIAZ2X3C4V5B6N7M8Q9 session", "ASIAZ2X3C4V5B6N7M8Q9"),
    (
        "slack-token",
        "SLACK xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    ("slack-token", "hook with xoxp-9876543210-abcdefABCDEF", "xoxp-9876543210-abcdefABCDEF"),
    ("telegram-bot-token", f"https://api.telegram.org/bot{_TG}/getMe", _TG),
    ("telegram-bot-token", f"bot token {_TG2} registered", _TG2),
    # generic password/secret assignments
    ("password", "mysql -u root --password=hunter2xyz", "hunter2xyz"),
    ("password", '{"user": "kodex", "password": "p@ss w0rd!"}', "p@ss w0rd!"),
    ("password", "PGPASSWORD=pgpw12345 psql -h db", "pgpw12345"),
    ("password", "passwd: s3cr3tvalue", "s3cr3tvalue"),
    ("password", "secret=topSecretValue1", "topSecretValue1"),
    ("password", 'Password = "Winter2025!"', "Winter2025!"),
]

# A PEM private key, as a multi-line text (redact(text)) and as a stream of lines.
PEM_BODY = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
]
PEM_KEYS = [
    ["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"],
    ["-----BEGIN OPENSSH PRIVATE KEY-----", *PEM_BODY[:2], "-----END OPENSSH PRIVATE KEY-----"],
    ["-----BEGIN PRIVATE KEY-----", PEM_BODY[2], "-----END PRIVATE KEY-----"],
    ["-----BEGIN EC PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", PEM_BODY[0], "-----END EC PRIVATE KEY-----"],
]

# Lines that look a bit like secrets and must come out unchanged.
LOOKALIKES: list[str] = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b by octocat",
    "git checkout a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 -- .",
    "sha256sum: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  archive.tar",
    "image: 127.0.0.1:5000/codex-k8s/worker@sha256:"
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uid=123e4567-e89b-12d3-a456-426614174000 ready",
    "run id 550e8400-e29b-41d4-a716-446655440000 started",
    "data: SGVsbG8sIHdvcmxkISBUaGlzIGlzIG9yZGluYXJ5IHRleHQu",
    "payload eyJ0eXBlIjoicHVzaCJ9 (base64 json, no dots)",
    "namespace/codex-issue-128-intake created",
    "deployment.apps/kodex-control-plane configured",
    "secret/kodex-runtime-credentials unchanged",
    "serviceaccount/codex-runner created",
    "agent step 12: token_count=5 prompt_tokens=1234 max_tokens=4096",
    "valueFrom: {secretKeyRef: {name: kodex-runtime, key: KODEX_GITHUB_PAT}}",
    "secretKeyRef:",
    "missing required key KODEX_GITHUB_PAT",
    "KODEX_GITHUB_PAT: missing",
    "KODEX_GIT_BOT_TOKEN: placeholder value",
    "KODEX_GITHUB_PAT=",
    'KODEX_GITHUB_PAT=""',
    "labels: state:in-review, run:intake:revise, need:reviewer",
    "[ai-model-gpt-5.3-codex] [ai-reasoning-high]",
    "2025-01-01T10:00:00.123Z INFO kodex-worker phase=started",
    "GET https://api.github.com/repos/codex-k8s/codex-k8s/issues/128 200",
    "ssh://git@github.com:22/codex-k8s/codex-k8s.git",
    "http://[::1]:8080/healthz ok",
    "task-runner-controller-manager-7d9f8c6b5-x2x4z Running",
    "disk-pressure=false memory-pressure=false",
    "Bearer token expired, refreshing",
    "authorization required for run:dev (owner approval)",
    "the password policy requires 12 characters",
    "no secrets were printed",
    "TARGET_ROOT_SSH_KEY=${HOME}/.ssh/id_ed25519",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator@host",
    "fingerprint SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    "time 12:34:56 elapsed 1234567890:12 ok",
    "[REDACTED:github-token] already clean",
]


# --- the widened corpus: what Go services, Kubernetes controllers, kaniko, git, curl and the codex CLI
# really print, and every value the gate knows to be secret in each of those shapes ---------------------

_rng = random.Random(1724)
_ALNUM = string.ascii_letters + string.digits


def _r(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _jwt(claims: str) -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    return f"{head}.{body}.{_r(43, _ALNUM + '-_')}"


_CLIENT_KEY = "\n".join(
    [
        "-----BEGIN EC PRIVATE KEY-----",
        _r(64, _ALNUM + "+/"),
        _r(56, _ALNUM + "+/") + "==",
        "-----END EC PRIVATE KEY-----",
    ]
)

#: Values the gate knows to be secret (generated, never issued by anyone): the env file's secrets, the
#: GitHub token, the staff token, the kubeconfig's token and client key (text and base64).
KNOWN_SECRETS: dict[str, str] = {
    "KODEX_GITHUB_PAT": "ghp_" + _r(36),
    "KODEX_GIT_BOT_TOKEN": "ghp_" + _r(36),
    "KODEX_GITHUB_OAUTH_CLIENT_SECRET": _r(40, "0123456789abcdef"),
    "KODEX_GITHUB_WEBHOOK_SECRET": _r(32),
    "KODEX_OPENAI_API_KEY": "sk-proj-" + _r(44) + "7Q2x",
    "KODEX_PROJECT_DB_ADMIN_PASSWORD": 'Xy7#q/9+Lm@2"zR!' + _r(6),
    "github-token": "ghs_" + _r(36),
    "staff-token": _jwt('{"sub":"' + _r(8) + '","email":"owner@gate.sandbox.test","is_owner":true}'),
    "kube-token": _r(64, "0123456789abcdef"),
    "kube-client-key": _CLIENT_KEY,
    "kube-client-key-data": base64.b64encode(_CLIENT_KEY.encode()).decode(),
}


def _natural(value: str) -> str | None:
    """The shape kind a value has on its own (it wins over a key rule or a known value on a tie)."""
    if value.startswith(("ghp_", "ghs_", "gho_")):
        return "github-token"
    if value.startswith("sk-"):
        return "openai-key"
    if value.startswith("eyJ"):
        return "jwt"
    return None


_BEARER_VALUE = re.compile(r"[A-Za-z0-9._~+/-]+")


def _b64_span(prefix: str, value: str, suffix: str) -> tuple[str, str]:
    """base64(prefix + value + suffix), and the part of it that depends on the value alone."""
    raw, before = (prefix + value + suffix).encode(), len(prefix.encode())
    encoded = base64.b64encode(raw).decode()
    first, last = -(-8 * before // 6), 8 * (before + len(value.encode())) // 6
    return encoded, encoded[first:last]


# Where a program prints a value with no key that says it is secret: only knowing the value finds it.
_NEUTRAL: list[str] = [
    'I1124 05:57:55.123456       1 flags.go:64] FLAG: --webhook-hmac="{v}"',  # klog's flag dump
    "main.go:88: starting with config &{{Addr::8080 GitHub:{{Owner:codex-k8s Credential:{v} Repo:x}} Debug:false}}",
    '{{"level":"debug","msg":"request","body":{{"value":"{v}","name":"x"}}}}',
    "    value: {v}",
    "codex> echo {v}",
    "> X-Kodex-Credential: {v}",
    "INFO[0003] Args: [--build-arg REF={v} --destination 127.0.0.1:5000/worker]",  # kaniko
    "git: trace: run_command: git credential-store store <<< {v}",
]
# Where a key, a header or the shape of the text says it: the rule finds the value, known or not.
_KEYED: list[tuple[str, str]] = [
    ("secret-field", '{{"accessToken":"{v}","expiresIn":3600}}'),
    ("secret-field", "  token: {v}"),
    ("secret-field", "kubectl --token {v} get pods -n kodex-prod"),
    ("secret-field", "&Config{{Host:https://10.43.0.1:443 BearerToken:{v} QPS:5}}"),
    ("secret-field", "> X-Api-Key: {v}"),
    ("password", 'I1124 05:57:55.123456       1 flags.go:64] FLAG: --db-password="{v}"'),
    ("password", "curl -sS -u kodex:{v} https://registry.gate.sandbox.test/v2/"),
    ("url-password", "postgres://kodex:{u}@postgres.kodex-prod.svc:5432/kodex?sslmode=disable"),
    ("url-password", "kodex:{v}@tcp(mysql.kodex-prod.svc:3306)/kodex?parseTime=true"),
    ("bearer", "map[Accept:[application/json] Authorization:[Bearer {v}] User-Agent:[kodex/1.0]]"),
]


def _wide_known() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, value in KNOWN_SECRETS.items():
        if "\n" in value:
            continue  # the client key's text: its lines are in the PEM corpus below
        natural = _natural(value)
        for template in _NEUTRAL:
            out.append((natural or "known-secret", template.format(v=value), value))
        for kind, template in _KEYED:
            if kind == "url-password" and ("@" in value or "/" in value):
                # a URL or DSN holds such a value percent-encoded
                encoded = quote(value, safe="")
                out.append((kind, template.format(v=encoded, u=encoded), encoded))
                continue
            if kind not in {"url-password", "bearer"} and any(c in value for c in "\"'\\ @,;}]"):
                continue  # not how a program prints this value under that key
            if kind == "bearer" and not _BEARER_VALUE.fullmatch(value):
                kind = "known-secret"  # no token shape: found as the known value it is
            out.append((natural or kind, template.format(v=value, u=value), value))
        # base64-wrapped: a docker config's auth, a payload field, a Secret's data
        for prefix, suffix, template in [
            ("kodex:", "", 'data: {{"auths":{{"127.0.0.1:5000":{{"auth":"{b}"}}}}}}'),
            ('{"name":"' + name + '","value":"', '"}', 'level=debug msg="webhook delivery" payload={b}'),
            ("", "", "  {n}: {b}"),
        ]:
            encoded, core = _b64_span(prefix, value, suffix)
            line = template.format(b=encoded, n=name.lower().replace("_", "-"))
            if template.startswith("data:"):
                out.append(("secret-field", line, encoded))  # the docker config's `auth` field
            elif template.startswith("  {n}") and name.lower().endswith(("secret", "password")):
                out.append(("password", line, encoded))  # a Secret's key names it
            elif template.startswith("  {n}") and name.lower().endswith(("token", "key-data", "api_key")):
                out.append(("secret-field", line, encoded))
            else:
                out.append(("known-secret", line, core))
    return out


# What the tools print with secrets no one told the gate about: the rules alone find them.
_SA = _jwt('{"iss":"kubernetes/serviceaccount","sub":"system:serviceaccount:kodex-prod:kodex"}')
_WIDE_SHAPES: list[tuple[str, str, str]] = [
    # Go struct dumps (%+v, %#v)
    (
        "password",
        "db config: {Host:postgres Port:5432 User:kodex Password:Pw0rd9xyzQ SSLMode:disable}",
        "Pw0rd9xyzQ",
    ),
    (
        "secret-field",
        "client: {BaseURL:https://api.openai.test APIKey:k3yV4lue0123456789 Timeout:30s}",
        "k3yV4lue0123456789",
    ),
    ("github-token", f'oauth2.Token{{AccessToken:"gho_{_GH36B}", TokenType:"bearer"}}', f"gho_{_GH36B}"),
    ("jwt", f'&rest.Config{{Host:"https://10.43.0.1:443", BearerToken:"{_SA}", QPS:5}}', _SA),
    # JSON and YAML fields
    (
        "secret-field",
        '{"apiKey":"AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv","project":"x"}',
        "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv",
    ),
    (
        "env-secret",
        '{"auth_mode":"chatgpt","tokens":{"refresh_token":"rt_Q9w8E7r6T5y4U3i2O1p0"}}',
        "rt_Q9w8E7r6T5y4U3i2O1p0",
    ),
    (
        "secret-field",
        '{"auths":{"127.0.0.1:5000":{"auth":"a29kZXg6cDRzc3cwcmQxMjM="}}}',
        "a29kZXg6cDRzc3cwcmQxMjM=",
    ),
    (
        "secret-field",
        "  .dockerconfigjson: eyJhdXRocyI6eyIxMjcuMC4wLjE6NTAwMCI6eyJhdXRoIjoiYTI5a1pYZzZjRFJ6YzNjd2NtUT0ifX19",
        "eyJhdXRocyI6eyIxMjcuMC4wLjE6NTAwMCI6eyJhdXRoIjoiYTI5a1pYZzZjRFJ6YzNjd2NtUT0ifX19",
    ),
    (
        "secret-field",
        "    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUlGbGx",
        "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUlGbGx",
    ),
    ("secret-field", "    token: 7f3c9a1e5b2d4c6e8f0a1b3c5d7e9f1a", "7f3c9a1e5b2d4c6e8f0a1b3c5d7e9f1a"),
    ("password", "      password: Sup3rS3cretPw", "Sup3rS3cretPw"),
    # flags (Go's flag package takes one dash too)
    (
        "secret-field",
        "kubectl config set-credentials gate --token=0a1b2c3d4e5f60718293a4b5",
        "0a1b2c3d4e5f60718293a4b5",
    ),
    ("password", "oc login https://api.cluster.test:6443 -u admin --password Adm1nPassw0rd", "Adm1nPassw0rd"),
    (
        "secret-field",
        "/usr/local/bin/kodex-worker -token 9f8e7d6c5b4a3f2e1d0c -addr :8080",
        "9f8e7d6c5b4a3f2e1d0c",
    ),
    (
        "secret-field",
        "codex login --api-key Kx7pQ2mN9vB4cL8zR1tY5wE3 --provider azure",
        "Kx7pQ2mN9vB4cL8zR1tY5wE3",
    ),
    # URLs, DSNs
    ("url-password", "redis://:R3disPassw0rd@redis.kodex-prod.svc:6379/0", "R3disPassw0rd"),
    ("url-password", "amqp://kodex:Rabb1tMQpw@rabbitmq:5672/kodex", "Rabb1tMQpw"),
    ("url-password", "kodex:My5qlPassw0rd@tcp(127.0.0.1:3306)/kodex?charset=utf8mb4", "My5qlPassw0rd"),
    (
        "password",
        "host=postgres port=5432 user=kodex password=Pg5ecretPw dbname=kodex sslmode=disable",
        "Pg5ecretPw",
    ),
    (
        "password",
        "Server=sqlserver,1433;Database=kodex;User Id=sa;Password=Str0ng!Passw0rd",
        "Str0ng!Passw0rd",
    ),
    ("secret-field", "GET /api/v1/stream?token=abc123def456ghi789 HTTP/1.1", "abc123def456ghi789"),
    # headers (curl -v, Go's http.Header)
    ("secret-field", "> PRIVATE-TOKEN: glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm", "glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm"),
    ("secret-field", "< X-Vault-Token: hvs.CAESIJ1k2L3m4N5o6P7q8R9s0T", "hvs.CAESIJ1k2L3m4N5o6P7q8R9s0T"),
    (
        "cookie",
        "< Set-Cookie: kodex_session=MTcwMDAwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQV9f; Path=/; HttpOnly",
        "MTcwMDAwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQV9f",
    ),
    ("basic-auth", "Proxy-Authorization: Basic a29kZXg6cHIweHlQYXNzd29yZA==", "a29kZXg6cHIweHlQYXNzd29yZA=="),
    (
        "bearer",
        "map[Authorization:[Bearer tok3n.v4lue.0123456789abcdef] Accept:[*/*]]",
        "tok3n.v4lue.0123456789abcdef",
    ),
    # git, kaniko
    (
        "basic-auth",
        'git -c http.extraheader="AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYw==" fetch',
        "eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYw==",
    ),
    (
        "env-secret",
        "INFO[0000] Args: --build-arg NPM_TOKEN=npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2 --no-push",
        "npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2",
    ),
]

#: lines that carry a secret, as (kind, line, the exact text that must go)
WIDE_SECRETS: list[tuple[str, str, str]] = _WIDE_SHAPES + _wide_known()

#: lines of the same shapes that hold no secret and must come out unchanged
WIDE_LOOKALIKES: list[str] = [
    # flags
    'I1124 05:57:55.123456       1 flags.go:64] FLAG: --token-ttl="15m0s"',
    'I1124 05:57:55.123456       1 flags.go:64] FLAG: --kubeconfig=""',
    "docker login --username kodex --password-stdin 127.0.0.1:5000",
    "kubectl --token-file /var/run/secrets/kubernetes.io/serviceaccount/token get pods",
    "helm upgrade kodex ./chart --set secretName=kodex-runtime --show-secrets=false",
    "/usr/local/bin/kodex-worker -token $GITHUB_TOKEN -secret-name kodex-runtime",
    "docker run --rm -u 1000:1000 -v /workspace:/workspace kaniko-executor",
    'curl -sS -u "${REGISTRY_USER}:${REGISTRY_PASSWORD}" https://registry.gate.sandbox.test/v2/',
    # struct dumps
    "config: {Name:kodex-runtime TokenTTL:15m0s SecretRef:kodex-runtime Password:<nil>}",
    '&rest.Config{Host:"https://10.43.0.1:443", BearerToken:"--- REDACTED ---", QPS:5}',
    # JSON / YAML
    '{"token_type":"bearer","expires_in":3600,"scope":"repo"}',
    '{"max_tokens":4096,"prompt_tokens":1234,"completion_tokens":56}',
    '{"tokenUrl":"https://github.com/login/oauth/access_token","auth":{"type":"none"}}',
    "    secretName: kodex-tls",
    "    tokenSecretRef: {name: kodex-runtime, key: token}",
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0Jn",
    "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJZk1n",
    "  token: ''",
    "authentication: enabled",
    # URLs and DSNs
    "postgres://postgres.kodex-prod.svc:5432/kodex?sslmode=disable",
    "redis://redis.kodex-prod.svc:6379/0",
    "https://kodex@git.gate.sandbox.test/codex-k8s/codex-k8s.git",
    "dsn tcp(127.0.0.1:3306)/kodex?parseTime=true",
    "host=postgres port=5432 user=kodex dbname=kodex sslmode=disable",
    # headers
    "< Content-Type: application/json; charset=utf-8",
    "< X-GitHub-Request-Id: C0A8:1F2B:3A4C5D:6E7F80:6543ABCD",
    "< X-RateLimit-Remaining: 4999",
    "> Cookie: theme=dark",
    '< WWW-Authenticate: Bearer realm="kodex", error="invalid_token"',
    # base64 that is not a secret
    "  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIy",
    "data: dGhpcyBpcyBub3QgYSBzZWNyZXQsIGp1c3QgYSBub3Rl",
    # what the tools print around their work
    "INFO[0001] Retrieving image manifest 127.0.0.1:5000/codex-k8s/worker:latest",
    "INFO[0002] Using dockerignore file: /workspace/.dockerignore",
    "remote: Enumerating objects: 5, done.",
    "From https://github.com/codex-k8s/codex-k8s",
    "I1124 05:57:55.123456       1 reflector.go:351] Caches populated for *v1.Secret from k8s.io/client-go",
    "codex> tokens used: 12,345",
    "codex exec --model gpt-5.3-codex --sandbox workspace-write --full-auto",
]

#: the old corpus and the widened one together
ALL_SECRETS: list[tuple[str, str, str]] = SECRETS + WIDE_SECRETS
ALL_LOOKALIKES: list[str] = LOOKALIKES + WIDE_LOOKALIKES
