"""What the sandbox VPS answers: an Ubuntu 24.04 host after a codex-k8s bootstrap, as command output.

Each command the checks run is answered by a function of the host's facts; faults change facts,
never the command table, so a faulty host is still a consistent host. Files carry an owner and a
mode, and reads honour them for the login user, as on the real host (k3s's files are root's, 600).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from backends.envfile import parse_env
from backends.sandbox.envfile_template import apply_env_faults
from backends.sandbox.faults import FaultSet, register
from backends.sandbox.image_registry import ImageRegistry

register(
    "vps.registry-down",
    "vps",
    "the internal registry does not answer on 127.0.0.1:5000",
    ["host.registry"],
)
register(
    "vps.image-prune-off",
    "vps",
    "the kodex-image-prune timer is disabled and inactive",
    ["host.image-prune"],
)

GIB = 1024**3

ENV_FILE_PATH = "/opt/codex-k8s/bootstrap/host/config.env"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
REGISTRIES = "/etc/rancher/k3s/registries.yaml"
#: bootstrap/remote/25_configure_image_gc.sh: kubelet image GC thresholds and the host prune units
IMAGE_GC_CONF = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-kodex-image-gc.conf"
PRUNE_TIMER = "kodex-image-prune.timer"
PRUNE_SERVICE = "kodex-image-prune.service"
NFT_CONF = "/etc/nftables.conf"
PUBLIC_IP = "203.0.113.10"
GATEWAY = "203.0.113.1"
DEFAULT_DOMAINS = ("platform.gate.sandbox.test", "ai.gate.sandbox.test")
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

K3S_KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIy
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJYlVZ
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSU9zYW5kYm94
"""


def registries_yaml(registry: str) -> str:
    return (
        f'mirrors:\n  "{registry}":\n    endpoint:\n      - "http://{registry}"\n'
        f'configs:\n  "{registry}":\n    tls:\n      insecure_skip_verify: true\n'
    )


def nftables_conf(ssh_port: str) -> str:
    return f"""#!/usr/sbin/nft -f

table inet kodex_fw {{
  chain input {{
    type filter hook input priority -5; policy drop;
    ct state {{ established, related }} accept
    iifname "lo" accept
    iifname "cni0" accept
    iifname "flannel.1" accept
    udp sport 67 udp dport 68 accept
    ip protocol icmp accept
    ip6 nexthdr ipv6-icmp accept
    tcp dport {{ {ssh_port}, 80, 443 }} accept
  }}

  chain forward {{
    type filter hook forward priority -5; policy drop;
    ct state {{ established, related }} accept
    iifname "cni0" accept
    iifname "flannel.1" accept
  }}

  chain output {{
    type filter hook output priority -5; policy accept;
  }}
}}
"""


@dataclass
class VpsFile:
    content: str
    mode: str = "644"
    owner: str = "root"
    group: str = "root"

    def readable_by(self, user: str) -> bool:
        return user in {"root", self.owner} or int(self.mode[-1]) & 4 != 0


@dataclass
class VpsUser:
    uid: int
    home: str
    groups: list[str]
    shell: str = "/bin/bash"


@dataclass
class Cert:
    subject: str
    not_after: datetime


