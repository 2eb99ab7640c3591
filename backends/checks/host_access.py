"""The operator user as bootstrap/remote/10_create_operator_user.sh leaves it: exists, in sudo, keyed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shlex
from pathlib import Path

from backends.checks.hostenv import host_env
from backends.checks.hostrun import command_failed, evidence, first_line, run
from backends.checks.registry import CheckContext, Outcome, Scope, check, failed, passed


def fingerprint(line: str) -> str | None:
    """OpenSSH's SHA256 fingerprint of an authorized_keys / .pub line, or None if it has no key."""
    for i, field in enumerate(fields := line.split()):
        if field.startswith(("ssh-", "ecdsa-", "sk-")) and i + 1 < len(fields):
            try:
                blob = base64.b64decode(fields[i + 1], validate=True)
            except (binascii.Error, ValueError):
                return None
            digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
            return f"SHA256:{digest}"
    return None


def key_fingerprints(text: str) -> list[str]:
    keys = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and (fp := fingerprint(line)):
            keys.append(fp)
    return keys


def _local_pubkey(path: str) -> list[str]:
    """The operator's public key from this machine, when the env file names one we can read."""
    if not path or "$" in path:
        return []
    try:
        return key_fingerprints(Path(os.path.expanduser(path)).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []


@check("host.operator", area="host", title="Operator user, key and sudo", scope=Scope.HOST)
async def operator_user(ctx: CheckContext) -> Outcome:
    env = await host_env(ctx)
    user = env.get("OPERATOR_USER")
    expected = f"{user} exists, in sudo, authorized_keys 600 with its key"
    q = shlex.quote(user)
    passwd = await run(ctx, f"getent passwd {q}")
    if passwd.exit_status == 2:
        return failed(f"user {user} does not exist", "no such user", expected, **evidence(passwd))
    if not passwd.ok:
        return command_failed(passwd)
    fields = first_line(passwd.stdout).split(":")
    home = fields[5] if len(fields) > 5 else f"/home/{user}"
    groups = await run(ctx, f"id -nG {q}")
    keys_path = shlex.quote(f"{home}/.ssh/authorized_keys")
    meta = await run(ctx, f"stat -c '%a %U:%G' {keys_path}")
    content = await run(ctx, f"cat {keys_path}")
    problems, observed = [], [user]
    group_list = groups.stdout.split() if groups.ok else []
    if "sudo" in group_list:
        observed.append("sudo")
    else:
        problems.append(f"{user} is not in the sudo group (groups: {' '.join(group_list) or '?'})")
    if not meta.ok:
        problems.append(f"{home}/.ssh/authorized_keys is missing")
    else:
        mode, _, owner = first_line(meta.stdout).partition(" ")
        observed.append(f"authorized_keys {mode} {owner}")
        if mode != "600" or owner.partition(":")[0] != user:
            problems.append(f"authorized_keys is {mode} {owner}, bootstrap sets 600 {user}:{user}")
    keys = key_fingerprints(content.stdout) if content.ok else []
    if content.ok:
        observed.append(f"{len(keys)} key{'s' if len(keys) != 1 else ''}")
        if not keys:
            problems.append("authorized_keys holds no key")
        wanted = _local_pubkey(env.get("OPERATOR_SSH_PUBKEY_PATH")) if env.local else []
        if wanted and not set(wanted) & set(keys):
            problems.append(f"the key in OPERATOR_SSH_PUBKEY_PATH ({wanted[0]}) is not authorized")
    ev = evidence(passwd, groups, meta)
    # public keys are not secret, but the evidence keeps fingerprints: shorter, and enough to compare
    ev["command"] += f"; {content.command}"
    ev["output"] += (
        f"$ {content.command}\n" + ("\n".join(keys) if content.ok else first_line(content.stderr)) + "\n"
    )
    if problems:
        return failed("; ".join(problems), ", ".join(observed), expected, **ev)
    return passed(", ".join(observed), expected, **ev)
