"""The platform's staff-side vocabularies, as the sandbox holds them: statuses, roles, flow event
types, and the fields (with their empty values) of a run and of a build/deploy task.

Kept apart from the adapter's copies on purpose: the sandbox stands in for the platform, so a mistake
in the adapter must not be mirrored here where the tests would not see it.
"""

from __future__ import annotations

from typing import Any

#: agent_runs.status (libs/go/domain/run/status.go, the chk_agent_runs_status constraint)
RUN_STATUSES = ("pending", "running", "waiting_backpressure", "succeeded", "failed", "canceled")
#: project_members.role; the roles isActorAllowedForIssueTrigger lets start a run
PROJECT_ROLES = ("read", "read_write", "admin")
TRIGGER_ROLES = ("admin", "read_write")
#: what the staff API's decision body accepts (ResolveApprovalDecisionRequest.decision)
APPROVAL_DECISIONS = ("approved", "denied", "expired", "failed")
DEPLOY_STATUSES = ("pending", "running", "succeeded", "failed", "canceled")

#: libs/go/domain/flowevent/repository.go
FLOW_EVENT_TYPES = frozenset(
    """
    webhook.received webhook.duplicate webhook.ignored
    run.namespace.prepared run.namespace.reuse_fast_path run.namespace.reuse_fallback_redeploy
    run.namespace.ttl_scheduled run.namespace.ttl_extended run.namespace.cleaned
    run.namespace.cleanup_failed run.namespace.cleanup_skipped
    run.started run.succeeded run.canceled run.failed run.failed.job_not_found run.failed.launch_error
    run.failed.precondition run.mcp.token.issued run.agent.started run.agent.ready
    run.agent.status_reported run.agent.session.restored run.agent.session.saved run.agent.resume.used
    run.codex.auth.required run.codex.auth.synchronized run.review.changes_requested.received
    run.revise.stage_resolved run.revise.stage_ambiguous run.profile.resolved run.pr.created
    run.pr.updated run.revise.pr_not_found run.job.image.resolved run.self_improve.diagnosis_ready
    run.toolchain.gap_detected run.status.comment.upserted run.service_message.updated
    run.trigger.conflict.comment run.namespace.delete_by_staff run.namespace.delete_by_system
    worker.instance.heartbeat.missed run.lease.detected_stale run.lease.released
    run.reclaimed_after_stale_lease runtime_deploy.cancel_requested runtime_deploy.stop_requested
    prompt.context.assembled mcp.tool.called mcp.tool.succeeded mcp.tool.failed
    mcp.tool.approval_pending approval.requested approval.approved approval.denied approval.expired
    approval.failed approval.applied
    interaction.request.created interaction.dispatch.attempted interaction.dispatch.retry_scheduled
    interaction.callback.received interaction.response.accepted interaction.response.rejected
    interaction.wait.entered interaction.wait.resumed run.wait.paused run.wait.resumed
    quality_governance.package.upserted quality_governance.wave_map.published
    quality_governance.projection.refreshed
    """.split()
)

#: a run's fields and their empty values: the API's Run schema, plus what the platform keeps in
#: agent_runs and its run payload without showing it in Run (repository, model, runtime profile)
RUN_FIELDS: dict[str, Any] = {
    "correlation_id": "",
    "project_id": "",
    "status": "pending",
    "issue_number": None,
    "issue_url": "",
    "pr_number": None,
    "pr_url": "",
    "trigger_kind": "",
    "trigger_label": "",
    "job_name": "",
    "job_namespace": "",
    "namespace": "",
    "job_exists": False,
    "namespace_exists": False,
    "wait_state": "",
    "wait_reason": "",
    "agent_key": "",
    "created_at": "",
    "started_at": "",
    "finished_at": "",
    "repository_full_name": "",
    "model": "",
    "reasoning_effort": "",
    "runtime_mode": "",
    "access_profile": "",
}

#: RuntimeDeployTask's fields and their empty values (`logs` is a list of RuntimeDeployTaskLog dicts)
DEPLOY_TASK_FIELDS: dict[str, Any] = {
    "run_id": "",
    "runtime_mode": "full-env",
    "namespace": "",
    "target_env": "ai",
    "slot_no": 1,
    "repository_full_name": "",
    "services_yaml_path": "services.yaml",
    "build_ref": "main",
    "deploy_only": False,
    "status": "pending",
    "lease_owner": "",
    "lease_until": "",
    "attempts": 0,
    "last_error": "",
    "result_namespace": "",
    "result_target_env": "",
    "cancel_requested_at": "",
    "cancel_requested_by": "",
    "cancel_reason": "",
    "stop_requested_at": "",
    "stop_requested_by": "",
    "stop_reason": "",
    "terminal_status_source": "",
    "terminal_event_seq": 0,
    "created_at": "",
    "updated_at": "",
    "started_at": "",
    "finished_at": "",
    "logs": (),
}


def can_transition(current: str, target: str) -> bool:
    """mcp canTransitionApprovalState: requested → any decision; approved → applied or failed."""
    if current == "requested":
        return target in ("approved", "applied", "denied", "expired", "failed")
    if current == "approved":
        return target in ("applied", "failed")
    return False
