"""The simulated codex-k8s platform: it reacts to label changes on the sandbox GitHub as the real one
does, and works in the sandbox cluster (run namespaces, agent pods, logs, leases, the sweeper).

It drives the two sandbox servers through their in-process state, the way the real platform's
webhook handler and worker drive GitHub and Kubernetes; Gate Room sees all of it only over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from backends.sandbox import agent
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.platform_labels import (
    DEFAULT_MODEL,
    DEFAULT_REASONING,
    NEEDS,
    READ_ONLY_STAGES,
    Trigger,
    parse_trigger,
    profile,
    stage_labels,
)

PREFIX = "codex-k8s:"
BOT = "codex-k8s-bot"
NS_PREFIX = "codex-issue"
LEASE_ANNOTATION = "kodex.works/lease-expires-at"
RUNNER_SA = "codex-runner"

register(
    "platform.run-never-finishes",
    "platform",
    "run:postdeploy runs start but never finish (no state:in-review)",
    ["A3"],
)
#: the one stage the never-finishes fault stalls, so the fault breaks one flow and not the whole gate
STALLED_STAGE = "postdeploy"
register(
    "platform.namespace-not-cleaned",
    "platform",
    "the sweeper never deletes expired run namespaces",
    ["D1", "sec.sweep"],
)
register(
    "platform.agent-reads-secrets",
    "platform",
    "agent pods may get and create secrets in their run namespace",
    ["E1", "sec.rbac-agents"],
)
register(
    "platform.secret-in-log",
    "platform",
    "agent pods print the platform's GitHub token in their log",
    ["E3", "sec.leaks-logs"],
)
register(
    "platform.secret-in-comment",
    "platform",
    "the platform quotes its GitHub token in the run-started comment",
    ["E3", "sec.leaks-comments"],
)
register(
    "platform.bot-trigger-accepted",
    "platform",
    "a trigger label applied by the agent (a bot) starts a run without the owner",
    ["sec.bot-trigger"],
)
register(
    "platform.retry-restarts",
    "platform",
    "re-triggering a failed run starts from scratch instead of resuming it",
    ["sec.retry"],
)
register(
    "platform.revise-new-namespace",
    "platform",
    "a revise run gets a new namespace instead of reusing and extending the lease",
    ["A1.128", "D2", "L-revise"],
)
register(
    "platform.model-conflict-ignored",
    "platform",
    "conflicting [ai-model-*] labels do not reject the run",
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
    "a review on a PR with two stage labels starts a revise anyway",
    ["B2"],
)


@dataclass(frozen=True)
class Timing:
    """Real seconds for the sandbox's compressed time (a 24h lease becomes a few seconds)."""

    run_s: float = 0.6
    ttl_s: float = 5.0
    sweep_every_s: float = 0.5
    log_gap_s: float = 0.02

    def scaled(self, speed: float) -> Timing:
        return Timing(
            self.run_s / speed, self.ttl_s / speed, self.sweep_every_s / speed, self.log_gap_s / speed
        )