@dataclass
class VpsFacts:
    login_user: str = "codex"
    cpus: int = 8
    memory_bytes: int = 32 * GIB
    disk_total: dict[str, int] = field(default_factory=lambda: {"/": 200 * GIB})
    disk_free: dict[str, int] = field(default_factory=lambda: {"/": 150 * GIB})
    files: dict[str, VpsFile] = field(default_factory=dict)
    swaps: list[tuple[str, int]] = field(default_factory=list)  # (device, KiB)
    sysctls: dict[str, str] = field(default_factory=dict)  # /proc/sys path → value
    packages: set[str] = field(default_factory=lambda: set(PACKAGES))
    services: dict[str, str] = field(default_factory=dict)
    listeners: list[str] = field(default_factory=list)  # local address:port of TCP listeners
    ntp_synchronized: bool = True
    users: dict[str, VpsUser] = field(default_factory=dict)
    public_ip: str = PUBLIC_IP
    dns: dict[str, list[str]] = field(default_factory=dict)
    certs: dict[str, Cert] = field(default_factory=dict)
    #: units `systemctl enable`d (is-enabled says enabled)
    enabled: set[str] = field(default_factory=set)
    #: `systemctl show` properties per unit
    unit_props: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what the internal registry holds (shared with the simulated runtime deploy in a sandbox world)
    registry: ImageRegistry = field(default_factory=ImageRegistry.bootstrapped)
    registry_host: str = "127.0.0.1:5000"

    @property
    def os_release(self) -> str:
        return self.files["/etc/os-release"].content

    @classmethod
    def build(cls, faults: FaultSet, env_file_text: str = "", *, user: str = "codex") -> VpsFacts:
        facts = cls(login_user=user)
        env_file_text = apply_env_faults(env_file_text, faults) if env_file_text else ""
        env = parse_env(env_file_text, {"HOME": "/root"})
        ssh_port = env.get("KODEX_SSH_PORT") or "22"
        registry = env.get("KODEX_INTERNAL_REGISTRY_HOST") or "127.0.0.1:5000"
        domains = [env.get(k) for k in ("KODEX_PRODUCTION_DOMAIN", "KODEX_AI_DOMAIN") if env.get(k)]
        facts._healthy(ssh_port, registry, domains or list(DEFAULT_DOMAINS))
        if env_file_text:
            mode = "644" if faults.active("env.world-readable") else "600"
            facts.files[ENV_FILE_PATH] = VpsFile(env_file_text, mode, owner=user, group=user)
        facts._break(faults, domains or list(DEFAULT_DOMAINS))
        return facts

    def _healthy(self, ssh_port: str, registry: str, domains: list[str]) -> None:
        self.files["/etc/os-release"] = VpsFile(UBUNTU_2404)
        self.files["/proc/swaps"] = VpsFile("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", "444")
        self.files[KUBECONFIG] = VpsFile(K3S_KUBECONFIG, "600")
        self.files[REGISTRIES] = VpsFile(registries_yaml(registry), "600")
        self.files[NFT_CONF] = VpsFile(nftables_conf(ssh_port), "755")
        self.sysctls = {
            "/proc/sys/net/ipv4/ip_forward": "1",
            "/proc/sys/net/bridge/bridge-nf-call-iptables": "1",
            "/proc/sys/net/bridge/bridge-nf-call-ip6tables": "1",
        }
        self.services = {
            "k3s": "active",
            "nftables": "active",
            "iscsid": "active",
            "ssh": "active",
            PRUNE_TIMER: "active",
            PRUNE_SERVICE: "inactive",  # a oneshot: active only while it prunes
        }
        self.enabled = {"k3s.service", "nftables.service", "ssh.service", PRUNE_TIMER}
        self.registry_host = registry
        self.files[IMAGE_GC_CONF] = VpsFile(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
            "imageGCHighThresholdPercent: 35\nimageGCLowThresholdPercent: 30\n",
            "600",
        )
        last_run = datetime.now(UTC).replace(hour=4, minute=17, second=0, microsecond=0)
        if last_run > datetime.now(UTC):
            last_run -= timedelta(days=1)
        self.unit_props[PRUNE_SERVICE] = {
            "Result": "success",
            "ExecMainStatus": "0",
            "ExecMainExitTimestamp": f"{last_run:%a %Y-%m-%d %H:%M:%S} UTC",
        }
        self.unit_props[PRUNE_TIMER] = {
            "TimersCalendar": "{ OnCalendar=*-*-* 04:17:00 UTC ; next_elapse=n/a }",
            "LastTriggerUSec": f"{last_run:%a %Y-%m-%d %H:%M:%S} UTC",
        }
        self.listeners = [
            f"0.0.0.0:{ssh_port}",
            f"[::]:{ssh_port}",
            "0.0.0.0:80",
            "0.0.0.0:443",
            "127.0.0.53%lo:53",
            "127.0.0.1:5000",
            "127.0.0.1:10248",
            "127.0.0.1:10249",
            "127.0.0.1:6444",
            "*:6443",
            "*:10250",
        ]
        self.users = {
            "root": VpsUser(0, "/root", ["root"]),
            self.login_user: VpsUser(1000, f"/home/{self.login_user}", [self.login_user, "sudo", "users"]),
        }
        now = datetime.now(UTC)
        for domain in domains:
            self.dns[domain] = [self.public_ip]
            self.certs[domain] = Cert(f"CN = {domain}", now + timedelta(days=61))

    def set_authorized_key(self, public_key: str) -> None:
        """The operator's key, as bootstrap writes it (the sandbox's own client key)."""
        user = self.users.get(self.login_user)
        if user is not None and user.uid != 0:
            path = f"{user.home}/.ssh/authorized_keys"
            self.files[path] = VpsFile(
                public_key.rstrip("\n") + "\n", "600", self.login_user, self.login_user
            )

    def set_key_paths(self, root_key: str, operator_pubkey: str, faults: FaultSet) -> None:
        """Point the env file's key paths at the sandbox's own key files, which live on the operator's
        machine (this one), where the platform's preflight looks for them."""
        f = self.files.get(ENV_FILE_PATH)
        if f is None:
            return
        if faults.active("env.key-file-missing"):
            operator_pubkey += ".missing"
        for key, path in (("TARGET_ROOT_SSH_KEY", root_key), ("OPERATOR_SSH_PUBKEY_PATH", operator_pubkey)):
            pattern = re.compile(rf"^{key}=.*$", re.M)
            f.content = pattern.sub(f'{key}="{path}"'.replace("\\", "\\\\"), f.content)

    def _break(self, faults: FaultSet, domains: list[str]) -> None:
        if faults.active("vps.wrong-os"):
            self.files["/etc/os-release"] = VpsFile(DEBIAN_12)
        if faults.active("vps.low-cpu"):
            self.cpus = 1
        if faults.active("vps.low-memory"):
            self.memory_bytes = 2 * GIB
        if faults.active("vps.disk-full"):
            self.disk_free["/"] = 3 * GIB
        if faults.active("vps.swap-on"):
            self.swaps.append(("/swap.img", 4 * 1024 * 1024))
        if faults.active("vps.sysctl-missing"):  # br_netfilter not loaded: the bridge keys do not exist
            for key in [k for k in self.sysctls if "/bridge/" in k]:
                del self.sysctls[key]
        if faults.active("vps.package-missing"):
            self.packages.discard("jq")
        if faults.active("vps.k3s-inactive"):
            self.services["k3s"] = "inactive"
        if faults.active("vps.kubeconfig-mode"):
            self.files[KUBECONFIG].mode = "644"
        if faults.active("vps.registry-mirror-missing"):
            del self.files[REGISTRIES]
        if faults.active("vps.firewall-off"):
            self.services["nftables"] = "inactive"
            del self.files[NFT_CONF]
        if faults.active("vps.extra-port"):
            self.listeners.append("0.0.0.0:5432")
        if faults.active("vps.clock-unsynced"):
            self.ntp_synchronized = False
        if faults.active("vps.operator-no-sudo"):
            user = self.users[self.login_user]
            user.groups = [g for g in user.groups if g != "sudo"]
        if faults.active("vps.dns-mismatch") and len(domains) > 1:
            self.dns[domains[1]] = ["198.51.100.23"]
        if faults.active("vps.cert-expiring"):
            for cert in self.certs.values():
                cert.not_after = datetime.now(UTC) + timedelta(days=3)
        if faults.active("vps.registry-down"):
            self.registry.down = True
        if faults.active("vps.image-prune-off"):
            self.enabled.discard(PRUNE_TIMER)
            self.services[PRUNE_TIMER] = "inactive"


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


