"""Expectations over the platform's runtime deploys: the deploy task a run or a push to a branch
started, as the staff API shows it, and the workloads it rolled out, as the cluster shows them.

The task's log is the platform's own record of the build: each build image of the stack is either
built by a Kaniko Job (`Build image X finished: REF`) or found in the registry (`Build image X
skipped: tag exists REF`) (runtimedeploy/service_build.go); those references are what the rollout
must run.
"""

from __future__ import annotations

import re
from typing import Any

from backends.errors import AdapterError, ErrorKind
from backends.plan import steps as S
from backends.scenarios.context import ScenarioContext
from backends.scenarios.step_base import Progress, StepFailed, StepResult, poll
from backends.scenarios.world import GateWorld

BUILT = re.compile(r"^Build image (\S+) finished: (\S+)$")
REUSED = re.compile(r"^Build image (\S+) skipped: tag exists (\S+)$")
FAILED = re.compile(r"^Build image (\S+) failed")
TERMINAL = ("succeeded", "failed", "canceled")
#: a push's deploy is one of the newest tasks; the list stream pages by 20, ask for more at once
PAGE = 100


def build_stage(logs: Any) -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """From a task's log: image name -> reference, and the names built, found and failed."""
    images: dict[str, str] = {}
    built, reused, failed = [], [], []
    for log in logs:
        first = log.message.splitlines()[0].strip() if log.message else ""
        if m := BUILT.match(first):
            images[m[1]] = m[2]
            built.append(m[1])
        elif m := REUSED.match(first):
            images.setdefault(m[1], m[2])
            if m[1] not in reused:
                reused.append(m[1])
        elif m := FAILED.match(first):
            failed.append(m[1])
    return images, built, sorted(set(reused) - set(built)), failed


def _oneline(text: str, limit: int = 400) -> str:
    """A multi-line error (a build's log is part of it) as one line."""
    flat = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _summary(task: Any) -> str:
    images, built, reused, failed = build_stage(task.logs)
    parts = [
        f"runtime deploy task of run {task.run_id}: status={task.status}",
        f"{task.repository_full_name}@{task.build_ref[:12]} into {task.namespace} ({task.target_env})"
        + (", deploy-only" if task.deploy_only else ""),
    ]
    if built or reused or failed:
        stage = []
        if built:
            stage.append("built " + ", ".join(f"{n} {images[n]}" for n in built))
        if reused:
            stage.append("found in the registry " + ", ".join(reused))
        if failed:
            stage.append("build failed: " + ", ".join(failed))
        parts.append("; ".join(stage))
    if task.last_error:
        parts.append(f"last_error: {_oneline(task.last_error)}")
    elif task.logs:
        last = task.logs[-1]
        parts.append(f"last log: [{last.stage}] {last.message.splitlines()[0][:200]}")
    return "; ".join(parts)


def _detail(task: Any, of: str) -> dict[str, Any]:
    images, built, reused, failed = build_stage(task.logs)
    stages = list(dict.fromkeys(log.stage for log in task.logs))
    return {
        "deploy": {
            "of": of,
            "run_id": task.run_id,
            "status": task.status,
            "repository": task.repository_full_name,
            "namespace": task.namespace,
            "target_env": task.target_env,
            "build_ref": task.build_ref,
            "deploy_only": task.deploy_only,
            "images": images,
            "built": built,
            "reused": reused,
            "failed": failed,
        },
        "stages": stages,
        "log_tail": [
            f"[{log.stage}] {log.level}: {log.message.splitlines()[0][:200]}" for log in task.logs[-6:]
        ],
    }


async def _run_outcome(platform: Any, run_id: str) -> str | None:
    """How the run of a finished task ended, with the reason of its failure event; None while the run
    has not ended yet."""
    run = await platform.run(run_id)
    if not run.finished:
        return None
    said = f"run {run_id}: status={run.status}"
    for event in await platform.run_events(run_id):  # newest first
        if event.event_type.startswith("run.failed") or event.event_type == "run.canceled":
            reason = event.payload.get("reason", "")
            error = _oneline(str(event.payload.get("error", "")), 240)
            return f"{said}, {event.event_type} reason={reason or '(none)'}" + (
                f" error={error}" if error else ""
            )
    return said


