"""Killing a headless gate in the middle of the scenarios and starting it again on the same session
directory finishes the plan without applying any label or creating any issue a second time.

The sandbox runs as its own process (`gateroom sandbox`), so it outlives the killed gate; its log of
GitHub API calls is the witness of what the two gate processes did.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github

from backends.evidence.store import EvidenceStore
from backends.plan.loader import load_plan
from backends.sandbox.standalone import CALL_LOG, CONFIG_FILE, STAFF_TOKEN_FILE, TOKEN_FILE
from backends.sandbox.world import STAFF_TOKEN_ENV, TOKEN_ENV
from backends.session import STORE_FILE
from tests.patience import PATIENCE_S

pytestmark = pytest.mark.heavy  # whole sandbox gates: scheduled first

GATEROOM = [sys.executable, "-m", "tui.cli"]


def _posts(log: Path, suffix: str, numbers: set[tuple[str, int]] | None = None) -> int:
    """POSTs whose path ends in `suffix`; with `numbers`, only those on these (repo, issue or PR)."""
    count = 0
    for line in log.read_text().splitlines() if log.exists() else []:
        method, _, path = line.partition(" ")
        if method != "POST" or not path.endswith(suffix):
            continue
        if numbers is not None:
            parts = path.split("/")  # /repos/OWNER/NAME/issues/N/labels
            if (f"{parts[2]}/{parts[3]}", int(parts[5])) not in numbers:
                continue
        count += 1
    return count


def _scenario_targets(store: EvidenceStore) -> set[tuple[str, int]]:
    """Every issue and pull request the scenarios worked on (the security checks have their own)."""
    found = set()
    for record in store.records():
        detail = record["payload"].get("detail") or {}
        if record["kind"] == "scenario.step" and detail.get("repo"):
            for key in ("issue", "pr"):
                if detail.get(key):
                    found.add((detail["repo"], int(detail[key])))
    return found


def _scenario_issues(sandbox: Path, token: str) -> Counter[str]:
    """Scenario id -> how many test issues carry its marker, read back over the GitHub API."""
    config = tomllib.loads((sandbox / CONFIG_FILE).read_text())["github"]
    client = Github(base_url=config["api_url"], auth=Auth.Token(token))
    found: Counter[str] = Counter()
    try:
        for repo in [config["platform_repo"], *config["project_repos"]]:
            for issue in client.get_repo(repo).get_issues(state="all"):
                match = re.search(r"<!-- gateroom:\w+:([\w.-]+):\d+ -->", issue.body or "")
                if match:
                    found[match[1]] += 1
    finally:
        client.close()
    return found


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "sandbox"
    proc = subprocess.Popen(
        [*GATEROOM, "sandbox", "--dir", str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.strip() == "ready" or not line:
                break
        assert (directory / CONFIG_FILE).exists(), "the sandbox did not start"
        yield directory
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=PATIENCE_S)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_killed_gate_resumes_without_repeating_side_effects(sandbox: Path, tmp_path: Path) -> None:
    plan = load_plan(None)
    auto = [s for s in plan.scenarios if s.mode == "auto"]
    add_label_steps = sum(1 for s in auto for step in s.steps if step.kind == "add_label")
    env = {
        **os.environ,
        TOKEN_ENV: (sandbox / TOKEN_FILE).read_text().strip(),
        STAFF_TOKEN_ENV: (sandbox / STAFF_TOKEN_FILE).read_text().strip(),
        "NO_COLOR": "1",
    }
    session = tmp_path / "session"
    args = [
        *GATEROOM,
        "run",
        "--config",
        str(sandbox / CONFIG_FILE),
        "--headless",
        "--session-dir",
        str(session),
        # the stock platform's known finding, waived as an owner would (agent tokens as literal env)
        "--waive",
        "secrets/sec.secret-env=agent tokens are literal env values upstream (joblauncher/launcher.go)",
    ]
    log = sandbox / CALL_LOG

    first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + PATIENCE_S
    while _posts(log, "/labels") < add_label_steps // 3 and time.monotonic() < deadline:
        assert first.poll() is None, "the gate finished before it could be killed"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=PATIENCE_S)
    assert 0 < _posts(log, "/labels") < add_label_steps

    store = EvidenceStore(session / STORE_FILE)
    kinds = [(r["kind"], r["payload"].get("scenario_id")) for r in store.records()]
    started = {sid for kind, sid in kinds if kind == "scenario.step"}
    finished = {sid for kind, sid in kinds if kind == "scenario.finished"}
    assert started - finished, "the kill should land in the middle of at least one scenario"
    store.close()

    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=PATIENCE_S)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert second.stdout.strip().splitlines()[-1] == "GO"
    # every add_label and create_issue step of the plan reached GitHub exactly once over both processes
    targets = _scenario_targets(EvidenceStore(session / STORE_FILE))
    assert _posts(log, "/labels", targets) == add_label_steps
    assert _scenario_issues(sandbox, env[TOKEN_ENV]) == Counter(
        s.id for s in auto for step in s.steps if step.kind == "create_issue"
    ), "each scenario's test issue exists exactly once"
