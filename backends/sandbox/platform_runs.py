"""One run of the simulated platform, from the run-status comment's first phase to the cleanup of
its namespace: the worker's side (worker/run_runtime.go, joblauncher/*, runstatus/service.go).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backends.sandbox import agent
from backends.sandbox import kodex_render as render
from backends.sandbox.platform_deploy import DeployRequest, launch_error
from backends.signals import kodex

if TYPE_CHECKING:
    from backends.sandbox.platform import Platform

#: the platform's bot: it writes the status comments, and the agent's label changes come from it too
BOT = "kodex-bot[bot]"
#: the agent key of each stage's role: a revise reuses the namespace of (project, issue, agent key)
AGENT_KEYS = {
    "intake": "pm",
    "vision": "pm",
    "prd": "pm",
    "arch": "sa",
    "design": "sa",
    "plan": "em",
    "dev": "dev",
    "doc_audit": "km",
    "self_improve": "km",
    "rethink": "pm",
    "ai_repair": "sre",
    "discussion": "pm",
}


@dataclass(frozen=True)
class Timing:
    """Real seconds for the sandbox's compressed time (a 24h lease becomes a few seconds)."""

    run_s: float = 0.4
    #: long enough that a scenario's next stage finds the last one's namespace on a loaded machine
    ttl_s: float = 8.0
    sweep_every_s: float = 0.5
    log_gap_s: float = 0.02

    def scaled(self, speed: float) -> Timing:
        return Timing(
            self.run_s / speed, self.ttl_s / speed, self.sweep_every_s / speed, self.log_gap_s / speed
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # finer than the platform's seconds: sandbox leases are short


def go_duration(seconds: float) -> str:
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m}m{s}s" if h else (f"{m}m{s}s" if m else f"{s}s")


def compact(value: str, size: int) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())[:size]


def run_namespace_name(prefix: str, project_id: str, run_id: str, issue: int) -> str:
    """worker/run_runtime.go buildRunNamespace."""
    return f"{prefix}-{compact(project_id, 12) or 'project'}-i{issue}-r{compact(run_id, 12) or 'run'}"[
        :63
    ].rstrip("-")


@dataclass
class RunRecord:
    run_id: str
    repo: str
    issue: int
    thread: int
    comment_id: int
    state: dict[str, Any]
    phases: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    active: bool = True
    #: a revise that took the reuse fast path: its namespace is kept as it is, nothing is deployed
    reused: bool = False