async def expect_deploy(
    step: S.ExpectDeploy,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    platform = world.need_platform()
    if step.of == "run" and not ctx.run_id:
        raise StepFailed("no run matched yet (an expect_run step must come first)")
    repo = world.repo(step.repository)

    async def find() -> tuple[str, str]:
        """The run whose task to read, or ("", what was seen instead)."""
        if step.of == "run":
            return ctx.run_id, ""
        branch, sha = await world.branch_head(repo, step.branch)
        tasks = await platform.runtime_deploy_tasks(page_size=PAGE)
        mine = [t for t in tasks if t.repository_full_name.lower() == repo.lower() and t.build_ref == sha]
        if mine:
            return mine[0].run_id, ""
        latest = ", ".join(f"{t.repository_full_name}@{t.build_ref[:12]} {t.status}" for t in tasks[:3])
        return "", (
            f"no runtime deploy task of {repo}@{sha[:12]} (the head of {branch}) in the staff API; "
            f"newest: {latest or 'none'}"
        )

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        run_id, seen = await find()
        if not run_id:
            return False, seen, {}
        try:
            task = await platform.runtime_deploy_task(run_id)
        except AdapterError as err:
            if err.kind is ErrorKind.NOT_FOUND:
                return False, f"no runtime deploy task for run {run_id} yet", {}
            raise
        actual, detail = _summary(task), _detail(task, step.of)
        if step.of == "branch" and not task.deploy_only:
            raise StepFailed(f"{actual}: a push's deploy is deploy-only, this one is not", detail)
        if task.status == step.status:
            if task.status == "succeeded" and "build" not in detail["stages"]:
                raise StepFailed(f"{actual}: its log has no build stage", detail)
            return True, actual, detail
        if task.status in TERMINAL:
            outcome = await _run_outcome(platform, run_id)
            if outcome is not None:  # the task and its run have both ended otherwise
                raise StepFailed(f"{actual}; {outcome}", detail)
        return False, actual, detail

    result = await poll(step.within, world.poll_interval, probe, progress)
    ctx.learn(result.detail)
    return result


def rolled_out(workload: Any) -> bool:
    want = workload.replicas
    return (
        workload.generation_observed
        and workload.updated == want
        and workload.available == want
        and workload.current == want
    )


def _repository(image: str) -> str:
    """`host/path:tag` (or `@digest`) -> `host/path`."""
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition(":")
    return head if head and "/" not in tail else name


async def expect_rollout(
    step: S.ExpectRollout,
    index: int,
    ctx: ScenarioContext,
    world: GateWorld,
    session: str,
    progress: Progress | None,
) -> StepResult:
    images = dict(ctx.deploy.get("images") or {})
    if not images:
        raise StepFailed("no deploy with built images known yet (an expect_deploy step must come first)")
    made = {_repository(ref): ref for ref in images.values()}
    ns = step.namespace or str(ctx.deploy.get("namespace", ""))

    async def probe() -> tuple[bool, str, dict[str, Any]]:
        done, waiting, wrong = [], [], []
        for d in await world.deployments(ns):
            ours = [i for i in d.images if _repository(i) in made]
            for image in ours:
                if image != made[_repository(image)]:
                    wrong.append(
                        f"Deployment {d.name} runs {image}, the deploy made {made[_repository(image)]}"
                    )
            if not ours or any(image != made[_repository(image)] for image in ours):
                continue
            if rolled_out(d):
                done.append(f"{d.name} ({', '.join(ours)}) {d.available}/{d.replicas} available")
            else:
                waiting.append(
                    f"Deployment {d.name}: {d.updated}/{d.replicas} updated, {d.available} available, "
                    f"{d.current} pod(s){f' ({d.progress})' if d.progress else ''}"
                )
        if step.migrations_job:
            job = next((j for j in await world.jobs(ns) if j.name == step.migrations_job), None)
            if job is None:
                waiting.append(f"no Job {step.migrations_job} in {ns}")
            else:
                ours = [i for i in job.images if _repository(i) in made]
                if not ours or any(image != made[_repository(image)] for image in ours):
                    runs = ", ".join(job.images) or "no image"
                    wrong.append(f"Job {job.name} runs {runs}, not an image of the deploy")
                elif job.failed:
                    wrong.append(f"Job {job.name} failed")
                elif not job.complete:
                    waiting.append(f"Job {job.name}: {job.active} active, not complete")
                else:
                    done.append(f"Job {job.name} ({', '.join(ours)}) complete")
        detail = {"rollout": {"done": done, "waiting": waiting, "wrong": wrong}}
        if not done and not waiting and not wrong:
            raise StepFailed(
                f"no workload in {ns} runs an image of the deploy ({', '.join(images.values())})"
            )
        actual = "; ".join([*wrong, *waiting, *done])
        return not wrong and not waiting, actual, detail

    return await poll(step.within, world.poll_interval, probe, progress)
