"""gateroom.toml → typed settings. Every problem becomes one line naming the file, the key and the fault.

Secrets never live in this file: the GitHub and staff tokens are read from the environment variables
it names.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from backends.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostSettings(_Strict):
    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    user: str = "codex"
    key: Path | None = None  # private key; None lets asyncssh use the agent / default keys
    known_hosts: Path | None = None  # None: ~/.ssh/known_hosts
    connect_timeout: float = Field(default=10.0, gt=0)
    command_timeout: float = Field(default=20.0, gt=0)
    #: where the codex-k8s bootstrap env file is on the host (read over SSH) if not local
    env_file: str | None = None
    #: systemd units whose journal the logs pane follows (`journalctl -f -u …`), e.g. ["k3s", "ssh"]
    journal_units: list[str] = Field(default_factory=list)


#: `kubeconfig = "host:"`: k3s's own kubeconfig, read over SSH from the `via_host` host (in memory only)
KUBECONFIG_ON_HOST = "host:"


class ClusterSettings(_Strict):
    kubeconfig: Literal["host:"] | Path | None = None
    #: reach the API through a local port forward over this host's SSH connection
    via_host: str | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout: float = Field(default=10.0, gt=0)
    production_namespace: str = "kodex-prod"

    @property
    def kubeconfig_on_host(self) -> bool:
        return self.kubeconfig == KUBECONFIG_ON_HOST

    @model_validator(mode="after")
    def _host_kubeconfig(self) -> ClusterSettings:
        if self.kubeconfig_on_host and self.via_host is None:
            raise ValueError('kubeconfig = "host:" needs via_host (the host whose k3s.yaml to read)')
        return self


class GitHubSettings(_Strict):
    api_url: str = "https://api.github.com"
    token_env: str = "GATEROOM_GITHUB_TOKEN"
    #: the repository the platform is installed from (owner/name): no default, installations differ
    platform_repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    project_repos: list[str] = Field(default_factory=list)
    timeout: float = Field(default=15.0, gt=0)

    @field_validator("project_repos")
    @classmethod
    def _repo_names(cls, repos: list[str]) -> list[str]:
        for repo in repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ValueError(f"{repo!r} is not owner/name")
        return repos

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


class PlatformSettings(_Strict):
    """The platform's staff API (api-gateway), reached with a staff JWT."""

    api_url: str = Field(min_length=1)  # e.g. https://platform.example.com (paths start at /api/v1)
    token_env: str = "GATEROOM_STAFF_TOKEN"
    timeout: float = Field(default=10.0, gt=0)

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


class TimingSettings(_Strict):
    """The plan's waits are written for a real platform (a full-env run may take 45 minutes, a chain
    of stages hours); `scale` multiplies every wait: 0.5 halves them, the sandbox uses 0.01."""

    scale: float = Field(default=1.0, gt=0, le=100)


class WitnessSettings(_Strict):
    """Where the gate posts its chain head (needs [github]): the end of each phase and each export."""

    enabled: bool = True
    #: owner/name; default: github.platform_repo
    repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    #: an existing issue (e.g. the release's checkpoint issue); default: one issue per session, opened once
    issue: int | None = Field(default=None, ge=1)


#: what can call the operator back: a manual checklist waiting, an approval the platform holds, a
#: failure (a check, a P0/P1 scenario), the end of the gate
AttentionNeed = Literal["manual", "approval", "failure", "verdict"]
ATTENTION_NEEDS: tuple[AttentionNeed, ...] = ("manual", "approval", "failure", "verdict")


class AttentionSettings(_Strict):
    """How the gate calls the operator back: a bell and a notification on screen, and `command` (if
    set) run with the event as one JSON document on stdin, e.g. ["notify-send", "Gate Room"]."""

    command: list[str] | None = None
    #: the hook is stopped (its whole process group) after this long, and the failure recorded
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    on: list[AttentionNeed] = Field(default_factory=lambda: list(ATTENTION_NEEDS))
    #: ring the terminal bell with each notification
    bell: bool = True

    @field_validator("command")
    @classmethod
    def _program(cls, command: list[str] | None) -> list[str] | None:
        if command is not None and (not command or not command[0].strip()):
            raise ValueError("give the program to run first, then its arguments")
        return command