class RunWorld:
    def __init__(self, platform: Platform, timing: Timing, agent_env: dict[str, str]) -> None:
        self.p = platform
        self.timing = timing
        self.agent_env = agent_env
        self.records: dict[str, RunRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.prefix = kodex.DEFAULT_NAMESPACE_PREFIX

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- the run-status comment (runstatus/service.go: one comment per run, edited in place) -----
    def _publish(self, rec: RunRecord, **changes: Any) -> None:
        rec.state.update(changes)
        phase = rec.state["phase"]
        # runstatus/render.go picks the template by prompt_locale: only the worker's started update
        # carries the configured locale, every other update falls back to the control plane's ru
        rec.state["prompt_locale"] = self.p.locale if phase == "started" and "phase" in changes else "ru"
        if phase not in rec.phases:
            rec.phases.append(phase)
        body = render.run_status_comment(
            rec.state, locale=rec.state["prompt_locale"], reports=rec.reports, phases=rec.phases
        )
        self.p.gh.edit_comment(rec.repo, rec.thread, rec.comment_id, body)
        self.p.flow(rec.run_id, "run.status.comment.upserted", {"phase": phase})

    def _staff(self, rec: RunRecord, **fields: Any) -> None:
        if self.p.staff is not None:
            self.p.staff.upsert_run(rec.run_id, **fields)

    # -- launching ----------------------------------------------------------------------------------
    def launch(self, repo: str, issue: int, kind: str, label: str, *, target: int, target_is_pr: bool) -> str:
        run_id = str(uuid.uuid4())
        state: dict[str, Any] = {
            "run_id": run_id,
            "phase": "created",
            "repository_full_name": repo,
            "issue_number": issue,
            "runtime_mode": "code-only"
            if kind in (*kodex.CODE_ONLY_KINDS, kodex.DISCUSSION_KIND)
            else "full-env",
            "issue_url": f"https://github.com/{repo}/issues/{issue}",
            "trigger_kind": kind,
            "trigger_label": label,
            "discussion_mode": kind == kodex.DISCUSSION_KIND,
            "prompt_locale": "ru",
            "run_status": "pending",
        }
        comment = self.p.gh.add_comment(repo, target, "…", actor=BOT)
        rec = RunRecord(run_id, repo, issue, target, comment.id, state)
        self.records[run_id] = rec
        self._publish(rec)
        self.p.gh.react(repo, target, "eyes", actor=BOT)
        self._staff(
            rec,
            status="pending",
            project_id=self.p.run_project_id(repo),
            repository_full_name=repo,
            issue_number=issue,
            pr_number=target if target_is_pr else None,
            trigger_kind=kind,
            trigger_label=label,
            created_at=rfc3339(_now()),
        )
        self.p.flow(run_id, "webhook.received", {"trigger_label": label, "thread": target})
        task = asyncio.create_task(self._run(rec, kind))
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))
        return run_id

    async def _step(self) -> None:
        await asyncio.sleep(self.timing.run_s / 4)

    async def _run(self, rec: RunRecord, kind: str) -> None:
        keepalive = asyncio.create_task(self._keepalive(rec))
        try:
            await self._work(rec, kind)
        finally:
            rec.active = False
            keepalive.cancel()

    def _profile(self, rec: RunRecord) -> tuple[str, str] | str:
        """worker/agent_job_context.go: one model and one reasoning label at most."""
        labels = self.p.gh.labels_of(rec.repo, rec.issue)
        models = sorted({kodex.MODELS[k] for x in labels if (k := kodex.catalogue_key(x)) in kodex.MODELS})
        efforts = sorted(
            {kodex.REASONING[k] for x in labels if (k := kodex.catalogue_key(x)) in kodex.REASONING}
        )
        if len(models) > 1 and not self.p.faults.active("platform.model-conflict-ignored"):
            found = [k for x in labels if (k := kodex.catalogue_key(x)) in kodex.MODELS]
            return f"failed_precondition: multiple ai-model labels found on issue: {', '.join(found)}"
        if len(efforts) > 1:
            found = [k for x in labels if (k := kodex.catalogue_key(x)) in kodex.REASONING]
            return f"failed_precondition: multiple ai-reasoning labels found on issue: {', '.join(found)}"
        return (models[0] if models else kodex.DEFAULT_MODEL), (
            efforts[0] if efforts else kodex.DEFAULT_REASONING
        )

    async def _work(self, rec: RunRecord, kind: str) -> None:
        await self._step()
        profile = self._profile(rec)
        if isinstance(profile, str):
            self.p.flow(rec.run_id, "run.failed.precondition", {"error": profile})
            self._staff(rec, status="failed", finished_at=rfc3339(_now()))
            self._publish(rec, phase="finished", run_status="failed")
            return
        model, effort = profile
        self.p.flow(rec.run_id, "run.profile.resolved", {"model": model, "reasoning_effort": effort})
        namespace, access, target_env = self._namespace(rec, kind)
        self._staff(
            rec,
            status="running",
            namespace=namespace,
            model=model,
            reasoning_effort=effort,
            runtime_mode=rec.state["runtime_mode"],
            access_profile=access,
            started_at=rfc3339(_now()),
        )
        build_ref = secrets.token_hex(20)
        self._publish(
            rec,
            phase="preparing_runtime" if rec.state["runtime_mode"] == "full-env" else "created",
            runtime_target_env=target_env,
            runtime_build_ref=build_ref,
            runtime_access_profile=access,
            namespace=namespace,
            run_status="running",
        )
        if self._deploys(rec, access, target_env):
            error = await self.p.deploys.run(
                DeployRequest(
                    rec.run_id,
                    rec.repo,
                    namespace,
                    target_env or "ai",
                    build_ref,
                    platform_repo=rec.repo == self.p.platform_repo,
                )
            )
            if error:
                # worker finishLaunchFailedRun: the run fails with the deploy's error as its reason
                self.p.flow(
                    rec.run_id,
                    "run.failed.launch_error",
                    {
                        "run_id": rec.run_id,
                        "project_id": self.p.run_project_id(rec.repo),
                        "status": "failed",
                        "runtime_mode": rec.state["runtime_mode"],
                        "namespace": namespace,
                        "error": launch_error(rec.run_id, error),
                        "reason": "runtime_deploy_failed",
                    },
                )
                self._staff(rec, status="failed", finished_at=rfc3339(_now()))
                self._publish(rec, phase="finished", run_status="failed")
                self._kept(rec)
                return
        await self._step()
        job = f"{kodex.JOB_PREFIX}{rec.run_id}"
        workload_ns = namespace or self.p.kube.production_namespace
        labels = {kodex.JOB_APP_LABEL[0]: kodex.JOB_APP_LABEL[1], kodex.RUN_ID: rec.run_id}
        readonly = access == "production-readonly"
        as_job = kind not in ("ai_repair", kodex.DISCUSSION_KIND)
        env = {
            "KODEX_RUN_ID": rec.run_id,
            "KODEX_RUNTIME_MODE": str(rec.state["runtime_mode"]),
            **self.agent_env,
        }
        pod = self.p.kube.create_run_workload(
            workload_ns,
            job,
            labels,
            env,
            sa=kodex.RUNNER_SA_READONLY if readonly else kodex.RUNNER_SA,
            job=as_job,
        )
        mem = self.p.memory(rec.repo, rec.issue)
        resumed = mem.failed_run if not self.p.faults.active("platform.retry-restarts") else ""
        mem.failed_run = ""
        self._publish(
            rec,
            phase="started",
            job_name=job,
            job_namespace=workload_ns,
            model=model,
            reasoning_effort=effort,
        )
        self.p.flow(rec.run_id, "run.started", {"job": f"{workload_ns}/{job}"})
        self.p.flow(rec.run_id, "run.agent.started", {"pod": pod})
        if resumed:
            self.p.flow(rec.run_id, "run.agent.session.restored", {"from_run_id": resumed})
            self.p.flow(rec.run_id, "run.agent.resume.used", {"from_run_id": resumed})
        secrets_allowed = self.p.kube.allowed(
            f"system:serviceaccount:{workload_ns}:{kodex.RUNNER_SA}", "get", "secrets", workload_ns
        )
        plan = agent.plan_run(
            run_id=rec.run_id,
            kind=kind,
            repo=rec.repo,
            issue=rec.issue,
            model=model,
            reasoning=effort,
            body=self.p.gh.issue_body(rec.repo, rec.issue),
            secrets_allowed=secrets_allowed,
            leaked_secret=self.p.leaked_secret if self.p.faults.active("platform.secret-in-log") else None,
            resumed_from=resumed,
        )
        await self._log(workload_ns, pod, plan.before)
        self._publish(rec, phase="ready")
        self.p.flow(rec.run_id, "run.agent.ready", {})
        for tool in plan.tools:
            self.p.flow(rec.run_id, "mcp.tool.called", {"tool_name": tool})
            self.p.flow(rec.run_id, "mcp.tool.succeeded", {"tool_name": tool})
        for text in plan.reports[:-1]:
            await self._report(rec, text)
        if plan.fails:
            await self._log(workload_ns, pod, plan.failure)
            if self.p.kube.namespace_exists(workload_ns):
                self.p.kube.set_pod_phase(workload_ns, pod, "Failed")
                self.p.kube.finish_job(workload_ns, job, False)
            mem.failed_run = rec.run_id
            self.p.flow(rec.run_id, "run.failed", {"reason": "agent exited with code 1"})
            self._staff(rec, status="failed", finished_at=rfc3339(_now()))
            self._publish(rec, phase="finished", run_status="failed")
            self._kept(rec)
            return
        await self._approvals(rec, plan)
        if (
            kodex.stage_of(kind) == "postdeploy"
            and kind == "postdeploy"
            and self.p.faults.active("platform.run-never-finishes")
        ):
            await asyncio.Event().wait()
        # a slow run outlives its first lease; an agent asked to start the next stage does it early
        busy = max(self.timing.run_s * 10, self.timing.ttl_s * 2) if plan.slow else self.timing.run_s
        if plan.triggers_next:
            early = min(busy, self.timing.run_s * 3)
            await asyncio.sleep(early)
            busy -= early
            self.p.flow(
                rec.run_id, "mcp.tool.called", {"tool_name": "github_labels_add", "label": plan.triggers_next}
            )
            self.p.add_label(rec.repo, rec.issue, plan.triggers_next)
        await asyncio.sleep(busy)
        await self._log(workload_ns, pod, plan.after)
        if self.p.kube.namespace_exists(workload_ns):  # swept under the run (a fault): nothing to mark
            self.p.kube.set_pod_phase(workload_ns, pod, "Succeeded")
            self.p.kube.finish_job(workload_ns, job, True)
        await self._report(rec, plan.reports[-1])
        self._deliver(rec, kind)
        self.p.flow(rec.run_id, "run.succeeded", {})
        self._staff(rec, status="succeeded", finished_at=rfc3339(_now()))
        self._publish(rec, phase="finished", run_status="succeeded")
        self._kept(rec)

    @staticmethod
    def _deploys(rec: RunRecord, access: str, target_env: str) -> bool:
        """worker service_queue_dispatch.go: a full-env run prepares its runtime through a deploy task,
        unless it runs read-only in production or a revise reuses its namespace as it is (only a push
        to main deploys into production)."""
        if rec.state["runtime_mode"] != "full-env" or rec.reused:
            return False
        return access != "production-readonly" and target_env != "production"

    def _kept(self, rec: RunRecord) -> None:
        """worker finalize: a run that keeps its namespace under the lease says so (namespace_deleted,
        deleted=false); the cleanup later says deleted=true."""
        if (
            rec.state.get("runtime_mode") == "full-env"
            or rec.state.get("trigger_kind") == kodex.DISCUSSION_KIND
        ):
            if (
                rec.state.get("namespace")
                and rec.state.get("runtime_access_profile") != "production-readonly"
            ):
                self._publish(rec, phase="namespace_deleted")

    async def _report(self, rec: RunRecord, text: str) -> None:
        """run_status_report: the agent's `status` text, shown in the comment and kept as a flow event."""
        if self.p.leaked_secret and self.p.faults.active("platform.secret-in-comment"):
            text += f" (pushed with https://x-access-token:{self.p.leaked_secret}@github.com/{rec.repo}.git)"
        rec.reports.append(text)
        self.p.flow(rec.run_id, "run.agent.status_reported", {"status": text})
        self._publish(rec)
        await asyncio.sleep(self.timing.log_gap_s)

    async def _approvals(self, rec: RunRecord, plan: agent.RunPlan) -> None:
        """Privileged MCP tools wait for a decision made in the staff API (mcp/control_tools.go): an
        approved request is applied at once, a denied one never runs."""
        if self.p.staff is None:
            return
        waiting = []
        for tool in plan.approvals:
            approval_id = self.p.staff.request_approval(rec.run_id, tool, "execute", {"issue": rec.issue})
            waiting.append((approval_id, tool))
            self.p.flow(rec.run_id, "mcp.tool.approval_pending", {"tool_name": tool})
        for approval_id, tool in waiting:
            if self.p.faults.active("platform.approval-without-decision"):
                decision = "approved"
            else:
                decision = await self.p.staff.wait_decision(approval_id)
            if decision in ("approved", "applied"):
                self.p.staff.decide(approval_id, "applied", "system")
                self.p.flow(rec.run_id, "mcp.tool.succeeded", {"tool_name": tool})

    def _deliver(self, rec: RunRecord, kind: str) -> None:
        """What the agent leaves behind through the MCP tools: a PR for dev, state:in-review by
        github_labels_transition (the prompt asks for it: agent-runner prompt_envelope.tmpl)."""
        mem = self.p.memory(rec.repo, rec.issue)
        if (kodex.stage_of(kind) == "dev" and rec.thread == rec.issue) or kind == "dev_revise":
            if mem.pr is None:
                mem.pr = self.p.gh.create_pull(
                    rec.repo,
                    f"codex/issue-{rec.issue}",
                    f"Issue #{rec.issue}: implementation",
                    f"Closes #{rec.issue}",
                    actor=BOT,
                )
                self.p.add_label(rec.repo, mem.pr, "run:dev")
                self.p.flow(rec.run_id, "run.pr.created", {"pull_request": mem.pr})
            else:
                self.p.flow(rec.run_id, "run.pr.updated", {"pull_request": mem.pr})
            self.p.add_label(rec.repo, mem.pr, "state:in-review")
            rec.state["pull_request_url"] = f"https://github.com/{rec.repo}/pull/{mem.pr}"
        if kind == kodex.DISCUSSION_KIND or rec.thread != rec.issue:
            return
        trigger = str(rec.state.get("trigger_label", ""))
        self.p.flow(
            rec.run_id,
            "mcp.tool.called",
            {"tool_name": "github_labels_transition", "from": trigger, "to": "state:in-review"},
        )
        self.p.remove_label(rec.repo, rec.issue, trigger)
        self.p.add_label(rec.repo, rec.issue, "state:in-review")

    # -- namespaces, leases and the cleanup ---------------------------------------------------------
    def _namespace(self, rec: RunRecord, kind: str) -> tuple[str, str, str]:
        stage = kodex.stage_of(kind)
        mem = self.p.memory(rec.repo, rec.issue)
        if stage in kodex.PRODUCTION_STAGES:
            ns = self.p.kube.production_namespace
            self.p.kube.ensure_readonly_runner(ns)
            access = (
                "candidate"
                if self.p.faults.active("platform.production-candidate-profile")
                else "production-readonly"
            )
            return ns, access, "production"
        if kind in kodex.CODE_ONLY_KINDS:
            return "", "candidate", ""
        if stage in kodex.CANDIDATE_STAGES and mem.candidate and self.p.kube.namespace_exists(mem.candidate):
            self._lease(mem.candidate, rec, extend=True)
            return mem.candidate, "candidate", "ai"
        key = AGENT_KEYS.get(stage, stage)
        reuse = mem.namespaces.get(key, "")
        if (
            kind.endswith("_revise")
            and reuse
            and self.p.kube.namespace_exists(reuse)
            and not self.p.faults.active("platform.revise-new-namespace")
        ):
            self.p.flow(rec.run_id, "run.namespace.reuse_fast_path", {"namespace": reuse})
            rec.reused = True
            self._lease(reuse, rec, extend=not self.p.faults.active("platform.lease-not-extended"))
            ns = reuse
        else:
            ns = run_namespace_name(self.prefix, self.p.run_project_id(rec.repo), rec.run_id, rec.issue)
            expires = _now() + dt.timedelta(seconds=self.timing.ttl_s)
            labels = {
                kodex.MANAGED_BY: kodex.MANAGED_BY_WORKER,
                kodex.PURPOSE: kodex.PURPOSE_RUN,
                kodex.RUNTIME_MODE: str(rec.state["runtime_mode"]),
                kodex.PROJECT_ID: self.p.run_project_id(rec.repo),
                kodex.RUN_ID: rec.run_id,
                kodex.ISSUE_NUMBER: str(rec.issue),
                kodex.AGENT_KEY: key,
            }
            annotations = {
                kodex.CORRELATION_ID: str(uuid.uuid4()),
                kodex.LEASE_TTL: go_duration(self.timing.ttl_s),
                kodex.LEASE_EXPIRES_AT: rfc3339(expires),
                kodex.LEASE_UPDATED_AT: rfc3339(_now()),
            }
            self.p.kube.create_namespace(ns, labels, annotations)
            self.p.kube.seed_run_namespace(ns)
            mem.namespaces[key] = ns
            self.p.flow(rec.run_id, "run.namespace.prepared", {"namespace": ns})
            self.p.flow(
                rec.run_id,
                "run.namespace.ttl_scheduled",
                {"namespace": ns, "expires_at": annotations[kodex.LEASE_EXPIRES_AT]},
            )
        if stage == "dev":
            mem.candidate = ns
        return ns, "candidate", "ai"

    async def _keepalive(self, rec: RunRecord) -> None:
        """worker/namespace_lease_keepalive.go: while a full-env candidate run is active, its
        namespace's lease keeps moving forward (not for production-readonly runs)."""
        while True:
            await asyncio.sleep(self.timing.ttl_s / 3)
            ns = str(rec.state.get("namespace") or "")
            if not ns or rec.state.get("runtime_access_profile") != "candidate":
                continue
            if self.p.kube.namespace_exists(ns) and not self.p.faults.active("platform.sweeps-active"):
                self._lease(ns, rec, extend=True, event=False)

    def _lease(self, ns: str, rec: RunRecord, *, extend: bool, event: bool = True) -> None:
        labels = {kodex.RUN_ID: rec.run_id}
        if not extend:
            self.p.kube.update_namespace(ns, labels=labels, annotations={})
            return
        expires = rfc3339(_now() + dt.timedelta(seconds=self.timing.ttl_s))
        self.p.kube.update_namespace(
            ns,
            labels=labels,
            annotations={kodex.LEASE_EXPIRES_AT: expires, kodex.LEASE_UPDATED_AT: rfc3339(_now())},
        )
        if event:
            self.p.flow(rec.run_id, "run.namespace.ttl_extended", {"namespace": ns, "expires_at": expires})

    async def sweeper(self) -> None:
        """The cleanup (worker + CronJob kodex-worker-namespace-cleanup): managed run namespaces whose
        lease ran out, whose run is terminal and which have no active workload."""
        while True:
            await asyncio.sleep(self.timing.sweep_every_s)
            if self.p.faults.active("platform.namespace-not-cleaned"):
                continue
            now = _now()
            for ns in self.p.kube.namespaces_with(
                {kodex.MANAGED_BY: kodex.MANAGED_BY_WORKER, kodex.PURPOSE: kodex.PURPOSE_RUN}
            ):
                expires = _parse(ns.annotations.get(kodex.LEASE_EXPIRES_AT, ""))
                if expires is None or expires > now:
                    continue
                busy = [r for r in self.records.values() if r.active and r.state.get("namespace") == ns.name]
                if busy and not self.p.faults.active("platform.sweeps-active"):
                    continue
                self.p.kube.delete_namespace(ns.name)
                for rec in self.records.values():
                    if (
                        rec.state.get("namespace") == ns.name
                        and not rec.active
                        and not rec.state.get("deleted")
                    ):
                        self._publish(rec, phase="namespace_deleted", deleted=True)
                self.p.flow(ns.labels.get(kodex.RUN_ID, ""), "run.namespace.cleaned", {"namespace": ns.name})

    async def _log(self, namespace: str, pod: str, lines: list[str]) -> None:
        for line in lines:
            if not self.p.kube.namespace_exists(namespace):
                return
            self.p.kube.append_pod_log(namespace, pod, line)
            await asyncio.sleep(self.timing.log_gap_s)


def _parse(stamp: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


__all__ = ["BOT", "RunWorld", "Timing"]
