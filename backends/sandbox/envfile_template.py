"""A healthy codex-k8s bootstrap env file for the sandbox, with fresh secret values each start."""

from __future__ import annotations

import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def _token(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def healthy_env_file(*, host: str, domain: str = "gate.sandbox.test") -> tuple[str, dict[str, str]]:
    """The file's text and the secret values in it (so tests can grep every output for them)."""
    secret_values = {
        "KODEX_GITHUB_PAT": _token("ghp_", 36),
        "KODEX_GIT_BOT_TOKEN": _token("ghp_", 36),
        "KODEX_GITHUB_OAUTH_CLIENT_SECRET": _token("", 40).lower(),
        "KODEX_GITHUB_WEBHOOK_SECRET": _token("", 32),
        "KODEX_OPENAI_API_KEY": _token("sk-proj-", 48),
    }
    text = f"""# codex-k8s bootstrap configuration (sandbox)
TARGET_HOST="{host}"
TARGET_PORT="22"
TARGET_ROOT_USER="root"
TARGET_ROOT_SSH_KEY="${{HOME}}/.ssh/id_ed25519"
OPERATOR_USER="codex"
OPERATOR_SSH_PUBKEY_PATH="${{HOME}}/.ssh/id_ed25519.pub"
KODEX_GITHUB_REPO="codex-k8s/codex-k8s"
KODEX_GITHUB_PAT="{secret_values["KODEX_GITHUB_PAT"]}"
KODEX_GIT_BOT_TOKEN="{secret_values["KODEX_GIT_BOT_TOKEN"]}"
KODEX_PRODUCTION_DOMAIN="platform.{domain}"
KODEX_AI_DOMAIN="ai.{domain}"
KODEX_LETSENCRYPT_EMAIL="ops@{domain}"
KODEX_PUBLIC_BASE_URL="https://platform.{domain}"
KODEX_BOOTSTRAP_OWNER_EMAIL="owner@{domain}"
KODEX_GITHUB_OAUTH_CLIENT_ID="Iv1.8a61f9b3a7aba766"
KODEX_GITHUB_OAUTH_CLIENT_SECRET="{secret_values["KODEX_GITHUB_OAUTH_CLIENT_SECRET"]}"
KODEX_GITHUB_WEBHOOK_SECRET="{secret_values["KODEX_GITHUB_WEBHOOK_SECRET"]}"
KODEX_OPENAI_API_KEY="{secret_values["KODEX_OPENAI_API_KEY"]}"
KODEX_PRODUCTION_NAMESPACE="kodex-prod"
KODEX_FIREWALL_ENABLED="true"
KODEX_INTERNAL_REGISTRY_HOST="127.0.0.1:5000"
KODEX_WORKER_RUN_NAMESPACE_PREFIX="codex-issue"
KODEX_WORKER_RUN_SERVICE_ACCOUNT="codex-runner"
KODEX_GITHUB_WEBHOOK_EVENTS="push,pull_request,issues,issue_comment,pull_request_review,pull_request_review_comment"
"""
    return text, secret_values
