"""OpenSSH signatures (PROTOCOL.sshsig): what `ssh-keygen -Y sign` writes and `-Y verify` checks.

The owner's decision and the exported manifest are signed this way, so anyone can check them with
the stock OpenSSH tool and an allowed_signers file, without Gate Room. Keys come from a private key
file or from an SSH agent (the owner's own, forwarded over `ssh -A` when deciding on `gateroom
serve`); the agent signs, the private key never leaves it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh.packet import PacketDecodeError, SSHPacket, String, UInt32
from asyncssh.public_key import decode_ssh_public_key

from backends.errors import GateError

MAGIC = b"SSHSIG"
VERSION = 1
HASH_ALG = "sha512"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
DECISION_NAMESPACE = "gateroom-decision"
MANIFEST_NAMESPACE = "gateroom-manifest"
#: RSA keys sign with SHA-512 (ssh-keygen refuses ssh-rsa SHA-1 signatures)
_SIG_ALG = {b"ssh-rsa": b"rsa-sha2-512"}


class SignatureError(GateError):
    """A signature that cannot be made or does not verify (one line: which and why)."""


class AllowedSignersError(GateError):
    """An allowed_signers file that cannot be used (names the file and line)."""


def _hash(message: bytes, alg: str) -> bytes:
    if alg == "sha512":
        return hashlib.sha512(message).digest()
    if alg == "sha256":
        return hashlib.sha256(message).digest()
    raise SignatureError(f"unsupported signature hash {alg!r}")


def signed_data(namespace: str, message: bytes, alg: str = HASH_ALG) -> bytes:
    return MAGIC + String(namespace) + String(b"") + String(alg) + String(_hash(message, alg))


def armor(public_blob: bytes, namespace: str, signature: bytes, alg: str = HASH_ALG) -> str:
    blob = MAGIC + UInt32(VERSION) + String(public_blob) + String(namespace) + String(b"")
    blob += String(alg) + String(signature)
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def _sig_alg(public_blob: bytes) -> bytes:
    keytype = SSHPacket(public_blob).get_string()
    return _SIG_ALG.get(keytype, keytype)


def sign_with_key(key: asyncssh.SSHKey, namespace: str, message: bytes) -> str:
    """Sign with a private key held in this process (`gateroom sign --key FILE`)."""
    blob = key.public_data
    return armor(blob, namespace, key.sign(signed_data(namespace, message), _sig_alg(blob)))


def load_private_key(path: Path, passphrase: str | None = None) -> asyncssh.SSHKey:
    try:
        return asyncssh.read_private_key(str(path), passphrase)
    except (OSError, ValueError, asyncssh.KeyImportError) as exc:
        raise SignatureError(f"{path}: cannot read the private key ({exc})") from exc


async def sign_with_agent(
    agent_path: str | None, namespace: str, message: bytes, want: str | None = None
) -> tuple[str, str]:
    """Sign through an SSH agent; returns (armored signature, key fingerprint).

    `want` is the SHA256 fingerprint of the key that must sign (the key the owner logged in with);
    without it the agent's first key signs.
    """
    if not agent_path:
        raise SignatureError(
            "no SSH agent: connect with `ssh -A` so the decision can be signed with your key"
        )
    try:
        agent = await asyncssh.connect_agent(agent_path)
    except (OSError, asyncssh.Error) as exc:
        raise SignatureError(f"cannot reach the SSH agent ({exc})") from exc
    if agent is None:
        raise SignatureError("cannot reach the SSH agent")
    try:
        keys = await agent.get_keys()
        chosen = None
        for pair in keys:
            fp = decode_ssh_public_key(pair.public_data).get_fingerprint("sha256")
            if want is None or fp == want:
                chosen = (pair, fp)
                break
        if chosen is None:
            raise SignatureError(f"the SSH agent does not hold the key {want or '(any)'}")
        pair, fp = chosen
        alg = _sig_alg(pair.public_data)
        if alg != pair.algorithm:
            pair.set_sig_algorithm(alg)
        sig = await pair.sign_async(signed_data(namespace, message))  # type: ignore[attr-defined]
        return armor(pair.public_data, namespace, sig), fp
    except asyncssh.Error as exc:
        raise SignatureError(f"the SSH agent refused to sign ({exc})") from exc
    finally:
        agent.close()


@dataclass(frozen=True)
class Verified:
    key: asyncssh.SSHKey
    fingerprint: str
    namespace: str


def verify(armored: str, namespace: str, message: bytes) -> Verified:
    """Check an armored signature over `message`; says which key made it. Trust is the caller's."""
    text = armored.strip()
    if not text.startswith(BEGIN) or not text.endswith(END):
        raise SignatureError("not an SSH signature (no BEGIN/END SSH SIGNATURE armor)")
    try:
        blob = base64.b64decode("".join(text[len(BEGIN) : -len(END)].split()), validate=True)
    except ValueError as exc:
        raise SignatureError("SSH signature: bad base64") from exc
    if not blob.startswith(MAGIC):
        raise SignatureError("SSH signature: bad magic")
    try:
        pkt = SSHPacket(blob[len(MAGIC) :])
        version = pkt.get_uint32()
        public_blob = pkt.get_string()
        ns = pkt.get_string().decode()
        pkt.get_string()  # reserved
        alg = pkt.get_string().decode()
        signature = pkt.get_string()
        pkt.check_end()
    except (PacketDecodeError, UnicodeDecodeError) as exc:
        raise SignatureError(f"SSH signature: malformed ({exc})") from exc
    if version != VERSION:
        raise SignatureError(f"SSH signature: version {version}, expected {VERSION}")
    if ns != namespace:
        raise SignatureError(f"SSH signature for namespace {ns!r}, expected {namespace!r}")
    try:
        key = decode_ssh_public_key(public_blob)
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise SignatureError(f"SSH signature: unreadable public key ({exc})") from exc
    fp = str(key.get_fingerprint("sha256"))
    if SSHPacket(signature).get_string() == b"ssh-rsa":
        raise SignatureError(f"SSH signature by {fp}: ssh-rsa (SHA-1) signatures are not accepted")
    if not key.verify(signed_data(ns, message, alg), signature):
        raise SignatureError(f"SSH signature by {fp}: does not match the signed statement")
    return Verified(key, fp, ns)


