"""The host's network surface: bootstrap's nftables firewall, and which TCP ports listen publicly."""

from __future__ import annotations

import re

from backends.checks.hostenv import host_env
from backends.checks.hostrun import command_failed, evidence, run, service_state
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed, warned

NFT_CONF = "/etc/nftables.conf"
TABLES = ("kodex_fw", "codexk8s_fw")  # the current name, then the one older bootstraps wrote
#: k3s's own public listeners (API server, kubelet); bootstrap's firewall drops them at the edge
K3S_PORTS = {6443: "k3s API", 10250: "kubelet"}


def parse_firewall(conf: str) -> tuple[str | None, bool, set[str]]:
    """(table name, input policy is drop, TCP ports the input chain accepts) from nftables.conf."""
    table = next((t for t in TABLES if re.search(rf"\btable\s+inet\s+{t}\b", conf)), None)
    if table is None:
        return None, False, set()
    body = conf[re.search(rf"\btable\s+inet\s+{table}\b", conf).end() :]  # type: ignore[union-attr]
    m = re.search(r"\bchain\s+input\s*\{(.*?)\n\s*\}", body, re.S)
    chain = m.group(1) if m else ""
    policy_drop = bool(re.search(r"policy\s+drop\s*;", chain))
    ports: set[str] = set()
    for m in re.finditer(r"tcp\s+dport\s+(\{[^}]*\}|\S+)\s+accept", chain):
        ports.update(p for p in re.split(r"[\s,{}]+", m.group(1)) if p)
    return table, policy_drop, ports


@check("host.firewall", area="host", title="nftables firewall", scope=Scope.HOST)
async def firewall(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    ssh_port = env.get("KODEX_SSH_PORT")
    expected = f"inet kodex_fw active, policy drop, tcp {ssh_port},80,443"
    active = await run(ctx, "systemctl is-active nftables")
    conf = await run(ctx, f"cat {NFT_CONF}")
    ev = evidence(active, conf)
    if env and env.get("KODEX_FIREWALL_ENABLED") != "true":
        value = env.get("KODEX_FIREWALL_ENABLED")
        return warned(
            f"firewall hardening is off (KODEX_FIREWALL_ENABLED={value})", "disabled", expected, **ev
        )
    state = service_state(active)
    problems = []
    if state != "active":
        problems.append(f"nftables service is {state}")
    table: str | None = None
    policy_drop, ports = False, set[str]()
    if conf.ok:
        table, policy_drop, ports = parse_firewall(conf.stdout)
        if table is None:
            problems.append(f"no `table inet kodex_fw` in {NFT_CONF}")
        else:
            if not policy_drop:
                problems.append("input chain policy is not drop")
            want = {ssh_port, "80", "443"}
            if ports != want:
                problems.append(f"input accepts tcp {','.join(sorted(ports, key=_num)) or 'nothing'}")
    elif "No such file" in conf.stderr:
        problems.append(f"{NFT_CONF} is missing")
    else:
        return command_failed(conf, active)
    observed = (
        f"{state}, table {table or '-'}, policy {'drop' if policy_drop else '?'}, "
        f"tcp {','.join(sorted(ports, key=_num)) or '-'}"
    )
    if problems:
        return failed("; ".join(problems), observed, expected, **ev)
    return passed(observed, expected, **ev)


def _num(port: str) -> tuple[int, str]:
    return (int(port), "") if port.isdigit() else (1 << 17, port)


def parse_listeners(stdout: str) -> list[tuple[str, int]]:
    """(address, port) of each TCP listener in `ss -Htln` output."""
    found = []
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        local = fields[3]
        addr, _, port = local.rpartition(":")
        if port.isdigit():
            found.append((addr, int(port)))
    return found


def is_loopback(addr: str) -> bool:
    host = addr.strip("[]")
    return (
        host.startswith("127.")
        or host in {"::1", "localhost"}
        or host.endswith("%lo")
        or (host.startswith("::ffff:127."))
    )


@check("host.public-ports", area="host", title="Public TCP listeners", scope=Scope.HOST)
async def public_ports(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    ssh_port = int(env.get("KODEX_SSH_PORT")) if env.get("KODEX_SSH_PORT").isdigit() else 22
    allowed = {ssh_port, 80, 443}
    res = await run(ctx, "ss -Htln")
    if not res.ok:
        return command_failed(res)
    public = sorted({port for addr, port in parse_listeners(res.stdout) if not is_loopback(addr)})
    unexpected = [p for p in public if p not in allowed and p not in K3S_PORTS]
    expected = f"only {ssh_port}, 80, 443 (+ k3s 6443, 10250 behind the firewall)"
    observed = "public: " + (", ".join(map(str, public)) or "none")
    if unexpected:
        return failed(
            "unexpected public TCP listener"
            + ("s " if len(unexpected) > 1 else " ")
            + ", ".join(map(str, unexpected)),
            observed,
            expected,
            **evidence(res),
        )
    idle = [p for p in (80, 443) if p not in public]
    if idle:
        reason = f"nothing listens on {', '.join(map(str, idle))} (ingress not up?)"
        return warned(reason, observed, expected, **evidence(res))
    return passed(observed, expected, **evidence(res))
