"""A kubeconfig held in memory (k3s.yaml read over SSH): its context turned into an API client
without a byte of it reaching a disk, and the client certificate's expiry for naming a refusal."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from cryptography import x509
from kubernetes_asyncio import client

from backends.pem_memory import pem_paths


class KubeconfigProblem(ValueError):
    """What is wrong with the kubeconfig, in one line that quotes none of it."""


@dataclass(frozen=True)
class Credentials:
    context: str
    server: str
    ca: bytes | None
    cert: bytes | None
    key: bytes | None
    token: str | None
    tls_server_name: str | None = None

    def secrets(self) -> list[str]:
        """Everything here that must never be shown, in the forms it could appear."""
        out = [self.token or ""]
        if self.key:
            out.append(self.key.decode("ascii", "replace"))
            out.append(base64.b64encode(self.key).decode())
        return [s for s in out if s]


def _data(entry: dict[str, Any], key: str) -> bytes | None:
    value = entry.get(f"{key}-data")
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise KubeconfigProblem(f"{key}-data is not base64") from None


def _named(items: Any, name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return dict(item.get(what) or {})
    raise KubeconfigProblem(f"no {what} named {name!r}")


def parse(text: str, context: str | None) -> Credentials:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise KubeconfigProblem("not valid YAML") from None
    if not isinstance(doc, dict):
        raise KubeconfigProblem("not a kubeconfig")
    name = context or str(doc.get("current-context") or "")
    if not name:
        raise KubeconfigProblem("no current-context")
    ctx = _named(doc.get("contexts"), name, "context")
    cluster = _named(doc.get("clusters"), str(ctx.get("cluster", "")), "cluster")
    user = _named(doc.get("users"), str(ctx.get("user", "")), "user")
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        raise KubeconfigProblem(f"cluster server {server!r} is not https://")
    return Credentials(
        name,
        server,
        _data(cluster, "certificate-authority"),
        _data(user, "client-certificate"),
        _data(user, "client-key"),
        str(user["token"]) if user.get("token") else None,
        cluster.get("tls-server-name"),
    )


def destination(server: str) -> tuple[str, int]:
    parts = urlsplit(server)
    return parts.hostname or "127.0.0.1", parts.port or 443


def api_client(creds: Credentials, host: str) -> client.ApiClient:
    """An API client for `host` (the forward) with these credentials; the PEMs stay in memory."""
    cfg = client.Configuration()
    cfg.host = host
    if creds.token:
        cfg.api_key = {"BearerToken": creds.token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
    server_name = destination(creds.server)[0]
    cfg.tls_server_name = creds.tls_server_name or (None if _is_ip(server_name) else server_name)
    blobs = [b for b in (creds.ca, creds.cert, creds.key) if b]
    with pem_paths(*blobs) as paths:
        it = iter(paths)
        cfg.ssl_ca_cert = next(it) if creds.ca else None
        if creds.cert and creds.key:
            cfg.cert_file, cfg.key_file = next(it), next(it)
        api = client.ApiClient(configuration=cfg)
    # the TLS context has read them; the paths die with the descriptors
    cfg.ssl_ca_cert = cfg.cert_file = cfg.key_file = None
    return api


def _is_ip(name: str) -> bool:
    return name.replace(".", "").isdigit() or ":" in name


def certificate_expiry(pem: bytes | None) -> dt.datetime | None:
    if not pem:
        return None
    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc
    except ValueError:
        return None


def kubeconfig_client_cert(path_text: str, context: str | None) -> bytes | None:
    """The client certificate of a kubeconfig file's context (data inline or a file it names)."""
    try:
        doc = yaml.safe_load(path_text)
        name = context or str(doc.get("current-context") or "")
        ctx = _named(doc.get("contexts"), name, "context")
        user = _named(doc.get("users"), str(ctx.get("user", "")), "user")
        if user.get("client-certificate-data"):
            return base64.b64decode(user["client-certificate-data"])
        if user.get("client-certificate"):
            with open(user["client-certificate"], "rb") as f:
                return f.read()
    except (yaml.YAMLError, KubeconfigProblem, AttributeError, OSError, ValueError):
        return None
    return None
