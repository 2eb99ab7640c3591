"""Image management on the host: the internal registry the runtime deploy pushes to and k3s pulls
from (deploy/base/registry/registry.yaml.tpl: hostPort on 127.0.0.1), and the image garbage
collection bootstrap sets up (bootstrap/remote/25_configure_image_gc.sh: kubelet GC thresholds and
the `kodex-image-prune` timer running `k3s crictl rmi --prune`).
"""

from __future__ import annotations

import json
import re

from backends.checks.hostenv import host_env
from backends.checks.hostrun import command_failed, evidence, first_line, run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed

REGISTRY_MANIFEST = "deploy/base/registry/registry.yaml.tpl"
IMAGE_GC = "bootstrap/remote/25_configure_image_gc.sh"
#: the build images of the platform's services.yaml (type build) and the env keys that rename them
BUILD_REPOSITORIES = {
    "KODEX_API_GATEWAY_INTERNAL_IMAGE_REPOSITORY": "kodex/api-gateway",
    "KODEX_CONTROL_PLANE_INTERNAL_IMAGE_REPOSITORY": "kodex/control-plane",
    "KODEX_WORKER_INTERNAL_IMAGE_REPOSITORY": "kodex/worker",
    "KODEX_AGENT_RUNNER_INTERNAL_IMAGE_REPOSITORY": "kodex/agent-runner",
}
TIMER = "kodex-image-prune.timer"
SERVICE = "kodex-image-prune.service"
GC_CONF = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-kodex-image-gc.conf"
#: 25_configure_image_gc.sh's defaults for keys the env file leaves empty
GC_DEFAULTS = {
    "KODEX_K3S_IMAGE_GC_HIGH_THRESHOLD_PERCENT": "35",
    "KODEX_K3S_IMAGE_GC_LOW_THRESHOLD_PERCENT": "30",
    "KODEX_K3S_IMAGE_PRUNE_TIMER_ENABLED": "true",
}
CURL = "curl -fsS --max-time 10"