def _no_such(tool: str, path: str) -> Reply:
    return Reply(stderr=f"{tool}: {path}: No such file or directory\n", status=1)


@command(r"nproc")
def _nproc(facts: VpsFacts, argv: list[str]) -> Reply:
    return Reply(f"{facts.cpus}\n")


@command(r"cat /proc/meminfo")
def _meminfo(facts: VpsFacts, argv: list[str]) -> Reply:
    total_kb = facts.memory_bytes // 1024
    swap_kb = sum(size for _, size in facts.swaps)
    return Reply(
        f"MemTotal:       {total_kb} kB\nMemFree:        {total_kb // 2} kB\n"
        f"MemAvailable:   {total_kb * 3 // 4} kB\n"
        f"SwapTotal:       {swap_kb} kB\nSwapFree:        {swap_kb} kB\n"
    )


@command(r"cat /proc/swaps")
def _swaps(facts: VpsFacts, argv: list[str]) -> Reply:
    lines = [f"{dev:<40}file\t\t{size}\t\t0\t\t-2\n" for dev, size in facts.swaps]
    return Reply(facts.files["/proc/swaps"].content + "".join(lines))


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
    f = facts.files.get(path)
    if f is None:
        return _no_such("cat", path)
    if not f.readable_by(facts.login_user):
        return Reply(stderr=f"cat: {path}: Permission denied\n", status=1)
    return Reply(f.content)


