"""The whole sandbox world on loopback, and the settings that point Gate Room at it."""

from __future__ import annotations

import secrets
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from backends.config import Settings, settings_from_dict
from backends.sandbox.envfile_template import healthy_env_file
from backends.sandbox.faults import CATALOGUE, FaultSet
from backends.sandbox.github_api import SandboxGitHubApi
from backends.sandbox.github_state import GitHubState
from backends.sandbox.kube_api import K3S_ADMIN, SandboxKubeApi
from backends.sandbox.kube_empty import EmptyKubeState
from backends.sandbox.kube_state import KubeState
from backends.sandbox.platform import Platform, Timing
from backends.sandbox.staff_api import SandboxStaffApi
from backends.sandbox.staff_directory import ProjectTokens
from backends.sandbox.staff_state import StaffState
from backends.sandbox.vps import SandboxVps
from backends.sandbox.vps_model import ENV_FILE_PATH
from backends.sandbox.vps_model import KUBECONFIG as K3S_YAML

HOST_NAME = "sandbox-vps"
PLATFORM_REPO = "codex-k8s/codex-k8s"
PROJECT_REPO = "codex-k8s/demo-app"
#: where a standalone sandbox's GitHub token would be read from (`token_env` in its settings)
TOKEN_ENV = "GATEROOM_SANDBOX_GITHUB_TOKEN"
STAFF_TOKEN_ENV = "GATEROOM_SANDBOX_STAFF_TOKEN"
#: findings every stock installation has, which the headless demo waives with these reasons (recorded)
DEMO_WAIVERS = {
    "secrets/sec.secret-env": (
        "the platform passes the agent's tokens as literal env values "
        "(libs/go/k8s/joblauncher/launcher.go buildRunContainerEnv): a known upstream finding, "
        "accepted for the demo"
    )
}
#: the sandbox platform runs in compressed time: a run takes about a second, a lease a few seconds
SANDBOX_TIME_SCALE = 0.01
KUBE_CONTEXT = "sandbox"
#: what leaves the GitHub side of an empty world with nothing to examine: no webhook (so nothing ever
#: answers a label) and no branch protection
EMPTY_GITHUB = ("github.webhook-missing", "github.no-branch-protection")


