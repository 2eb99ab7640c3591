"""Host basics over SSH: OS release, CPU, memory, free disk against thresholds."""

from __future__ import annotations

from backends.checks.hostrun import run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.host import CommandResult

GIB = 1024**3


async def _run(ctx: CheckContext, command: str) -> CommandResult:
    return await run(ctx, command)


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _command_failed(res: CommandResult) -> Outcome:
    detail = (res.stderr or res.stdout).strip().splitlines()
    return failed(
        f"`{res.command}` exited {res.exit_status}" + (f": {detail[0]}" if detail else ""),
        command=res.command,
        output=res.stderr or res.stdout,
    )


@check("host.os", area="host", title="OS is Ubuntu 24.04", scope=Scope.HOST)
async def os_release(ctx: CheckContext) -> Outcome:
    res = await _run(ctx, "cat /etc/os-release")
    if not res.ok:
        return _command_failed(res)
    info = parse_os_release(res.stdout)
    observed = info.get("PRETTY_NAME") or f"{info.get('ID', '?')} {info.get('VERSION_ID', '?')}"
    expected = "Ubuntu 24.04"
    out = {"command": res.command, "output": res.stdout}
    if info.get("ID") == "ubuntu" and info.get("VERSION_ID") == "24.04":
        return passed(observed, expected, **out)
    return failed(f"{observed}, expected {expected}", observed, expected, **out)


@check("host.cpu", area="host", title="CPU count", scope=Scope.HOST)
async def cpu(ctx: CheckContext) -> Outcome:
    res = await _run(ctx, "nproc")
    if not res.ok:
        return _command_failed(res)
    want = ctx.settings.thresholds.min_cpus
    try:
        count = int(res.stdout.strip())
    except ValueError:
        return failed(f"nproc printed {res.stdout.strip()!r}", command=res.command, output=res.stdout)
    out = {"command": res.command, "output": res.stdout}
    if count >= want:
        return passed(f"{count} CPUs", f">= {want}", **out)
    return failed(f"{count} CPUs, need at least {want}", f"{count} CPUs", f">= {want}", **out)


@check("host.memory", area="host", title="Memory", scope=Scope.HOST)
async def memory(ctx: CheckContext) -> Outcome:
    res = await _run(ctx, "cat /proc/meminfo")
    if not res.ok:
        return _command_failed(res)
    total_kb = None
    for line in res.stdout.splitlines():
        if line.startswith("MemTotal:"):
            total_kb = int(line.split()[1])
    if total_kb is None:
        return failed("no MemTotal in /proc/meminfo", command=res.command, output=res.stdout)
    gib = total_kb * 1024 / GIB
    want = ctx.settings.thresholds.min_memory_gib
    out = {"command": res.command, "output": res.stdout}
    if gib >= want * 0.97:  # firmware reserves a little of the nominal size
        return passed(f"{gib:.1f} GiB", f">= {want:g} GiB", **out)
    return failed(
        f"{gib:.1f} GiB RAM, need at least {want:g} GiB", f"{gib:.1f} GiB", f">= {want:g} GiB", **out
    )


def parse_df(text: str) -> tuple[int, int] | None:
    """(total, available) bytes from `df -P -B1` output."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    fields = lines[-1].split()
    try:
        return int(fields[1]), int(fields[3])
    except (IndexError, ValueError):
        return None


@check("host.disk", area="host", title="Free disk", scope=Scope.HOST)
async def disk(ctx: CheckContext) -> Outcome:
    want = ctx.settings.thresholds.min_disk_free_gib
    observed, problems, commands, outputs = [], [], [], []
    for mount in ctx.settings.thresholds.disk_mounts:
        res = await _run(ctx, f"df -P -B1 {mount}")
        commands.append(res.command)
        outputs.append(res.stdout or res.stderr)
        parsed = parse_df(res.stdout) if res.ok else None
        if parsed is None:
            problems.append(f"{mount}: cannot read free space")
            continue
        free_gib = parsed[1] / GIB
        observed.append(f"{mount} {free_gib:.0f} GiB free")
        if free_gib < want:
            problems.append(f"{mount} has {free_gib:.1f} GiB free, need {want:g} GiB")
    out = {"command": "; ".join(commands), "output": "".join(outputs)}
    if problems:
        return failed("; ".join(problems), ", ".join(observed), f">= {want:g} GiB free", **out)
    return passed(", ".join(observed), f">= {want:g} GiB free", **out)
