"""Test data for backends.redact: lines holding secrets, and look-alikes that must pass unchanged.

Every secret here is fake (random-looking, generated for these tests, never issued by anyone).
"""

from __future__ import annotations

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
