"""The simulated kodex platform: it reacts to label changes and reviews on the sandbox GitHub as the
platform's webhook service and worker do, runs agents in the sandbox cluster, and records runs, flow
events and approvals in the sandbox staff API's state.

Each behaviour follows a platform file (named beside it); the gate sees all of it only over the
network: the run-status comment, warnings, labels, namespaces and Jobs, and the staff API.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from backends.sandbox import kodex_render as render
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.image_registry import ImageRegistry
from backends.sandbox.platform_deploy import RuntimeDeploy
from backends.sandbox.platform_runs import BOT, RunWorld, Timing
from backends.sandbox.staff_docset import SandboxDocset
from backends.signals import kodex

register("platform.run-never-finishes", "platform", "run:postdeploy runs start but never finish", ["A3"])
#: the one kind the never-finishes fault stalls, so the fault breaks one flow and not the whole gate
STALLED_KIND = "postdeploy"
register(
    "platform.namespace-not-cleaned",
    "platform",
    "the cleanup never deletes run namespaces whose lease expired",
    ["sec.sweep"],
)
register(
    "platform.sweeps-active",
    "platform",
    "the cleanup deletes an expired run namespace while its run is still active",
    ["sec.sweep", "sec.waiting-mcp"],
)
register(
    "platform.agent-reads-secrets",
    "platform",
    "the codex-runner role may get and create secrets in run namespaces",
    ["E1", "sec.rbac-agents"],
)
register(
    "platform.secret-in-log",
    "platform",
    "agent pods print a GitHub token in their log",
    ["E3", "sec.leaks-logs"],
)
register(
    "platform.secret-in-comment",
    "platform",
    "the run-status comment quotes a GitHub token in the agent's status",
    ["E3", "sec.leaks-comments"],
)
register(
    "platform.bot-trigger-accepted",
    "platform",
    "a trigger label applied by a bot starts a run (sender type is not checked)",
    ["sec.bot-trigger"],
)
register(
    "platform.retry-restarts",
    "platform",
    "a retried run starts from scratch instead of restoring the agent session",
    ["sec.retry"],
)
register(
    "platform.revise-new-namespace",
    "platform",
    "a revise run gets a new namespace instead of reusing the issue's",
    ["D2"],
)
register(
    "platform.lease-not-extended",
    "platform",
    "a revise reuses the namespace but does not extend its lease (no run.namespace.ttl_extended)",
    ["D2"],
)
register(
    "platform.model-conflict-ignored",
    "platform",
    "two [ai-model-*] labels do not fail the run",
    ["L-model-conflict"],
)
register(
    "platform.duplicate-run-on-redelivery",
    "platform",
    "a redelivered webhook starts the same run a second time",
    ["sec.idempotency"],
)
register(
    "platform.ambiguous-revise-runs",
    "platform",
    "a changes-requested review on a PR with two stage labels starts a revise anyway",
    ["B2"],
)
register(
    "platform.approval-without-decision",
    "platform",
    "a privileged MCP tool runs without waiting for the owner's decision",
    ["C3", "sec.mcp-approval"],
)
register(
    "platform.qa-without-lineage",
    "platform",
    "run:qa starts without a run:dev candidate instead of being refused",
    ["A3.lineage"],
)
register(
    "platform.cross-project-token",
    "platform",
    "runs in the project repository are recorded under the platform's own project (run project_id, "
    "namespace kodex.works/project-id): they act with that project's identity and tokens",
    ["X1"],
)
register(
    "platform.production-candidate-profile",
    "platform",
    "run:postdeploy and run:ops run with the candidate access profile",
    ["A3", "L-revise"],
)


@dataclass
class IssueMemory:
    #: agent key -> the namespace its runs use (a revise reuses it)
    namespaces: dict[str, str] = field(default_factory=dict)
    #: the candidate namespace of the issue's run:dev lineage (qa/release reuse it)
    candidate: str = ""
    pr: int | None = None
    failed_run: str = ""


class Platform:
    def __init__(
        self,
        github: Any,
        kube: Any,
        faults: FaultSet,
        *,
        staff: Any = None,
        timing: Timing | None = None,
        leaked_secret: str = "",
        locale: str = "ru",
        agent_env: dict[str, str] | None = None,
        registry: ImageRegistry | None = None,
        platform_repo: str = "",
    ) -> None:
        self.gh = github  # GitHubState of the sandbox GitHub server
        self.kube = kube  # KubeState of the sandbox Kubernetes server
        self.staff = staff  # StaffState of the sandbox staff API
        self.faults = faults
        self.leaked_secret = leaked_secret
        self.locale = locale
        self.runs = RunWorld(self, timing or Timing(), agent_env or {})
        #: the platform's own repository: a push to its main deploys the platform (empty: no self-deploy)
        self.platform_repo = platform_repo
        self.deploys = RuntimeDeploy(
            self, timing or Timing(), registry or ImageRegistry.bootstrapped(), platform_repo
        )
        if staff is not None:
            staff.docset = SandboxDocset(github, faults, fault_repo=staff.fault_repo, actor=BOT)
            for binding in staff.bindings.values():
                # an earlier import of the core docs, merged; the platform's own docs were edited since
                edited = ("docs/product/brief.md",) if binding.full_name == platform_repo else ()
                staff.docset.seed_lock(binding.full_name, ["core", "agents"], edited=edited)
        self._memory: dict[tuple[str, int], IssueMemory] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._seen_deliveries: set[str] = set()
        #: events the simulated platform failed to handle (a test asserts there are none)
        self.errors = 0

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        queue = self.gh.subscribe()
        self._tasks = [asyncio.create_task(self._events(queue)), asyncio.create_task(self.runs.sweeper())]
        if self.platform_repo and not self.faults.active("github.webhook-missing"):
            # the push of a change to the platform repository's main, which the gate finds deploying
            self._tasks.append(asyncio.create_task(self.deploys.self_deploy()))

    async def stop(self) -> None:
        await self.runs.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def memory(self, repo: str, issue: int) -> IssueMemory:
        return self._memory.setdefault((repo, issue), IssueMemory())

    def issue_of_pr(self, repo: str, pr: int) -> int:
        for (r, issue), mem in self._memory.items():
            if r == repo and mem.pr == pr:
                return issue
        return pr

    # -- webhook events (webhook/service.go, deduplicated by delivery id) ---------------------------
    async def _events(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            kind, repo, number, data, delivery = await queue.get()
            if self.faults.active("github.webhook-missing"):
                continue
            if delivery in self._seen_deliveries and not self.faults.active(
                "platform.duplicate-run-on-redelivery"
            ):
                self.flow("", "webhook.duplicate", {"delivery_id": delivery})
                continue
            self._seen_deliveries.add(delivery)
            try:
                await self._handle(kind, repo, number, data)
            except Exception:  # one bad event must not stop the platform
                self.errors += 1

    async def _handle(self, kind: str, repo: str, number: int, data: dict[str, Any]) -> None:
        if kind == "labeled":
            await self._labeled(repo, number, data)
        elif kind == "review" and str(data.get("state", "")).upper() == "CHANGES_REQUESTED":
            await self._review_changes(repo, number, data)

    async def _labeled(self, repo: str, number: int, data: dict[str, Any]) -> None:
        label = str(data["label"])
        is_pr = bool(data.get("is_pr"))
        trigger = self._trigger_of(label, is_pr)
        if trigger is None:
            return  # state:*, need:*, run:debug, model labels: nothing starts (trigger_labels.go)
        kind, source_label = trigger
        thread = "pull_request" if is_pr else "issue"
        issue = self.issue_of_pr(repo, number) if is_pr else number
        # webhook/service.go: a conflict first, then the repository's binding, then the sender
        others = [
            x for x in self.gh.labels_of(repo, number) if x != label and kodex.trigger_kind(x) is not None
        ]
        if others and not is_pr:
            self.gh.add_comment(repo, number, render.trigger_conflict(label, others, locale="ru"), actor=BOT)
            return
        if self._project_of(repo) is None:
            return self._refuse(repo, number, thread, "repository_not_bound_for_issue_label", [label])
        why = self._sender_refusal(repo, str(data.get("actor", "")), str(data.get("actor_type", "User")))
        if why is not None:
            return self._refuse(repo, number, thread, why, [label])
        stage = kodex.stage_of(kind)
        mem = self.memory(repo, issue)
        if (
            stage in kodex.CANDIDATE_STAGES
            and not mem.candidate
            and not self.faults.active("platform.qa-without-lineage")
        ):
            return self._refuse(
                repo, number, thread, "issue_trigger_candidate_not_found", ["run:dev", "run:dev:revise"]
            )
        self.runs.launch(repo, issue, kind, source_label, target=number, target_is_pr=is_pr)

    def _trigger_of(self, label: str, is_pr: bool) -> tuple[str, str] | None:
        if label == kodex.DISCUSSION_LABEL and not is_pr:
            return kodex.DISCUSSION_KIND, label
        if label == kodex.REVIEWER_LABEL:
            return ("dev", label) if is_pr else None
        kind = kodex.trigger_kind(label)
        return (kind, label) if kind is not None and not is_pr else None

    async def _review_changes(self, repo: str, pr: int, data: dict[str, Any]) -> None:
        """webhook: changes_requested on a PR starts a revise of the PR's one stage label."""
        stages = [x for x in self.gh.labels_of(repo, pr) if kodex.trigger_kind(x) is not None]
        if len(stages) != 1 and not self.faults.active("platform.ambiguous-revise-runs"):
            code = (
                "pull_request_review_stage_not_resolved"
                if not stages
                else "pull_request_review_stage_ambiguous"
            )
            self.flow("", "run.revise.stage_ambiguous", {"pull_request": pr, "labels": stages})
            return self._refuse(repo, pr, "pull_request", code, stages)
        kind = kodex.trigger_kind(stages[0]) if stages else "dev"
        assert kind is not None
        revise = kind if kind.endswith("_revise") else f"{kind}_revise"
        self.flow("", "run.review.changes_requested.received", {"pull_request": pr})
        self.runs.launch(
            repo,
            self.issue_of_pr(repo, pr),
            revise,
            stages[0] if stages else "",
            target=pr,
            target_is_pr=True,
        )

    # -- who may trigger (webhook/service_helpers.go isActorAllowedForIssueTrigger) ----------------
    def _sender_refusal(self, repo: str, login: str, actor_type: str) -> str | None:
        if actor_type and actor_type.lower() != "user":
            if self.faults.active("platform.bot-trigger-accepted"):
                return None
            return f"sender_type_{actor_type.lower()}_not_permitted"
        if self.staff is None or self._project_of(repo) is None:
            return None  # an unbound repository is refused on its own, with its own reason code
        allowed, reason = self.staff.trigger_allowed(login, repo)
        return None if allowed else reason

    def _project_of(self, repo: str) -> Any:
        if self.staff is None:
            return repo
        return self.staff.project_of_repo(repo)

    def project_id(self, repo: str) -> str:
        project = self._project_of(repo)
        if isinstance(project, dict):
            return str(project.get("id", ""))
        return str(
            getattr(project, "id", "")
            or getattr(project, "project_id", "")
            or uuid.uuid5(uuid.NAMESPACE_URL, repo)
        )

    def run_project_id(self, repo: str) -> str:
        """The project a run of this repository is recorded under (and acts with the tokens of)."""
        own = self.project_id(repo)
        if self.staff is None or not self.faults.active("platform.cross-project-token"):
            return own
        if repo.lower() != str(self.staff.fault_repo).lower():
            return own
        return next((pid for pid in self.staff.projects if pid != own), own)

    def _refuse(self, repo: str, number: int, thread: str, code: str, labels: list[str]) -> None:
        """A warning comment with the reason code (always in Russian: the webhook path fixes the locale),
        and need:input only for the review and candidate codes (webhook/service_helpers.go)."""
        self.gh.add_comment(repo, number, render.trigger_warning(code, locale="ru", labels=labels), actor=BOT)
        self.flow("", "webhook.ignored", {"reason_code": code, "thread": thread, "number": number})
        needs_input = code.startswith("pull_request_review_") or code == "issue_trigger_candidate_not_found"
        if needs_input and "need:input" not in self.gh.labels_of(repo, number):
            self.gh.add_labels(repo, number, ["need:input"], actor=BOT)

    # -- writing back --------------------------------------------------------------------------------
    def flow(self, run_id: str, event_type: str, payload: dict[str, Any]) -> None:
        """A flow event of a run (the staff API lists them per run; events of no run are not listed)."""
        if self.staff is not None and run_id and self.staff.get_run(run_id) is not None:
            self.staff.add_flow_event(run_id, event_type, payload)

    def add_label(self, repo: str, number: int, label: str) -> None:
        self.gh.add_labels(repo, number, [label], actor=BOT)

    def remove_label(self, repo: str, number: int, label: str) -> None:
        if label in self.gh.labels_of(repo, number):
            self.gh.remove_label(repo, number, label, actor=BOT)


__all__ = ["BOT", "Platform", "Timing"]
