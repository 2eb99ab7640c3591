"""What the sandbox VPS answers: an Ubuntu 24.04 host after a codex-k8s bootstrap, as command output.

Each command the checks run is answered by a function of the host's facts; faults change facts,
never the command table, so a faulty host is still a consistent host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from backends.sandbox.faults import FaultSet

GIB = 1024**3

ENV_FILE_PATH = "/opt/codex-k8s/bootstrap/host/config.env"


@dataclass
class Reply:
    stdout: str = ""
    stderr: str = ""
    status: int = 0


UBUNTU_2404 = """PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=noble
"""

DEBIAN_12 = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""


@dataclass
class VpsFacts:
    os_release: str = UBUNTU_2404
    cpus: int = 8
    memory_bytes: int = 32 * GIB
    disk_total: dict[str, int] = field(default_factory=lambda: {"/": 200 * GIB})
    disk_free: dict[str, int] = field(default_factory=lambda: {"/": 150 * GIB})
    files: dict[str, str] = field(default_factory=dict)
    file_modes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, faults: FaultSet, env_file_text: str = "") -> VpsFacts:
        facts = cls()
        if env_file_text:
            facts.files[ENV_FILE_PATH] = env_file_text
            facts.file_modes[ENV_FILE_PATH] = "600"
        if faults.active("vps.wrong-os"):
            facts.os_release = DEBIAN_12
        if faults.active("vps.low-cpu"):
            facts.cpus = 1
        if faults.active("vps.low-memory"):
            facts.memory_bytes = 2 * GIB
        if faults.active("vps.disk-full"):
            facts.disk_free["/"] = 3 * GIB
        return facts


Handler = Callable[[VpsFacts, list[str]], Reply]
_COMMANDS: list[tuple[re.Pattern[str], Handler]] = []


def command(pattern: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _COMMANDS.append((re.compile(pattern + r"\Z"), fn))
        return fn

    return deco


def answer(facts: VpsFacts, cmdline: str) -> Reply:
    for pattern, handler in _COMMANDS:
        if pattern.match(cmdline):
            try:
                argv = shlex.split(cmdline)
            except ValueError:
                return Reply(stderr="bash: syntax error\n", status=2)
            return handler(facts, argv)
    first = cmdline.split()[0] if cmdline.split() else ""
    return Reply(stderr=f"bash: line 1: {first}: command not found\n", status=127)


@command(r"cat /etc/os-release")
def _os_release(facts: VpsFacts, argv: list[str]) -> Reply:
    return Reply(facts.os_release)


@command(r"nproc")
def _nproc(facts: VpsFacts, argv: list[str]) -> Reply:
    return Reply(f"{facts.cpus}\n")


@command(r"cat /proc/meminfo")
def _meminfo(facts: VpsFacts, argv: list[str]) -> Reply:
    total_kb = facts.memory_bytes // 1024
    return Reply(
        f"MemTotal:       {total_kb} kB\nMemFree:        {total_kb // 2} kB\n"
        f"MemAvailable:   {total_kb * 3 // 4} kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
    )


@command(r"df -P -B1 \S+")
def _df(facts: VpsFacts, argv: list[str]) -> Reply:
    mount = argv[-1]
    if mount not in facts.disk_total:
        return Reply(stderr=f"df: {mount}: No such file or directory\n", status=1)
    total, free = facts.disk_total[mount], facts.disk_free[mount]
    header = "Filesystem         1-blocks        Used   Available Capacity Mounted on\n"
    used = total - free
    pct = round(100 * used / total)
    return Reply(header + f"/dev/vda1 {total} {used} {free} {pct}% {mount}\n")


@command(r"cat \S+")
def _cat(facts: VpsFacts, argv: list[str]) -> Reply:
    path = argv[1]
    if path in facts.files:
        return Reply(facts.files[path])
    return Reply(stderr=f"cat: {path}: No such file or directory\n", status=1)


@command(r"stat -c %a \S+")
def _stat_mode(facts: VpsFacts, argv: list[str]) -> Reply:
    path = argv[-1]
    if path in facts.file_modes:
        return Reply(facts.file_modes[path] + "\n")
    return Reply(stderr=f"stat: cannot statx '{path}': No such file or directory\n", status=1)
