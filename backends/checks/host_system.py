"""Host system state bootstrap sets up for k3s: swap off, the k8s sysctls, packages, a synced clock."""

from __future__ import annotations

from backends.checks.hostrun import command_failed, evidence, first_line, run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed

# bootstrap/remote/00_prepare_host.sh writes these to /etc/sysctl.d/99-k8s.conf
SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
}
# ...and installs these (nftables comes with the firewall step)
PACKAGES = (
    "curl",
    "ca-certificates",
    "jq",
    "git",
    "tar",
    "unzip",
    "gettext-base",
    "open-iscsi",
    "nfs-common",
    "golang-go",
    "nftables",
)


def _proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


@check("host.swap", area="host", title="Swap is off", scope=Scope.HOST)
async def swap(ctx: CheckContext) -> Outcome:
    res = await run(ctx, "cat /proc/swaps")
    if not res.ok:
        return command_failed(res)
    active = [line.split()[0] for line in res.stdout.splitlines()[1:] if line.strip()]
    if active:
        observed = f"swap on: {', '.join(active)}"
        return failed(f"{observed}; kubelet expects swap off", observed, "no swap", **evidence(res))
    return passed("no swap", "no swap", **evidence(res))


def parse_grep_values(stdout: str) -> dict[str, str]:
    """`grep -H . FILE...` → {file: first value line}."""
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        path, sep, value = line.partition(":")
        if sep and path not in values:
            values[path] = value.strip()
    return values


@check("host.sysctl", area="host", title="Kubernetes sysctls", scope=Scope.HOST)
async def sysctls(ctx: CheckContext) -> Outcome:
    # read /proc/sys directly: `sysctl` lives in /usr/sbin, off a non-root login's PATH
    paths = {key: _proc_path(key) for key in SYSCTLS}
    res = await run(ctx, "grep -H . " + " ".join(paths.values()))
    values = parse_grep_values(res.stdout)
    observed, problems = [], []
    for key, want in SYSCTLS.items():
        got = values.get(paths[key])
        if got is None:
            why = " (br_netfilter not loaded)" if ".bridge." in key else ""
            problems.append(f"{key} missing{why}")
            observed.append(f"{key}=?")
        else:
            observed.append(f"{key}={got}")
            if got != want:
                problems.append(f"{key}={got}, need {want}")
    expected = ", ".join(f"{k}={v}" for k, v in SYSCTLS.items())
    if problems:
        return failed("; ".join(problems), ", ".join(observed), expected, **evidence(res))
    return passed(", ".join(observed), expected, **evidence(res))


def parse_dpkg(stdout: str) -> set[str]:
    """Installed package names from `dpkg-query -W -f='${Package} ${Status}\\n'`."""
    installed = set()
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "install" and fields[-1] == "installed":
            installed.add(fields[0].partition(":")[0])  # drop an :arch suffix
    return installed


@check("host.packages", area="host", title="Required packages", scope=Scope.HOST)
async def packages(ctx: CheckContext) -> Outcome:
    res = await run(ctx, "dpkg-query -W -f='${Package} ${Status}\\n' " + " ".join(PACKAGES))
    if res.exit_status == 127:
        return command_failed(res, what="not a Debian/Ubuntu package system")
    installed = parse_dpkg(res.stdout)
    missing = [p for p in PACKAGES if p not in installed]
    observed = f"{len(PACKAGES) - len(missing)}/{len(PACKAGES)} installed"
    expected = "all of " + " ".join(PACKAGES)
    if missing:
        return failed("missing " + ", ".join(missing), observed, expected, **evidence(res))
    return passed(observed, expected, **evidence(res))


@check("host.time-sync", area="host", title="Clock synchronised", scope=Scope.HOST)
async def time_sync(ctx: CheckContext) -> Outcome:
    res = await run(ctx, "timedatectl show -p NTPSynchronized")
    if not res.ok:
        return command_failed(res, what="cannot ask systemd-timedated")
    value = first_line(res.stdout).partition("=")[2]
    if value == "yes":
        return passed("NTPSynchronized=yes", "NTPSynchronized=yes", **evidence(res))
    return failed(
        f"clock not NTP-synchronised (NTPSynchronized={value or '?'})",
        f"NTPSynchronized={value or '?'}",
        "NTPSynchronized=yes",
        **evidence(res),
    )