def _json(text: str) -> dict[str, object] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@check("host.registry", area="host", title="Internal registry holds the platform's images", scope=Scope.HOST)
async def registry(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    host = env.get("KODEX_INTERNAL_REGISTRY_HOST") or "127.0.0.1:5000"
    wanted = [env.get(key) or default for key, default in BUILD_REPOSITORIES.items()]
    expected = (
        f"the registry on {host} answers and holds tags of {', '.join(wanted)} "
        f"({REGISTRY_MANIFEST}; services.yaml images of type build)"
    )
    catalog = await run(ctx, f"{CURL} http://{host}/v2/_catalog")
    if not catalog.ok:
        if catalog.exit_status == 127:
            return command_failed(catalog)
        reason = (
            f"the internal registry on {host} does not answer: {first_line(catalog.stderr) or 'no reply'}"
        )
        return failed(reason, "no answer", expected, **evidence(catalog))
    data = _json(catalog.stdout)
    repositories = data.get("repositories") if data else None
    if not isinstance(repositories, list):
        return failed("the registry's catalog is not a v2 catalog", first_line(catalog.stdout), expected)
    missing = [r for r in wanted if r not in repositories]
    results = [catalog]
    tags: dict[str, list[str]] = {}
    for repo in (r for r in wanted if r in repositories):
        res = await run(ctx, f"{CURL} http://{host}/v2/{repo}/tags/list")
        results.append(res)
        listed = (_json(res.stdout) or {}).get("tags") if res.ok else None
        tags[repo] = [str(t) for t in listed] if isinstance(listed, list) else []
    empty = [r for r, t in tags.items() if not t]
    observed = "; ".join(f"{r}: {', '.join(t[-3:]) or 'no tags'}" for r, t in tags.items())
    observed += f" ({len(repositories)} repositories)"
    if missing or empty:
        named = [*(f"{r} absent" for r in missing), *(f"{r} has no tags" for r in empty)]
        return failed("the registry lacks " + ", ".join(named), observed, expected, **evidence(*results))
    return passed(observed, expected, **evidence(*results))


def gc_thresholds(text: str) -> tuple[int, int] | None:
    """(high, low) from the kubelet drop-in bootstrap writes."""
    found = {
        m[1]: int(m[2])
        for m in re.finditer(r"^\s*(imageGC(?:High|Low)ThresholdPercent):\s*(\d+)", text, re.M)
    }
    high, low = found.get("imageGCHighThresholdPercent"), found.get("imageGCLowThresholdPercent")
    return (high, low) if high is not None and low is not None else None


@check("host.image-prune", area="host", title="Image garbage collection and prune timer", scope=Scope.HOST)
async def image_prune(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    value = {k: (env.get(k) or d) for k, d in GC_DEFAULTS.items()}
    want_timer = value["KODEX_K3S_IMAGE_PRUNE_TIMER_ENABLED"].lower() == "true"
    high, low = (value[f"KODEX_K3S_IMAGE_GC_{level}_THRESHOLD_PERCENT"] for level in ("HIGH", "LOW"))
    want_gc = f"{high}/{low}"
    timer_state = "enabled and active" if want_timer else "disabled"
    expected = f"{TIMER} {timer_state}, its last prune succeeded; kubelet image GC {want_gc} ({IMAGE_GC})"
    enabled = await run(ctx, f"systemctl is-enabled {TIMER}")
    active = await run(ctx, f"systemctl is-active {TIMER}")
    last = await run(ctx, f"systemctl show -p Result -p ExecMainStatus -p ExecMainExitTimestamp {SERVICE}")
    conf = await run(ctx, f"sudo -n cat {GC_CONF}")
    results = [enabled, active, last, conf]
    for res in results[:3]:
        if res.exit_status == 127:
            return command_failed(res)
    is_enabled, is_active = first_line(enabled.stdout), first_line(active.stdout)
    props = dict(line.partition("=")[::2] for line in last.stdout.splitlines() if "=" in line)
    problems, notes = [], []
    if want_timer and (is_enabled != "enabled" or is_active != "active"):
        problems.append(f"{TIMER} is {is_enabled or 'unknown'} and {is_active or 'unknown'}")
    if not want_timer and is_enabled == "enabled":
        problems.append(f"{TIMER} is enabled though KODEX_K3S_IMAGE_PRUNE_TIMER_ENABLED is false")
    ran = bool(props.get("ExecMainExitTimestamp"))
    if want_timer and ran and props.get("Result") not in ("success", None):
        problems.append(
            f"the last prune ended {props.get('Result')} (exit {props.get('ExecMainStatus', '?')})"
        )
    if not ran:
        notes.append("the prune has not run yet")
    gc = gc_thresholds(conf.stdout) if conf.ok else None
    if conf.ok and gc is None:
        problems.append(f"{GC_CONF} sets no image GC thresholds")
    elif gc is not None and f"{gc[0]}/{gc[1]}" != want_gc:
        problems.append(f"kubelet image GC is {gc[0]}/{gc[1]}, the env file says {want_gc}")
    elif gc is not None and gc[1] >= gc[0]:
        problems.append(f"kubelet image GC low threshold {gc[1]} is not below high {gc[0]}")
    elif not conf.ok and "No such file" in conf.stdout + conf.stderr:
        problems.append(f"{GC_CONF} is missing")
    elif not conf.ok:
        notes.append("kubelet GC thresholds not verified (reading them needs sudo)")
    observed = f"{TIMER} {is_enabled or '?'}/{is_active or '?'}"
    observed += f"; last prune {props.get('Result') or 'never'}" + (
        f" at {props['ExecMainExitTimestamp']}" if ran else ""
    )
    observed += f"; kubelet GC {gc[0]}/{gc[1]}" if gc else ""
    if problems:
        return failed("; ".join(problems), observed, expected, **evidence(*results))
    return passed(observed, expected, reason="; ".join(notes), **evidence(*results))
