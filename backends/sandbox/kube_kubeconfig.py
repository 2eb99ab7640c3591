"""Kubeconfigs as k3s writes them: the server's CA and a client certificate, base64 in the file.

The sandbox's own kubeconfig adds a second user and context (`<context>-token`) that authenticates
with a bearer token, the way the agents' service accounts do.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from backends.sandbox.kube_pki import Pem


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(
    server: str, ca_pem: bytes, client: Pem, *, name: str = "default", token: str | None = None
) -> str:
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "clusters": [
            {"cluster": {"certificate-authority-data": _b64(ca_pem), "server": server}, "name": name}
        ],
        "contexts": [{"context": {"cluster": name, "user": name}, "name": name}],
        "current-context": name,
        "kind": "Config",
        "preferences": {},
        "users": [
            {
                "name": name,
                "user": {"client-certificate-data": _b64(client.cert), "client-key-data": _b64(client.key)},
            }
        ],
    }
    if token is not None:
        token_name = f"{name}-token"
        config["contexts"].append({"context": {"cluster": name, "user": token_name}, "name": token_name})
        config["users"].append({"name": token_name, "user": {"token": token}})
    return yaml.safe_dump(config, sort_keys=False)