#: the one placeholder publication names may hold: the session's id
SESSION_PLACEHOLDER = "{session}"
_BAD_REF = re.compile(r"(^[/.]|/$|\.\.|//|@\{|[\s~^:?*\[\\]|\.lock$|\.$)")


def _no_other_braces(value: str) -> str:
    if "{" in value.replace(SESSION_PLACEHOLDER, "") or "}" in value.replace(SESSION_PLACEHOLDER, ""):
        raise ValueError(f"{value!r}: the only placeholder is {SESSION_PLACEHOLDER}")
    return value


class PublishSettings(_Strict):
    """`gateroom publish`: where the decided evidence goes (needs [github]): a pull request with the
    gate report, release notes, runbook and traceability row, a draft release carrying the bundle,
    and a comment on the closeout issue. Names may hold {session}."""

    #: owner/name; default: github.platform_repo
    repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    #: the issue that closes the gate: it gets the verdict, the decision and the links
    closeout_issue: int = Field(ge=1)
    #: the checkpoint issue whose row in the issue map the gate updates (the platform's is #128)
    checkpoint_issue: int = Field(ge=1)
    #: the plan's scenario that confirms the checkpoint
    checkpoint_scenario: str = Field(default="A1.128", min_length=1)
    #: the system and version the release notes name
    system: str = Field(default="kodex", min_length=1)
    version: str = Field(default="gate-{session}", min_length=1)
    branch: str = "gateroom/gate-{session}"
    tag: str = "gate-{session}"
    report_path: str = "docs/delivery/regression_gate_{session}.md"
    release_notes_path: str = "docs/delivery/release_notes_gate_{session}.md"
    runbook_path: str = "docs/ops/e2e_gate_runbook.md"
    issue_map_path: str = "docs/delivery/issue_map.md"
    release_notes_template: str = "docs/templates/release_notes.md"
    runbook_template: str = "docs/templates/runbook.md"

    @field_validator("branch", "tag")
    @classmethod
    def _ref_name(cls, value: str) -> str:
        _no_other_braces(value)
        if not value or _BAD_REF.search(value.replace(SESSION_PLACEHOLDER, "x")):
            raise ValueError(f"{value!r} is not a valid git ref name")
        return value

    @field_validator(
        "report_path",
        "release_notes_path",
        "runbook_path",
        "issue_map_path",
        "release_notes_template",
        "runbook_template",
    )
    @classmethod
    def _doc_path(cls, value: str) -> str:
        _no_other_braces(value)
        parts = value.split("/")
        if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"{value!r}: give a path inside the repository, like docs/ops/x.md")
        if not value.endswith(".md"):
            raise ValueError(f"{value!r}: a document of the repository ends in .md")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> PublishSettings:
        written = [self.report_path, self.release_notes_path, self.runbook_path, self.issue_map_path]
        if len(set(written)) != len(written):
            raise ValueError("report_path, release_notes_path, runbook_path and issue_map_path must differ")
        return self

    def named(self, value: str, session: str) -> str:
        return value.replace(SESSION_PLACEHOLDER, session)


class CodexSettings(_Strict):
    #: a local copy of bootstrap/host/config.env (the host's copy is named by hosts[].env_file)
    env_file: Path | None = None


class Thresholds(_Strict):
    min_cpus: int = Field(default=4, ge=1)
    min_memory_gib: float = Field(default=8.0, gt=0)
    min_disk_free_gib: float = Field(default=40.0, gt=0)
    disk_mounts: list[str] = Field(default_factory=lambda: ["/"])
    cert_min_days: int = Field(default=14, ge=0)


class PodLogSettings(_Strict):
    """Pods whose logs the logs pane follows: one namespace, or every namespace matching a selector."""

    namespace: str | None = None
    #: label selector over namespaces; new matching namespaces are followed as they appear
    namespace_selector: str | None = None
    #: label selector over the pods ("" = every pod)
    selector: str = ""
    container: str | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> PodLogSettings:
        if (self.namespace is None) == (self.namespace_selector is None):
            raise ValueError("give exactly one of namespace and namespace_selector")
        return self


