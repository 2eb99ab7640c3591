# ruff: noqa: E501 - the journal's message templates are real-length log lines
"""The sandbox VPS's systemd journal, and `journalctl -f` over SSH as a stream.

The journal is host state: entries are made on a clock (a few a second, from the units a codex-k8s
host runs: k3s, sshd, the image-prune timer, systemd itself), kept in a bounded buffer like journald's
own rotation, and followed by any number of `journalctl -f` sessions. Entry i is a pure function of
i, so a test knows exactly which entries exist; a follower that reconnects with `--after-cursor` gets
precisely the entries after the one it saw last.

Supported: `journalctl [-f|--follow] [-o|--output json|short-iso|cat] [-u|--unit U]... [-n|--lines N]
[--after-cursor C] [--no-pager] [--all|-a] [-q]`. Tests can append their own entries (`emit`) and stop
the clock (`rate = 0`); `SandboxVps.drop_connections()` cuts followers off mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shlex
import time
from collections import deque
from dataclasses import dataclass

import asyncssh

BOOT_ID = "9f1c2a7e4b5d4c3a8e6f0a1b2c3d4e5f"
SEQNUM_ID = "4e1d7c0b9a8f4e2d9c1b0a7f6e5d4c3b"
HOSTNAME = "kodex-vps"

#: unit → (syslog identifier, pid)
UNITS = {
    "k3s.service": ("k3s", 2211),
    "ssh.service": ("sshd", 1187),
    "kodex-image-prune.service": ("kodex-image-prune", 40211),
    "iscsid.service": ("iscsid", 954),
}

# (unit, priority, template) — {t} klog time, {ts} RFC 3339, {n} a counter, {h} 8 hex digits
_TEMPLATES: list[tuple[str, int, str]] = [
    (
        "k3s.service",
        6,
        'I{t}    2211 controller.go:132] "Successfully synced" key="kodex-prod/kodex-worker" duration="{ms}ms"',
    ),
    (
        "k3s.service",
        6,
        'I{t}    2211 event.go:389] "Event occurred" object="kodex-prod/kodex-control-plane-7c9d8b6f5-{h5}" kind="Pod" type="Normal" reason="Pulled" message="Container image \\"127.0.0.1:5000/kodex/control-plane:0.9.{n3}\\" already present on machine"',
    ),
    (
        "k3s.service",
        6,
        'time="{ts}" level=info msg="Updating TLS secret for kube-system/k3s-serving (count: {n3}): map[listener.cattle.io/cn-10.43.0.1:10.43.0.1]"',
    ),
    (
        "k3s.service",
        4,
        'W{t}    2211 reflector.go:561] k8s.io/client-go/informers/factory.go:160: watch of *v1.PartialObjectMetadata ended with: an error on the server ("unable to decode an event from the watch stream: context canceled") has prevented the request from succeeding',
    ),
    (
        "k3s.service",
        6,
        'I{t}    2211 kubelet.go:2476] "SyncLoop ADD" source="api" pods=["codex-issue-1{n3}/agent-run-{h5}"]',
    ),
    ("k3s.service", 6, 'time="{ts}" level=info msg="StartContainer for \\"{h}{h}\\" returns successfully"'),
    (
        "k3s.service",
        3,
        'E{t}    2211 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"agent\\" with CrashLoopBackOff: \\"back-off 10s restarting failed container=agent pod=agent-run-{h5}\\"" pod="codex-issue-1{n3}/agent-run-{h5}"',
    ),
    (
        "k3s.service",
        6,
        'I{t}    2211 namespace_controller.go:187] "Namespace has been deleted" namespace="codex-issue-1{n3}"',
    ),
    (
        "ssh.service",
        6,
        "Accepted publickey for codex from 198.51.100.7 port 5{n4} ssh2: ED25519 SHA256:Qm9vZ2xlIGlzIG5vdCBhIGtleSBqdXN0IGEgdGVzdA",
    ),
    ("ssh.service", 6, "pam_unix(sshd:session): session opened for user codex(uid=1000) by codex(uid=0)"),
    ("ssh.service", 5, "Connection closed by invalid user admin 203.0.113.99 port 4{n4} [preauth]"),
    # bootstrap/remote/25_configure_image_gc.sh: the prune script reports the disk around crictl's list
    ("kodex-image-prune.service", 6, "[kodex-image-prune] before: 61G/197G used (31%)"),
    ("kodex-image-prune.service", 6, "Deleted: 127.0.0.1:5000/kodex/control-plane:0.1.{n3}"),
    ("kodex-image-prune.service", 6, "[kodex-image-prune] after: 52G/197G used (26%)"),
    ("iscsid.service", 4, "iscsid: can not connect to iSCSI daemon (111)!"),
]
_SYSTEMD = (
    "kodex-image-prune.service",
    6,
    "Started kodex-image-prune.service - kodex host containerd image prune.",
)


@dataclass(frozen=True)
class Entry:
    index: int  # journald seqnum
    micros: int  # __REALTIME_TIMESTAMP
    unit: str
    identifier: str
    pid: int
    priority: int
    message: str

    @property
    def cursor(self) -> str:
        x = hashlib.sha256(f"{self.index}".encode()).hexdigest()[:16]
        return (
            f"s={SEQNUM_ID};i={self.index:x};b={BOOT_ID};m={self.micros % 10**12:x};t={self.micros:x};x={x}"
        )

    def json(self) -> str:
        fields = {
            "__CURSOR": self.cursor,
            "__REALTIME_TIMESTAMP": str(self.micros),
            "__MONOTONIC_TIMESTAMP": str(self.micros % 10**12),
            "_BOOT_ID": BOOT_ID,
            "PRIORITY": str(self.priority),
            "_HOSTNAME": HOSTNAME,
            "SYSLOG_IDENTIFIER": self.identifier,
            "_PID": str(self.pid),
            "_SYSTEMD_UNIT": "init.scope" if self.identifier == "systemd" else self.unit,
            "MESSAGE": self.message,
        }
        if self.identifier == "systemd":
            fields["UNIT"] = self.unit
        return json.dumps(fields, separators=(",", ":"))

    def short_iso(self) -> str:
        t = time.gmtime(self.micros // 1_000_000)
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S+0000', t)} {HOSTNAME} {self.identifier}[{self.pid}]: {self.message}"


def cursor_index(cursor: str) -> int | None:
    for part in cursor.split(";"):
        if part.startswith("i="):
            try:
                return int(part[2:], 16)
            except ValueError:
                return None
    return None


class Journal:
    def __init__(self, *, rate: float = 4.0, retain: int = 50_000, start: float | None = None) -> None:
        self.rate = rate
        self.retain = retain
        self.start = time.time() - 30 if start is None else start
        self.entries: deque[Entry] = deque(maxlen=retain)
        self.next_index = 1
        self._made_until = self.start
        self._changed = asyncio.Event()
        self.advance(self.start + 30)  # a little history before the gate connects

    def _synthetic(self, index: int, micros: int) -> Entry:
        if index % 29 == 0:
            unit, priority, template = _SYSTEMD
            identifier, pid = "systemd", 1
        else:
            unit, priority, template = _TEMPLATES[(index * 7) % len(_TEMPLATES)]
            identifier, pid = UNITS[unit]
        seconds = micros // 1_000_000
        tm = time.gmtime(seconds)
        digest = hashlib.sha256(str(index).encode()).hexdigest()
        message = template.format(
            t=time.strftime("%m%d %H:%M:%S", tm) + f".{micros % 1_000_000:06d}",
            ts=time.strftime("%Y-%m-%dT%H:%M:%SZ", tm),
            n3=index % 1000,
            n4=index % 10000,
            ms=index % 97 + 1,
            h=digest[:8],
            h5=digest[8:13],
        )
        return Entry(index, micros, unit, identifier, pid, priority, message)

    def advance(self, now: float | None = None) -> None:
        """Make the entries the clock says exist by now."""
        if self.rate <= 0:
            return
        now = time.time() if now is None else now
        step = 1.0 / self.rate
        made = 0
        while self._made_until + step <= now:
            self._made_until += step
            self._append(self._synthetic(self.next_index, int(self._made_until * 1_000_000)))
            made += 1
        if made:
            self._wake()

    def emit(self, unit: str, message: str, priority: int = 6, *, at: float | None = None) -> Entry:
        """Write an entry now (tests: a known line, e.g. one carrying a secret)."""
        identifier, pid = UNITS.get(unit, (unit.removesuffix(".service"), 4242))
        micros = int((time.time() if at is None else at) * 1_000_000)
        entry = Entry(self.next_index, micros, unit, identifier, pid, priority, message)
        self._append(entry)
        self._wake()
        return entry

    def _append(self, entry: Entry) -> None:
        self.entries.append(entry)
        self.next_index = entry.index + 1

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the journal changes, or `seconds` pass."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    def after(self, index: int) -> list[Entry]:
        """Entries with a seqnum above index that the journal still holds."""
        if not self.entries or self.entries[-1].index <= index:
            return []
        first = self.entries[0].index
        skip = max(0, index + 1 - first)
        return [self.entries[i] for i in range(skip, len(self.entries))]


def _unit_name(name: str) -> str:
    return name if "." in name else name + ".service"


@dataclass
class JournalQuery:
    follow: bool = False
    output: str = "short-iso"
    units: tuple[str, ...] = ()
    lines: int | None = None
    after_cursor: str | None = None

    def wants(self, entry: Entry) -> bool:
        return not self.units or entry.unit in self.units


def parse_journalctl(cmdline: str) -> JournalQuery | None:
    """A `journalctl …` command line → query; None when it is not one (or uses an unknown option)."""
    try:
        argv = shlex.split(cmdline)
    except ValueError:
        return None
    if not argv or argv[0] != "journalctl":
        return None
    q = JournalQuery()
    units: list[str] = []
    args = iter(argv[1:])
    for arg in args:
        key, eq, value = arg.partition("=")
        if arg in ("-f", "--follow"):
            q.follow = True
        elif arg in ("--no-pager", "--all", "-a", "-q", "--quiet", "--no-hostname"):
            pass
        elif key in ("-o", "--output"):
            q.output = value if eq else next(args, "")
        elif key in ("-u", "--unit"):
            units.append(_unit_name(value if eq else next(args, "")))
        elif key in ("-n", "--lines"):
            raw = value if eq else next(args, "")
            if not raw.isdigit():
                return None
            q.lines = int(raw)
        elif key == "--after-cursor":
            q.after_cursor = value if eq else next(args, "")
        elif arg.startswith("-o") and len(arg) > 2:
            q.output = arg[2:]
        elif arg.startswith("-u") and len(arg) > 2:
            units.append(_unit_name(arg[2:]))
        elif arg.startswith("-n") and arg[2:].isdigit():
            q.lines = int(arg[2:])
        else:
            return None
    q.units = tuple(units)
    if q.output not in ("json", "short-iso", "cat"):
        return None
    return q


def _render(entry: Entry, output: str) -> str:
    if output == "json":
        return entry.json()
    if output == "cat":
        return entry.message
    return entry.short_iso()


async def serve_journalctl(
    journal: Journal, process: asyncssh.SSHServerProcess[str], query: JournalQuery
) -> None:
    """Answer one `journalctl` session: the backlog, then (with -f) new entries until the client goes."""
    journal.advance()
    if query.after_cursor is not None:
        last = cursor_index(query.after_cursor)
        if last is None:
            process.stderr.write("Failed to seek to cursor: Invalid argument\n")
            process.exit(1)
            return
        backlog = [e for e in journal.after(last) if query.wants(e)]
    else:
        wanted = [e for e in journal.after(0) if query.wants(e)]
        n = 10 if query.lines is None and query.follow else query.lines
        backlog = wanted[-n:] if n else ([] if n == 0 else wanted)
    last_index = backlog[-1].index if backlog else (journal.next_index - 1)
    try:
        for entry in backlog:
            process.stdout.write(_render(entry, query.output) + "\n")
        await process.stdout.drain()
        if not query.follow:
            process.exit(0)
            return
        while True:
            await journal.wait(0.25)
            journal.advance()
            fresh = journal.after(last_index)
            if fresh:
                last_index = fresh[-1].index
                out = [_render(e, query.output) for e in fresh if query.wants(e)]
                if out:
                    process.stdout.write("\n".join(out) + "\n")
                    await process.stdout.drain()
            if process.channel.is_closing():
                return
    except (asyncssh.Error, BrokenPipeError, ConnectionError, OSError):
        return