@command(r"sudo -n cat \S+")
def _sudo_cat(facts: VpsFacts, argv: list[str]) -> Reply:
    """What the operator may read as root: only with sudo rights (bootstrap puts them in sudo)."""
    user = facts.users.get(facts.login_user)
    if user is None or "sudo" not in user.groups:
        return Reply(stderr="sudo: a password is required\n", status=1)
    f = facts.files.get(argv[-1])
    return Reply(f.content) if f is not None else _no_such("cat", argv[-1])


@command(r"stat -c %a \S+")
def _stat_mode(facts: VpsFacts, argv: list[str]) -> Reply:
    path = argv[-1]
    if path in facts.files:
        return Reply(facts.files[path].mode + "\n")
    return Reply(stderr=f"stat: cannot statx '{path}': No such file or directory\n", status=1)


@command(r"stat -c '%a %U:%G' \S+")
def _stat_owner(facts: VpsFacts, argv: list[str]) -> Reply:
    path = argv[-1]
    f = facts.files.get(path)
    if f is None:
        return Reply(stderr=f"stat: cannot statx '{path}': No such file or directory\n", status=1)
    return Reply(f"{f.mode} {f.owner}:{f.group}\n")


@command(r"grep -H \. [\S ]+")
def _grep_values(facts: VpsFacts, argv: list[str]) -> Reply:
    out, err = [], []
    for path in argv[3:]:
        if path in facts.sysctls:
            out.append(f"{path}:{facts.sysctls[path]}\n")
        else:
            err.append(f"grep: {path}: No such file or directory\n")
    return Reply("".join(out), "".join(err), 2 if err else 0)


@command(r"dpkg-query -W -f=[\S ]+")
def _dpkg_query(facts: VpsFacts, argv: list[str]) -> Reply:
    out, err = [], []
    for pkg in argv[3:]:
        if pkg in facts.packages:
            out.append(f"{pkg} install ok installed\n")
        else:
            err.append(f"dpkg-query: no packages found matching {pkg}\n")
    return Reply("".join(out), "".join(err), 1 if err else 0)


@command(r"systemctl is-active [\w.@-]+")
def _is_active(facts: VpsFacts, argv: list[str]) -> Reply:
    unit = argv[-1]
    state = facts.services.get(unit, facts.services.get(unit.removesuffix(".service"), "inactive"))
    return Reply(f"{state}\n", status=0 if state == "active" else 3)


@command(r"systemctl is-enabled [\w.@-]+")
def _is_enabled(facts: VpsFacts, argv: list[str]) -> Reply:
    unit = argv[-1] if "." in argv[-1] else f"{argv[-1]}.service"
    known = (
        unit in facts.enabled or unit in facts.unit_props or unit.removesuffix(".service") in facts.services
    )
    if not known:
        return Reply(
            stderr=f"Failed to get unit file state for {unit}: No such file or directory\n", status=1
        )
    state = "enabled" if unit in facts.enabled else "disabled"
    return Reply(f"{state}\n", status=0 if state == "enabled" else 1)


@command(r"systemctl show (-p [A-Za-z]+ )+[\w.@-]+")
def _systemctl_show(facts: VpsFacts, argv: list[str]) -> Reply:
    unit = argv[-1]
    props = facts.unit_props.get(unit, {})
    wanted = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-p"]
    return Reply("".join(f"{key}={props.get(key, '')}\n" for key in wanted))