@dataclass(frozen=True)
class AllowedSigner:
    principals: tuple[str, ...]
    key: asyncssh.SSHKey
    namespaces: tuple[str, ...] | None  # None: any namespace

    @property
    def fingerprint(self) -> str:
        return str(self.key.get_fingerprint("sha256"))


def _fields(line: str) -> list[str]:
    """Whitespace-separated fields; quotes (kept) protect spaces, as in `namespaces="a,b"`."""
    out, cur, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if quoted:
        raise ValueError("unterminated quote")
    return [*out, cur] if cur else out


def _split_options(text: str) -> list[str]:
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if quoted:
        raise ValueError("unterminated quote in options")
    return [*out, cur]


def parse_allowed_signers(path: Path) -> list[AllowedSigner]:
    """OpenSSH's allowed_signers: `principals [options] keytype base64 [comment]` per line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AllowedSignersError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from exc
    signers = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path} line {lineno}"
        try:
            fields = _fields(line)
        except ValueError as exc:
            raise AllowedSignersError(f"{where}: {exc}") from exc
        if len(fields) < 3:
            raise AllowedSignersError(f"{where}: expected `principals [options] keytype key`")
        principals, rest = tuple(fields[0].strip('"').split(",")), fields[1:]
        namespaces: tuple[str, ...] | None = None
        if not rest[0].startswith(("ssh-", "ecdsa-", "sk-")):
            try:
                options = _split_options(rest[0])
            except ValueError as exc:
                raise AllowedSignersError(f"{where}: {exc}") from exc
            for opt in options:
                name, _, value = opt.partition("=")
                if name.lower() == "namespaces":
                    namespaces = tuple(v.strip() for v in value.strip('"').split(","))
                elif name.lower() in {"valid-after", "valid-before"}:
                    continue
                else:
                    raise AllowedSignersError(f"{where}: option {name!r} is not supported")
            rest = rest[1:]
        if len(rest) < 2:
            raise AllowedSignersError(f"{where}: expected a key type and a key after the principals")
        try:
            key = asyncssh.import_public_key(f"{rest[0]} {rest[1]}")
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise AllowedSignersError(f"{where}: not a public key ({exc})") from exc
        signers.append(AllowedSigner(principals, key, namespaces))
    if not signers:
        raise AllowedSignersError(f"{path}: no signers listed")
    return signers


def allowed(signers: list[AllowedSigner], verified: Verified) -> AllowedSigner | None:
    for signer in signers:
        if signer.key.public_data == verified.key.public_data and (
            signer.namespaces is None or verified.namespace in signer.namespaces
        ):
            return signer
    return None