class FileLogSettings(_Strict):
    """A log file to follow like `tail -F`: on this machine, or on a host (by name) over SSH."""

    path: str = Field(min_length=1)
    host: str | None = None


def _default_pod_logs() -> list[PodLogSettings]:
    return [
        PodLogSettings(namespace="kodex-prod"),
        PodLogSettings(namespace_selector="kodex.works/namespace-purpose=run"),
    ]


class LogsSettings(_Strict):
    #: lines kept in memory for the screen; older lines are read back from the session's log files
    ring_lines: int = Field(default=100_000, ge=1_000, le=5_000_000)
    #: journal entries shown from before the gate connected
    journal_backlog: int = Field(default=50, ge=0, le=10_000)
    #: followed when a cluster is configured
    pods: list[PodLogSettings] = Field(default_factory=_default_pod_logs)
    files: list[FileLogSettings] = Field(default_factory=list)


class Settings(_Strict):
    hosts: list[HostSettings] = Field(min_length=1)
    cluster: ClusterSettings | None = None
    github: GitHubSettings | None = None
    platform: PlatformSettings | None = None
    timing: TimingSettings = Field(default_factory=TimingSettings)
    attention: AttentionSettings = Field(default_factory=AttentionSettings)
    witness: WitnessSettings = Field(default_factory=WitnessSettings)
    publish: PublishSettings | None = None
    codex: CodexSettings = Field(default_factory=CodexSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    plan: Path | None = None
    session_dir: Path | None = None
    concurrency: int = Field(default=8, ge=1, le=64)
    source: Path | None = None  # the file these settings came from

    @model_validator(mode="after")
    def _unique_hosts(self) -> Settings:
        names = [h.name for h in self.hosts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"host name {dupes[0]!r} is used twice")
        if self.cluster is not None and self.cluster.via_host not in (None, *names):
            raise ValueError(f"cluster.via_host names host {self.cluster.via_host!r}, which is not in hosts")
        unknown = [f.host for f in self.logs.files if f.host is not None and f.host not in names]
        if unknown:
            raise ValueError(f"logs.files names host {unknown[0]!r}, which is not in hosts")
        if self.publish is not None and self.github is None:
            raise ValueError("publish needs a [github] section (the API address and the token variable)")
        return self

    @property
    def target_label(self) -> str:
        if len(self.hosts) == 1:
            h = self.hosts[0]
            return f"{h.user}@{h.address}:{h.port}"
        return f"{len(self.hosts)} hosts"


_PATH_KEYS = {("hosts", "key"), ("hosts", "known_hosts"), ("cluster", "kubeconfig"), ("codex", "env_file")}


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative paths in the file are relative to the file, not to wherever gateroom was started."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value and value != KUBECONFIG_ON_HOST:
            p = Path(os.path.expanduser(value))
            return str(p if p.is_absolute() else base / p)
        return value

    for section, key in _PATH_KEYS:
        block = data.get(section)
        items = block if isinstance(block, list) else [block]
        for item in items:
            if isinstance(item, dict) and key in item:
                item[key] = fix(item[key])
    for key in ("plan", "session_dir"):
        if key in data:
            data[key] = fix(data[key])
    attention = data.get("attention")
    if isinstance(attention, dict):
        command = attention.get("command")
        if isinstance(command, list) and command and isinstance(command[0], str) and "/" in command[0]:
            # a script named by path (./notify.sh) sits beside the config; a bare name is found on PATH
            data["attention"] = {**attention, "command": [fix(command[0]), *command[1:]]}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def settings_from_dict(data: dict[str, Any], *, source: Path | None = None) -> Settings:
    name = str(source) if source else "<settings>"
    data = dict(data)
    if source is not None:
        _resolve_paths(data, source.parent)
    try:
        return Settings.model_validate({**data, "source": source})
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise ConfigError(f"{name}: {_location(err['loc'])}: {msg}") from None


def load_settings(path: str | Path) -> Settings:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return settings_from_dict(data, source=path.resolve())