@dataclass
class IssueMemory:
    namespace: str = ""
    last_stage: str = ""
    model: str = ""
    reasoning: str = ""
    pr: int | None = None
    runs: list[str] = field(default_factory=list)
    #: the run that failed last, until a retry resumes it
    failed_run: str = ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Platform:
    def __init__(
        self, github: Any, kube: Any, faults: FaultSet, *, timing: Timing = Timing(), leaked_secret: str = ""
    ) -> None:
        self.gh = github  # GitHubState of the sandbox GitHub server
        self.kube = kube  # KubeState of the sandbox Kubernetes server
        self.faults = faults
        self.timing = timing
        self.leaked_secret = leaked_secret
        self._ids = itertools.count(1)
        self._memory: dict[tuple[str, int], IssueMemory] = {}
        self._active: dict[str, asyncio.Task[None]] = {}
        self._answers: dict[tuple[str, int], asyncio.Queue[str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._seen_deliveries: set[str] = set()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        queue = self.gh.subscribe()
        self._tasks = [asyncio.create_task(self._events(queue)), asyncio.create_task(self._sweeper())]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._active.values()]:
            task.cancel()
        for task in [*self._tasks, *self._active.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _memory_of(self, repo: str, issue: int) -> IssueMemory:
        return self._memory.setdefault((repo, issue), IssueMemory())

    # -- webhook events ---------------------------------------------------------------------------
    async def _events(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            kind, repo, number, data, delivery = await queue.get()
            if self.faults.active("github.webhook-missing"):
                continue  # no webhook: the platform never hears about anything
            if delivery in self._seen_deliveries and not self.faults.active(
                "platform.duplicate-run-on-redelivery"
            ):
                continue  # idempotent: a redelivered webhook starts nothing new
            self._seen_deliveries.add(delivery)
            try:
                await self._handle(kind, repo, number, data)
            except Exception as exc:  # one bad event must not stop the platform
                self._comment(repo, number, f"{PREFIX} internal error handling {kind}: {type(exc).__name__}")

    async def _handle(self, kind: str, repo: str, number: int, data: dict[str, Any]) -> None:
        if kind == "labeled":
            await self._labeled(repo, number, data)
        elif kind == "unlabeled" and data.get("label") == "state:blocked":
            await self._answer(repo, number, "unblocked")
        elif kind == "comment" and not str(data.get("actor", "")).startswith(BOT):
            body = str(data.get("body", ""))
            for match in re.finditer(r"^/(approve|deny) (\S+)", body, re.M):
                await self._answer(repo, number, f"{match[1]} {match[2]}")
        elif kind == "review" and str(data.get("state", "")).upper() == "CHANGES_REQUESTED":
            await self._review_changes(repo, number)

    async def _labeled(self, repo: str, number: int, data: dict[str, Any]) -> None:
        label, actor_type = str(data["label"]), str(data.get("actor_type", "User"))
        is_pr = bool(data.get("is_pr"))
        if actor_type == "Bot" and not (
            parse_trigger(label) and self.faults.active("platform.bot-trigger-accepted")
        ):
            if parse_trigger(label):
                self._comment(
                    repo,
                    number,
                    f"{PREFIX} trigger refused: {label} was applied by a bot; "
                    "a person with project rights must trigger runs",
                )
            return
        if is_pr:
            if label == "need:reviewer":
                self._spawn(repo, self._issue_of_pr(repo, number), Trigger("reviewer", False), pr=number)
            return
        if label.startswith("need:") and label[5:] in NEEDS and label != "need:input":
            role = label[5:]
            self._comment(
                repo, number, f"{PREFIX} {label} acknowledged: waiting for the {role} artifact or comment"
            )
        elif label == "state:approved":
            mem = self._memory_of(repo, number)
            self._remove_label(repo, number, "state:in-review")
            self._comment(
                repo, number, f"{PREFIX} stage {mem.last_stage or 'current'} approved; traceability updated"
            )
        elif label == "mode:discussion":
            run_id = self._new_run_id()
            self._comment(
                repo, number, f"{PREFIX} discussion run {run_id} started: comment-only, no PR or commit"
            )
        elif (trigger := parse_trigger(label)) is not None:
            self._spawn(repo, number, trigger)

    async def _review_changes(self, repo: str, pr: int) -> None:
        issue = self._issue_of_pr(repo, pr)
        stages = stage_labels(self.gh.labels_of(repo, pr))
        if len(stages) != 1 and not self.faults.active("platform.ambiguous-revise-runs"):
            self._add_label(repo, pr, "need:input")
            found = ", ".join(stages) or "none"
            self._comment(
                repo,
                issue,
                f"{PREFIX} revise not started: ambiguous stage labels ({found}) on PR #{pr}; "
                "keep exactly one stage label and request changes again",
            )
            return
        stage = (stages[0] if stages else "run:dev")[4:]
        self._spawn(repo, issue, Trigger(stage, True), pr=pr)

    def _issue_of_pr(self, repo: str, pr: int) -> int:
        for (r, issue), mem in self._memory.items():
            if r == repo and mem.pr == pr:
                return issue
        return pr

    async def _answer(self, repo: str, number: int, answer: str) -> None:
        queue = self._answers.setdefault((repo, number), asyncio.Queue())
        await queue.put(answer)

    # -- runs ---------------------------------------------------------------------------------------
    def _new_run_id(self) -> str:
        return f"run-{next(self._ids):04d}"

    def _spawn(self, repo: str, issue: int, trigger: Trigger, *, pr: int | None = None) -> None:
        run_id = self._new_run_id()
        task = asyncio.create_task(self._run(repo, issue, trigger, run_id, pr))
        self._active[run_id] = task
        task.add_done_callback(lambda _t: self._active.pop(run_id, None))

    def _reject(self, repo: str, issue: int, reason: str) -> None:
        self._comment(repo, issue, f"{PREFIX} run rejected: {reason}")

    async def _run(self, repo: str, issue: int, trigger: Trigger, run_id: str, pr: int | None) -> None:
        labels = self.gh.labels_of(repo, issue)
        mem = self._memory_of(repo, issue)
        if "state:abandoned" in labels:
            return self._reject(repo, issue, "issue is abandoned; no further stages")
        models, reasonings = profile(labels)
        if len(models) > 1 and not self.faults.active("platform.model-conflict-ignored"):
            shown = ", ".join(f"[ai-model-{m}]" for m in models)
            return self._reject(
                repo, issue, f"failed_precondition: more than one [ai-model-*] label ({shown})"
            )
        if len(reasonings) > 1:
            shown = ", ".join(f"[ai-reasoning-{r}]" for r in reasonings)
            return self._reject(
                repo, issue, f"failed_precondition: more than one [ai-reasoning-*] label ({shown})"
            )
        # one label selects; with none, the issue's previous profile sticks
        model = models[0] if models else (mem.model or DEFAULT_MODEL)
        reasoning = reasonings[0] if reasonings else (mem.reasoning or DEFAULT_REASONING)
        mem.model, mem.reasoning = model, reasoning
        if "state:blocked" in labels:
            self._comment(repo, issue, f"{PREFIX} run {run_id} stage={trigger.name} paused: state:blocked")
            await self._wait_for(repo, issue, "unblocked")
        namespace, lease, _reused = self._namespace_for(repo, issue, trigger, run_id)
        self._remove_label(repo, issue, "state:in-review")
        profile_note = " profile=read-only" if trigger.stage in READ_ONLY_STAGES else ""
        context = f" context reused from run {mem.runs[-1]}" if trigger.revise and mem.runs else ""
        retried, mem.failed_run = mem.failed_run, ""
        if retried and not self.faults.active("platform.retry-restarts"):
            context += f" resumed from run {retried}"
        leak = (
            f" clone=https://x-access-token:{self.leaked_secret}@github.com/{repo}.git"
            if (self.leaked_secret and self.faults.active("platform.secret-in-comment"))
            else ""
        )
        self._comment(
            repo, issue, f"{PREFIX} run {run_id} stage={trigger.name} phase=created namespace={namespace}"
        )
        self._comment(
            repo,
            issue,
            f"{PREFIX} run {run_id} stage={trigger.name} phase=started model={model} reasoning={reasoning} "
            f"namespace={namespace} lease={lease}{profile_note}{context}{leak}",
        )
        mem.runs.append(run_id)
        body = self.gh.issue_body(repo, issue)
        plan = agent.plan_run(
            run_id=run_id,
            stage=trigger.name,
            repo=repo,
            issue=issue,
            model=model,
            reasoning=reasoning,
            body=body,
            failed_before=bool(retried),
            secrets_allowed=self.kube.allowed(
                f"system:serviceaccount:{namespace}:{RUNNER_SA}", "get", "secrets", namespace
            ),
            leaked_secret=self.leaked_secret if self.faults.active("platform.secret-in-log") else None,
        )
        pod = f"agent-{run_id}"
        self.kube.create_pod(namespace, pod, {"app": "codex-agent", "kodex.works/run-id": run_id}, "Running")
        await self._log(namespace, pod, plan.before)
        if plan.fails and not retried:
            return await self._fail(repo, issue, trigger, run_id, namespace, pod, plan)
        if plan.triggers_next:
            # the agent's MCP label tool writes as the platform's bot: a trigger the owner did not give
            self._add_label(repo, issue, plan.triggers_next)
        await self._approvals(repo, issue, run_id, trigger, plan)
        stalled = trigger.stage == STALLED_STAGE and not trigger.revise
        if stalled and self.faults.active("platform.run-never-finishes"):
            await asyncio.Event().wait()
        await asyncio.sleep(self.timing.run_s)
        await self._log(namespace, pod, plan.after)
        self.kube.set_pod_phase(namespace, pod, "Succeeded")
        for note in plan.comments:
            self._comment(repo, issue, f"{PREFIX} run {run_id} {note}")
        self._finish(repo, issue, trigger, run_id, namespace, pr)

    async def _fail(
        self,
        repo: str,
        issue: int,
        trigger: Trigger,
        run_id: str,
        namespace: str,
        pod: str,
        plan: agent.RunPlan,
    ) -> None:
        await self._log(namespace, pod, plan.failure)
        self.kube.set_pod_phase(namespace, pod, "Failed")
        self._memory_of(repo, issue).failed_run = run_id
        run_label = f"run:{trigger.name}"
        if run_label in self.gh.labels_of(repo, issue):
            self._remove_label(repo, issue, run_label)
        self._comment(
            repo,
            issue,
            f"{PREFIX} run {run_id} stage={trigger.name} phase=failed namespace={namespace} "
            f"reason=agent-exited-1; apply {run_label} again to retry",
        )

    async def _approvals(
        self, repo: str, issue: int, run_id: str, trigger: Trigger, plan: agent.RunPlan
    ) -> None:
        pending = list(plan.approvals) + (["owner.feedback.request"] if plan.waits_for_feedback else [])
        for tool in pending:
            self._comment(
                repo, issue, f"{PREFIX} approval requested: {tool} (reply /approve {tool} or /deny {tool})"
            )
        if plan.waits_for_feedback:
            self._comment(repo, issue, f"{PREFIX} run {run_id} stage={trigger.name} phase=waiting_mcp")
        while pending:
            answer = await self._wait_for(repo, issue, None)
            verb, _, tool = answer.partition(" ")
            if tool not in pending:
                continue
            pending.remove(tool)
            if tool == "owner.feedback.request":
                self._comment(repo, issue, f"{PREFIX} run {run_id} stage={trigger.name} phase=resumed")
            elif verb == "approve":
                self._comment(
                    repo, issue, f"{PREFIX} approved: {tool} executed (audit_id={agent.audit_id()})"
                )
            else:
                self._comment(repo, issue, f"{PREFIX} denied: {tool} stopped (audit_id={agent.audit_id()})")

    async def _wait_for(self, repo: str, issue: int, wanted: str | None) -> str:
        """Wait without a timeout: a paused run is never killed for waiting (waiting_mcp)."""
        queue = self._answers.setdefault((repo, issue), asyncio.Queue())
        while True:
            answer = await queue.get()
            if wanted is None or answer == wanted:
                return answer

    def _finish(
        self, repo: str, issue: int, trigger: Trigger, run_id: str, namespace: str, pr: int | None
    ) -> None:
        mem = self._memory_of(repo, issue)
        notes = []
        if trigger.stage == "dev":
            if mem.pr is None:
                mem.pr = self.gh.create_pull(
                    repo,
                    f"codex/issue-{issue}",
                    f"Issue #{issue}: implementation",
                    f"Closes #{issue}",
                    actor=BOT,
                )
                self._add_label(repo, mem.pr, "run:dev")
                notes.append(f"opened pull request #{mem.pr}")
            else:
                notes.append(f"updated pull request #{mem.pr}")
            self._add_label(repo, mem.pr, "state:in-review")
        if trigger.stage == "plan":
            notes.append(
                "traceability updated: issue_map.md and requirements_traceability.md updated in one commit"
            )
        if trigger.stage == "doc-audit":
            notes.append("scope=markdown-only")
        if trigger.stage == "self-improve":
            notes.append("scope=prompts,markdown,agent-runner-dockerfile")
        if repo != self.gh.platform_repo:
            notes.append(f"docs resolved from {self.gh.platform_repo}")
        extra = (" " + "; ".join(notes)) if notes else ""
        self._comment(
            repo,
            issue,
            f"{PREFIX} run {run_id} stage={trigger.name} phase=finished namespace={namespace}{extra}",
        )
        for note in notes:
            if "pull request" in note:
                self._comment(repo, issue, f"{PREFIX} run {run_id} {note}")
        mem.last_stage = trigger.name
        run_label = f"run:{trigger.name}"
        if run_label in self.gh.labels_of(repo, issue):
            self._remove_label(repo, issue, run_label)
        if trigger.stage == "rethink":
            self._add_label(repo, issue, "state:superseded")
        elif trigger.stage != "reviewer":
            self._add_label(repo, issue, "state:in-review")

    # -- namespaces and leases ------------------------------------------------------------------------
    def _namespace_for(self, repo: str, issue: int, trigger: Trigger, run_id: str) -> tuple[str, str, bool]:
        mem = self._memory_of(repo, issue)
        lease = _iso(_now() + dt.timedelta(seconds=self.timing.ttl_s))
        reuse = trigger.revise and mem.namespace and self.kube.namespace_exists(mem.namespace)
        if reuse and not self.faults.active("platform.revise-new-namespace"):
            self.kube.update_namespace(
                mem.namespace, labels={"kodex.works/run-id": run_id}, annotations={LEASE_ANNOTATION: lease}
            )
            return mem.namespace, lease, True
        slug = repo.split("/")[-1]
        name = f"{NS_PREFIX}-{slug}-{issue}-{run_id.split('-')[-1]}"
        labels = {
            "kodex.works/namespace-purpose": "run",
            "kodex.works/managed-by": "kodex",
            "kodex.works/run-id": run_id,
        }
        self.kube.create_namespace(
            name, labels, {LEASE_ANNOTATION: lease, "kodex.works/runtime-fingerprint": f"sha256:{run_id}"}
        )
        self.kube.seed_run_namespace(name)
        mem.namespace = name
        return name, lease, False

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.timing.sweep_every_s)
            if self.faults.active("platform.namespace-not-cleaned"):
                continue
            now = _iso(_now())
            active_runs = set(self._active)
            for ns in self.kube.namespaces_with(
                {"kodex.works/namespace-purpose": "run", "kodex.works/managed-by": "kodex"}
            ):
                expires = ns.annotations.get(LEASE_ANNOTATION, "")
                if not expires or expires > now or ns.labels.get("kodex.works/run-id") in active_runs:
                    continue
                self.kube.delete_namespace(ns.name)
                self._announce_deleted(ns.name)

    def _announce_deleted(self, namespace: str) -> None:
        for (repo, issue), mem in self._memory.items():
            if mem.namespace == namespace:
                self._comment(
                    repo,
                    issue,
                    f"{PREFIX} run {mem.runs[-1] if mem.runs else '-'} stage={mem.last_stage or '-'} "
                    f"phase=namespace_deleted namespace={namespace}",
                )

    # -- writing back -------------------------------------------------------------------------------------
    async def _log(self, namespace: str, pod: str, lines: list[str]) -> None:
        for line in lines:
            self.kube.append_pod_log(namespace, pod, line)
            await asyncio.sleep(self.timing.log_gap_s)

    def _comment(self, repo: str, number: int, body: str) -> None:
        self.gh.add_comment(repo, number, body, actor=BOT)

    def _add_label(self, repo: str, number: int, label: str) -> None:
        self.gh.add_labels(repo, number, [label], actor=BOT)

    def _remove_label(self, repo: str, number: int, label: str) -> None:
        if label in self.gh.labels_of(repo, number):
            self.gh.remove_label(repo, number, label, actor=BOT)
