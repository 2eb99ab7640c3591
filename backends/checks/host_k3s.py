"""k3s as bootstrap installs it: the service active, its kubeconfig private, the registry mirror set."""

from __future__ import annotations

from backends.checks.hostenv import host_env
from backends.checks.hostrun import command_failed, evidence, first_line, run, service_state
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed

KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
REGISTRIES = "/etc/rancher/k3s/registries.yaml"


@check("host.k3s", area="host", title="k3s service active", scope=Scope.HOST)
async def k3s_service(ctx: CheckContext) -> Outcome:
    res = await run(ctx, "systemctl is-active k3s")
    state = service_state(res)
    if res.ok and state == "active":
        return passed("active", "active", **evidence(res))
    if res.exit_status == 127:
        return command_failed(res, what="no systemd on the host")
    if state.startswith("unknown"):
        return failed("k3s is not running: no systemd on the host", state, "active", **evidence(res))
    return failed(f"k3s service is {state}", state, "active", **evidence(res))


def parse_stat(stdout: str) -> tuple[str, str] | None:
    """`stat -c '%a %U:%G'` → (mode, owner:group)."""
    fields = first_line(stdout).split()
    return (fields[0], fields[1]) if len(fields) == 2 else None


@check("host.kubeconfig", area="host", title="k3s kubeconfig mode 600", scope=Scope.HOST)
async def kubeconfig(ctx: CheckContext) -> Outcome:
    res = await run(ctx, f"stat -c '%a %U:%G' {KUBECONFIG}")
    expected = "600 root:root"
    if not res.ok:
        if "No such file" in res.stderr:
            return failed(
                f"{KUBECONFIG} is missing (k3s not installed?)", "missing", expected, **evidence(res)
            )
        return command_failed(res)
    parsed = parse_stat(res.stdout)
    if parsed is None:
        return failed(f"cannot read stat output {first_line(res.stdout)!r}", **evidence(res))
    mode, owner = parsed
    observed = f"{mode} {owner}"
    if mode != "600":
        return failed(
            f"{KUBECONFIG} has mode {mode}, bootstrap sets 600", observed, expected, **evidence(res)
        )
    return passed(observed, expected, **evidence(res))


def mirror_hosts(text: str) -> list[str]:
    """Registry names under `mirrors:` in a k3s registries.yaml (a reader for the file's two levels)."""
    hosts, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            inside = stripped.startswith("mirrors:")
        elif inside and indent == 2 and stripped.endswith(":"):
            hosts.append(stripped[:-1].strip().strip("\"'"))
    return hosts


@check("host.registry-mirror", area="host", title="k3s registry mirror", scope=Scope.HOST)
async def registry_mirror(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    registry = env.get("KODEX_INTERNAL_REGISTRY_HOST")
    expected = f"{REGISTRIES} mirrors {registry}"
    res = await run(ctx, f"cat {REGISTRIES}")
    if res.ok:
        hosts = mirror_hosts(res.stdout)
        observed = "mirrors " + (", ".join(hosts) or "nothing")
        if registry not in hosts:
            return failed(f"{REGISTRIES} has no mirror for {registry}", observed, expected, **evidence(res))
        return passed(observed, expected, **evidence(res))
    if "No such file" in res.stderr:
        return failed(f"{REGISTRIES} is missing", "missing", expected, **evidence(res))
    if "Permission denied" not in res.stderr:
        return command_failed(res)
    # bootstrap installs it 600 root: a non-root login can only see that it is there
    meta = await run(ctx, f"stat -c '%a %U:%G' {REGISTRIES}")
    parsed = parse_stat(meta.stdout) if meta.ok else None
    if parsed is None:
        return command_failed(meta, res)
    observed = f"present ({parsed[0]} {parsed[1]}), content readable by root only"
    return passed(
        observed, expected, reason="mirror entries not verified without root", **evidence(res, meta)
    )
