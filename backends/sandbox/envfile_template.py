"""A healthy codex-k8s bootstrap env file for the sandbox, with fresh secret values each start."""

from __future__ import annotations

import re
import secrets
import string

from backends.sandbox.faults import FaultSet
from backends.signals.kodex import label_catalogue as catalogue

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
KODEX_JWT_TTL="15m"
KODEX_MCP_TOKEN_TTL="24h"
KODEX_SSH_PORT="22"
KODEX_LETSENCRYPT_SERVER="https://acme-v02.api.letsencrypt.org/directory"
KODEX_GIT_BOT_USERNAME="codex-bot"
KODEX_GIT_BOT_MAIL="codex-bot@{domain}"

# Label catalogue (labels-as-vars)
"""
    text += "".join(f'{label_key(label)}="{label}"\n' for label in catalogue())
    return text, secret_values


def label_key(label: str) -> str:
    """The env key that configures a label: `run:intake:revise` → KODEX_RUN_INTAKE_REVISE_LABEL."""
    return "KODEX_" + re.sub(r"[^A-Z0-9]+", "_", label.upper()).strip("_") + "_LABEL"


def _set(text: str, key: str, value: str) -> str:
    line = f'{key}="{value}"'
    pattern = re.compile(rf"^{key}=.*$", re.M)
    return pattern.sub(lambda _m: line, text) if pattern.search(text) else text + line + "\n"


def _get(text: str, key: str) -> str:
    m = re.search(rf'^{key}="([^"\n]*)"', text, re.M)
    return m.group(1) if m else ""


def apply_env_faults(text: str, faults: FaultSet) -> str:
    """The env file as a faulty bootstrap config would have it (`env.*` faults); values stay secret."""
    if faults.active("env.missing-key"):
        text = re.sub(r"^KODEX_GITHUB_OAUTH_CLIENT_ID=.*\n", "", text, flags=re.M)
    if faults.active("env.placeholder"):
        text = _set(text, "KODEX_BOOTSTRAP_OWNER_EMAIL", "owner@example.com")
    if faults.active("env.bad-email"):
        text = _set(text, "KODEX_LETSENCRYPT_EMAIL", "ops-at-" + _get(text, "KODEX_PRODUCTION_DOMAIN"))
    if faults.active("env.syntax"):
        text = text.replace('KODEX_JWT_TTL="15m"', 'KODEX_JWT_TTL = "15m"')
    if faults.active("env.label-duplicate"):
        text = _set(text, label_key("run:qa"), "run:dev")
    if faults.active("env.secret-echo"):
        text = _set(text, "KODEX_GIT_BOT_USERNAME", _get(text, "KODEX_GIT_BOT_TOKEN"))
    return text
