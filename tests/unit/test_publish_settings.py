"""`[publish]` is validated like every other section: one line naming the key and what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from backends.config import settings_from_dict
from backends.errors import ConfigError

BASE: dict[str, Any] = {
    "hosts": [{"name": "vps", "address": "203.0.113.10"}],
    "github": {"platform_repo": "your-org/kodex"},
}


def _publish(**publish: object) -> dict[str, Any]:
    return {**BASE, "publish": {"closeout_issue": 130, "checkpoint_issue": 128, **publish}}


def test_defaults_and_session_names() -> None:
    settings = settings_from_dict(_publish())
    assert settings.publish is not None
    p = settings.publish
    assert p.named(p.branch, "abc") == "gateroom/gate-abc" and p.named(p.report_path, "abc").endswith(
        "abc.md"
    )
    assert p.repo is None and p.checkpoint_scenario == "A1.128"


@pytest.mark.parametrize(
    ("publish", "message"),
    [
        ({"closeout_issue": 0}, "publish.closeout_issue: Input should be greater than or equal to 1"),
        ({"branch": "two words"}, "publish.branch: 'two words' is not a valid git ref name"),
        ({"tag": "v1.lock"}, "publish.tag: 'v1.lock' is not a valid git ref name"),
        ({"report_path": "../outside.md"}, "publish.report_path: '../outside.md': give a path inside"),
        ({"runbook_path": "docs/runbook.txt"}, "publish.runbook_path: 'docs/runbook.txt': a document"),
        ({"branch": "gate-{id}"}, "publish.branch: 'gate-{id}': the only placeholder is {session}"),
        ({"repo": "not a repo"}, "publish.repo: String should match pattern"),
        ({"runbook_path": "docs/delivery/issue_map.md"}, "issue_map_path must differ"),
        ({"colour": "blue"}, "publish.colour: unknown key"),
    ],
)
def test_a_bad_value_is_one_line(publish: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(_publish(**publish))
    text = str(caught.value)
    assert message in text and "\n" not in text, text


def test_publish_needs_github() -> None:
    data = _publish()
    del data["github"]
    with pytest.raises(ConfigError, match="publish needs a \\[github\\] section"):
        settings_from_dict(data)
