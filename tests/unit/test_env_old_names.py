"""The bootstrap env file of an installation set up before the rename to kodex: keys spelled
CODEXK8S_* are not read by the current platform, so the gate counts them as missing and says why."""

from __future__ import annotations

import asyncio

from backends.checks.envfile_checks import required_keys
from backends.checks.envsource import EnvSource
from backends.checks.registry import CheckContext
from backends.config import settings_from_dict
from backends.results import Status
from backends.sandbox.envfile_template import healthy_env_file


def _outcome(text: str):  # type: ignore[no-untyped-def]
    settings = settings_from_dict({"hosts": [{"name": "h", "address": "127.0.0.1"}]})
    ctx = CheckContext(settings, env_source=EnvSource("local", "config.env", text=text, mode="600"))
    return asyncio.run(required_keys(ctx))


def test_a_key_only_under_its_old_name_is_missing_and_named() -> None:
    text, _ = healthy_env_file(host="127.0.0.1")
    assert _outcome(text).status is Status.PASS
    old = text.replace("KODEX_GITHUB_OAUTH_CLIENT_ID=", "CODEXK8S_GITHUB_OAUTH_CLIENT_ID=")
    outcome = _outcome(old)
    assert outcome.status is Status.FAIL
    assert "KODEX_GITHUB_OAUTH_CLIENT_ID" in outcome.reason and "CODEXK8S_" in outcome.reason
    assert "CODEXK8S_GITHUB_OAUTH_CLIENT_ID, which kodex ignores" in (outcome.output or "")