@command(r"curl -fsS --max-time \d+ http://[\w.:-]+/v2/[\w./-]*")
def _curl_registry(facts: VpsFacts, argv: list[str]) -> Reply:
    """The internal registry's v2 API on its hostPort (deploy/base/registry/registry.yaml.tpl)."""
    url = argv[-1]
    host, _, path = url.removeprefix("http://").partition("/")
    address, _, port = host.rpartition(":")
    if host != facts.registry_host or facts.registry.down:
        refused = f"curl: (7) Failed to connect to {address} port {port}: Connection refused\n"
        return Reply(stderr=refused, status=7)
    if path == "v2/_catalog":
        return Reply(facts.registry.catalog_json())
    if path.startswith("v2/") and path.endswith("/tags/list"):
        status, body = facts.registry.tags_json(path.removeprefix("v2/").removesuffix("/tags/list"))
        if status != 200:
            return Reply(stderr=f"curl: (22) The requested URL returned error: {status}\n", status=22)
        return Reply(body)
    return Reply(stderr="curl: (22) The requested URL returned error: 404\n", status=22)


@command(r"ss -Htln")
def _ss(facts: VpsFacts, argv: list[str]) -> Reply:
    peer = {True: "[::]:*", False: "0.0.0.0:*"}
    lines = [f"LISTEN 0      4096   {addr:<24} {peer[addr.startswith('[')]}\n" for addr in facts.listeners]
    return Reply("".join(lines))


@command(r"timedatectl show -p NTPSynchronized")
def _timedatectl(facts: VpsFacts, argv: list[str]) -> Reply:
    return Reply(f"NTPSynchronized={'yes' if facts.ntp_synchronized else 'no'}\n")


@command(r"getent passwd [\w.-]+")
def _getent_passwd(facts: VpsFacts, argv: list[str]) -> Reply:
    name = argv[-1]
    user = facts.users.get(name)
    if user is None:
        return Reply(status=2)
    return Reply(f"{name}:x:{user.uid}:{user.uid}::{user.home}:{user.shell}\n")


@command(r"id -nG [\w.-]+")
def _id_groups(facts: VpsFacts, argv: list[str]) -> Reply:
    name = argv[-1]
    user = facts.users.get(name)
    if user is None:
        return Reply(stderr=f"id: '{name}': no such user\n", status=1)
    return Reply(" ".join(user.groups) + "\n")


@command(r"ip -4 route get [\d.]+")
def _route_get(facts: VpsFacts, argv: list[str]) -> Reply:
    return Reply(f"{argv[-1]} via {GATEWAY} dev eth0 src {facts.public_ip} uid 1000 \n    cache \n")


@command(r"getent ahostsv4 [\w.-]+")
def _getent_hosts(facts: VpsFacts, argv: list[str]) -> Reply:
    addresses = facts.dns.get(argv[-1])
    if not addresses:
        return Reply(status=2)
    lines = []
    for addr in addresses:
        lines += [f"{addr}      STREAM {argv[-1]}\n", f"{addr}      DGRAM  \n", f"{addr}      RAW    \n"]
    return Reply("".join(lines))


@command(
    r"timeout \d+ openssl s_client -connect [\w.-]+:443 -servername [\w.-]+ -verify_hostname [\w.-]+ "
    r"-verify_return_error </dev/null \| openssl x509 -noout -enddate -subject"
)
def _tls(facts: VpsFacts, argv: list[str]) -> Reply:
    domain = argv[argv.index("-servername") + 1]
    cert = facts.certs.get(domain)
    if domain not in facts.dns:
        return Reply(
            stderr=f"{domain}:443: Name or service not known\nconnect:errno=2\nCould not find certificate\n",
            status=1,
        )
    if cert is None:
        return Reply(stderr="connect:errno=111\nCould not find certificate\n", status=1)
    when = cert.not_after
    not_after = f"{when:%b} {when.day:2d} {when:%H:%M:%S %Y} GMT"
    chatter = (
        "depth=2 C = US, O = Internet Security Research Group, CN = ISRG Root X1\nverify return:1\n"
        "depth=1 C = US, O = Let's Encrypt, CN = R11\nverify return:1\n"
        f"depth=0 {cert.subject}\nverify return:1\nDONE\n"
    )
    return Reply(f"notAfter={not_after}\nsubject={cert.subject}\n", chatter)
