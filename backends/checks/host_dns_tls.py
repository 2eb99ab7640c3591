"""The public face: the production and AI domains resolve to this host, and serve a valid certificate.

Both are looked at from the host itself (its resolver, its view of port 443), since that is what
cert-manager's HTTP-01 challenge and the platform's own callbacks depend on.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from datetime import UTC, datetime
from urllib.parse import urlsplit

from backends.checks.hostenv import NO_ENV, host_env
from backends.checks.hostrun import evidence, first_line, run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed
from backends.host import CommandResult
from backends.results import Status

DOMAIN_KEYS = ("KODEX_PRODUCTION_DOMAIN", "KODEX_AI_DOMAIN")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]+$")


def route_source(stdout: str) -> str | None:
    """The `src` address of `ip -4 route get` output: the address the host leaves the internet by."""
    m = re.search(r"\bsrc\s+(\d+\.\d+\.\d+\.\d+)", stdout)
    return m.group(1) if m else None


def resolved(stdout: str) -> list[str]:
    """Distinct IPv4 addresses of `getent ahostsv4` output, in order."""
    seen: list[str] = []
    for line in stdout.splitlines():
        addr = line.split()[0] if line.split() else ""
        if addr and addr not in seen:
            seen.append(addr)
    return seen


def _is_ipv4(value: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(value), ipaddress.IPv4Address)
    except ValueError:
        return False


@check("host.dns", area="host", title="Domains resolve to the host", scope=Scope.HOST)
async def dns(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    if not env:
        return Outcome(Status.SKIP, reason=NO_ENV)
    domains = [(k, env.get(k)) for k in DOMAIN_KEYS]
    route = await run(ctx, "ip -4 route get 1.1.1.1")
    mine = {a for a in (route_source(route.stdout), env.get("TARGET_HOST")) if a and _is_ipv4(a)}
    results: list[CommandResult] = [route]
    observed, problems = [], []
    for key, domain in domains:
        if not domain or not _HOSTNAME.match(domain):
            problems.append(f"{key} is {'empty' if not domain else 'not a host name'}")
            continue
        res = await run(ctx, f"getent ahostsv4 {shlex.quote(domain)}")
        results.append(res)
        addrs = resolved(res.stdout) if res.ok else []
        observed.append(f"{domain} → {', '.join(addrs) or 'nothing'}")
        if not addrs:
            problems.append(f"{domain} does not resolve on the host")
        elif not set(addrs) & mine:
            problems.append(f"{domain} resolves to {', '.join(addrs)}, not to this host")
    expected = "→ " + (", ".join(sorted(mine)) or "the host's public address")
    if not mine:
        problems.append("cannot tell the host's public address (no route src, TARGET_HOST not an IP)")
    if problems:
        return failed("; ".join(problems), "; ".join(observed), expected, **evidence(*results))
    return passed("; ".join(observed), expected, **evidence(*results))


def tls_command(domain: str) -> str:
    d = shlex.quote(domain)
    return (
        f"timeout 10 openssl s_client -connect {d}:443 -servername {d} -verify_hostname {d} "
        "-verify_return_error </dev/null | openssl x509 -noout -enddate -subject"
    )


def parse_not_after(stdout: str) -> datetime | None:
    m = re.search(r"^notAfter=(.+?)\s*$", stdout, re.M)
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.group(1).split()), "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
    except ValueError:
        return None


_TLS_REASONS = (
    ("Name or service not known", "the name does not resolve on the host"),
    ("Connection refused", "connection refused"),
    ("Connection timed out", "connection timed out"),
    ("No route to host", "no route to host"),
)


def tls_error(stderr: str, exit_status: int) -> str:
    """Why s_client produced no verified certificate, in a few words (OpenSSL's lines are long)."""
    m = re.search(r"verify error:num=\d+:(.+)", stderr)
    if m:
        return f"verification failed: {m.group(1).strip()}"
    for needle, reason in _TLS_REASONS:
        if needle in stderr:
            return reason
    if exit_status == 124:
        return "no TLS answer within 10s"
    line = first_line(stderr) or "no certificate"
    return line if len(line) <= 120 else line[:117] + "..."


def public_host(env_url: str, fallback: str) -> str:
    host = urlsplit(env_url).hostname if "://" in env_url else None
    return host or fallback


@check("host.tls", area="host", title="TLS certificate", scope=Scope.HOST)
async def tls(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    if not env:
        return Outcome(Status.SKIP, reason=NO_ENV)
    domain = public_host(env.get("KODEX_PUBLIC_BASE_URL"), env.get("KODEX_PRODUCTION_DOMAIN"))
    min_days = ctx.settings.thresholds.cert_min_days
    expected = f"verified for {domain or '?'}, > {min_days} days left"
    if not domain or not _HOSTNAME.match(domain):
        return failed("no public host name in KODEX_PUBLIC_BASE_URL / KODEX_PRODUCTION_DOMAIN", "", expected)
    res = await run(ctx, tls_command(domain))
    not_after = parse_not_after(res.stdout)
    if not_after is None:
        return failed(
            f"no verified certificate from {domain}:443: {tls_error(res.stderr, res.exit_status)}",
            "no certificate",
            expected,
            **evidence(res),
        )
    days = (not_after - datetime.now(UTC)).total_seconds() / 86400
    observed = f"expires {not_after:%Y-%m-%d} ({days:.0f} days)"
    if days < 0:
        return failed(
            f"certificate for {domain} expired on {not_after:%Y-%m-%d}", observed, expected, **evidence(res)
        )
    if days <= min_days:
        return failed(
            f"certificate for {domain} expires in {days:.0f} days (threshold {min_days})",
            observed,
            expected,
            **evidence(res),
        )
    return passed(observed, expected, **evidence(res))
