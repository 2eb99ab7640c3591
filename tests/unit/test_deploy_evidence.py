"""Reading a runtime deploy task's build stage and a workload's rollout, as the deploy steps do."""

from __future__ import annotations

from backends.cluster_models import Workload
from backends.platform_api.models import DeployTaskLog
from backends.scenarios.steps_deploy import _repository, build_stage, rolled_out

REF = "127.0.0.1:5000/kodex/control-plane:0.1.159"


def _log(message: str, stage: str = "build") -> DeployTaskLog:
    return DeployTaskLog(stage, "info", message)


def test_build_stage_names_what_was_built_found_and_failed() -> None:
    logs = [
        _log("Build image api-gateway skipped: tag exists 127.0.0.1:5000/kodex/api-gateway:0.1.85"),
        _log("Build image control-plane started"),
        _log(f"Build image control-plane logs:\nINFO Pushing image to {REF}"),
        _log(f"Build image control-plane finished: {REF}"),
        _log("Build image worker failed logs:\nerror building image"),
        _log("Task claimed by reconciler x", stage="reconcile"),
    ]
    images, built, reused, failed = build_stage(logs)
    assert images == {"api-gateway": "127.0.0.1:5000/kodex/api-gateway:0.1.85", "control-plane": REF}
    assert (built, reused, failed) == (["control-plane"], ["api-gateway"], ["worker"])


def test_an_image_reference_without_its_tag() -> None:
    assert _repository(REF) == "127.0.0.1:5000/kodex/control-plane"
    assert _repository("registry:2") == "registry"
    assert _repository("127.0.0.1:5000/kodex/worker") == "127.0.0.1:5000/kodex/worker"
    assert _repository("127.0.0.1:5000/kodex/worker@sha256:abc") == "127.0.0.1:5000/kodex/worker"


def test_rolled_out_needs_every_replica_updated_available_and_no_old_pod() -> None:
    def workload(**kw: object) -> Workload:
        values: dict[str, object] = {"kind": "Deployment", "name": "d", "namespace": "n", "replicas": 1}
        values |= {"ready": 1, "available": 1, "updated": 1, "current": 1}
        return Workload(**{**values, **kw})  # type: ignore[arg-type]

    assert rolled_out(workload())
    assert not rolled_out(workload(current=2))  # the old ReplicaSet's pod is still there
    assert not rolled_out(workload(updated=0))
    assert not rolled_out(workload(available=0))
    assert not rolled_out(workload(generation_observed=False))