@dataclass
class SandboxWorld:
    workdir: Path
    faults: FaultSet
    vps: SandboxVps | None = None
    kube_state: KubeState | None = None
    kube_api: SandboxKubeApi | None = None
    github_state: GitHubState | None = None
    github_api: SandboxGitHubApi | None = None
    platform: Platform | None = None
    staff_state: StaffState | None = None
    staff_api: SandboxStaffApi | None = None
    #: KODEX_AGENT_DEFAULT_LOCALE of the simulated platform (the stock bootstrap says ru)
    locale: str = "ru"
    staff_token: str = ""
    kubeconfig: Path | None = None
    #: handed to the engine directly: several sandboxes may share one process (the environment)
    github_token: str = ""
    timing: Timing = field(default_factory=Timing)
    secret_values: dict[str, str] = field(default_factory=dict)
    #: nothing to examine anywhere: an empty cluster read as k3s's admin, repositories without webhook
    #: or branch protection, no platform (no run, comment, run namespace, approval or flow event)
    empty: bool = False

    @classmethod
    def create(
        cls,
        faults: Iterable[str] = (),
        workdir: Path | None = None,
        *,
        locale: str = "ru",
        empty: bool = False,
    ) -> SandboxWorld:
        directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="gateroom-sandbox-"))
        names = [*faults, *(EMPTY_GITHUB if empty else ())]
        return cls(directory, FaultSet(names), locale=locale, empty=empty)

    async def start(self) -> None:
        env_text, self.secret_values = healthy_env_file(host="127.0.0.1")
        self.vps = SandboxVps(self.workdir / "vps", self.faults, env_file_text=env_text)
        await self.vps.start()

        self.kube_state = EmptyKubeState(self.faults) if self.empty else KubeState(self.faults)
        self.kube_api = SandboxKubeApi(self.kube_state, self.faults)
        await self.kube_api.start()
        self.kubeconfig = self.kube_api.write_kubeconfig(self.workdir / "kubeconfig", context=KUBE_CONTEXT)
        if self.empty:  # no binding for the operator: the gate reads as k3s's admin
            user, groups = K3S_ADMIN
            self.kubeconfig.write_text(
                self.kube_api.kubeconfig_text(context=KUBE_CONTEXT, user=user, groups=groups)
            )
        # the VPS's own view of k3s: its admin kubeconfig, and its API on 127.0.0.1:6443 via SSH forwards
        self.vps.kube_api_port = self.kube_api.port
        self.vps.facts.files[K3S_YAML].content = self.kube_api.k3s_yaml()
        for token in self.kube_state.tokens:
            self.secret_values[f"kube-token-{len(self.secret_values)}"] = token

        token = self.github_token = "ghp_" + secrets.token_hex(18)
        self.secret_values[TOKEN_ENV] = token
        self.github_state = GitHubState(self.faults, PLATFORM_REPO, [PROJECT_REPO], token=token)
        self.github_api = SandboxGitHubApi(self.github_state, self.faults)
        await self.github_api.start()

        login = self.github_state.login
        self.staff_state = StaffState(self.faults, gate_login=login, fault_repo=PROJECT_REPO)
        for name, repo in (("kodex", PLATFORM_REPO), ("project-example", PROJECT_REPO)):
            project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"project:{name}"))
            self.staff_state.add_project(project_id, name, name)
            if repo != PLATFORM_REPO:  # the example project brings GitHub tokens of its own
                bot = ProjectTokens(True, True, f"{name}-bot", f"{name}-bot@users.noreply.github.com")
                self.staff_state.set_project_tokens(project_id, bot)
            self.staff_state.add_member(project_id, login, "read_write")
            repo_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"repository:{repo}"))
            self.staff_state.bind_repository(project_id, repo_id, repo)
        self.staff_api = SandboxStaffApi(self.staff_state, self.faults)
        await self.staff_api.start()
        # the gate's staff token is a platform admin's: approvals, members and preflight need one
        self.staff_state.set_platform_admin(login, True)
        self.staff_token = self.staff_state.issue_token(login)
        self.secret_values[STAFF_TOKEN_ENV] = self.staff_token
        # the platform hands these to every agent as literal env values (joblauncher buildRunContainerEnv)
        agent_env = {
            "KODEX_MCP_BEARER_TOKEN": "mcp_" + secrets.token_hex(20),
            "KODEX_OPENAI_API_KEY": self.secret_values["KODEX_OPENAI_API_KEY"],
            "KODEX_CONTEXT7_API_KEY": "ctx7sk-" + secrets.token_hex(16),
            "KODEX_GIT_BOT_TOKEN": self.secret_values["KODEX_GITHUB_PAT"],
        }
        for key, value in agent_env.items():
            self.secret_values.setdefault(f"agent-{key}", value)
        if self.empty:
            return
        self.platform = Platform(
            self.github_state,
            self.kube_state,
            self.faults,
            staff=self.staff_state,
            timing=self.timing,
            leaked_secret=self.secret_values["KODEX_GITHUB_PAT"],
            locale=self.locale,
            agent_env=agent_env,
            registry=self.vps.facts.registry,  # one registry: what a deploy pushes, the host sees
            platform_repo=PLATFORM_REPO,
        )
        await self.platform.start()

    async def stop(self) -> None:
        if self.platform is not None:
            await self.platform.stop()
        if self.staff_api is not None:
            await self.staff_api.stop()
        if self.github_api is not None:
            await self.github_api.stop()
        if self.kube_api is not None:
            await self.kube_api.stop()
        if self.vps is not None:
            await self.vps.stop()

    def settings_dict(self, *, via_host: bool = False) -> dict[str, object]:
        """`via_host`: the cluster as a real VPS allows it, k3s.yaml over SSH and the API through a
        port forward over the host's connection (no direct route to the API is configured)."""
        assert self.vps is not None and self.vps.endpoint is not None
        ep = self.vps.endpoint
        return {
            "hosts": [
                {
                    "name": HOST_NAME,
                    "address": ep.host,
                    "port": ep.port,
                    "user": ep.user,
                    "key": str(ep.client_key),
                    "known_hosts": str(ep.known_hosts),
                    # the product's default: both ends of the key exchange run in this process
                    "connect_timeout": 10.0,
                    "command_timeout": 10.0,
                    "env_file": ENV_FILE_PATH,
                    "journal_units": ["k3s", "ssh", "kodex-image-prune"],
                }
            ],
            # the product's default: the sandbox's API shares a process (and, in tests, a loaded
            # machine) with the gate; cluster.api-slow still outlasts the adapter's retry (20s)
            "cluster": (
                {"kubeconfig": "host:", "via_host": HOST_NAME, "timeout": 10.0}
                if via_host
                else {"kubeconfig": str(self.kubeconfig), "context": KUBE_CONTEXT, "timeout": 10.0}
            ),
            "github": {
                "api_url": self.github_api.url if self.github_api else "",
                "token_env": TOKEN_ENV,
                "platform_repo": PLATFORM_REPO,
                "project_repos": [PROJECT_REPO],
                "timeout": 5.0,
            },
            "platform": {
                "api_url": self.staff_api.url if self.staff_api else "",
                "token_env": STAFF_TOKEN_ENV,
                "timeout": 5.0,
            },
            "timing": {"scale": SANDBOX_TIME_SCALE},
        }

    def settings(self, *, via_host: bool = False) -> Settings:
        return settings_from_dict(self.settings_dict(via_host=via_host))

    def endpoints(self) -> list[str]:
        """Where each server listens, for `--verbose` (point ssh, kubectl or curl at them)."""
        lines = []
        if self.vps is not None and self.vps.endpoint is not None:
            ep = self.vps.endpoint
            lines.append(
                f"ssh host   {ep.host}:{ep.port}  (ssh -i {ep.client_key} -p {ep.port} "
                f"-o UserKnownHostsFile={ep.known_hosts} {ep.user}@{ep.host})"
            )
        if self.kube_api is not None:
            lines.append(
                f"kubernetes {self.kube_api.url}  (kubectl --kubeconfig {self.kubeconfig} "
                f"--context {KUBE_CONTEXT} get ns)"
            )
        if self.github_api is not None:
            lines.append(f"github api {self.github_api.url}  (token in ${TOKEN_ENV})")
        if self.staff_api is not None:
            lines.append(f"staff api  {self.staff_api.url}  (staff JWT in ${STAFF_TOKEN_ENV})")
        return lines


def fault_descriptions() -> list[str]:
    faults = sorted(CATALOGUE.values(), key=lambda f: f.name)
    width = max(len(f.name) for f in faults)
    return [f"{f.name:{width}}  {f.description}" for f in faults]
