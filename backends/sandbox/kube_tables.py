"""Server-side printing: a list answered as a `meta.k8s.io` Table when the client asks for one
(`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which is how `kubectl get` prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, str, Callable[[Obj], Any]]


def wants_table(accept: str) -> bool:
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


def _age(obj: Obj) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    seconds = max(0, int((dt.datetime.now(dt.UTC) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ready(pod: Obj) -> str:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(pod['spec'].get('containers', []))}"


def _restarts(pod: Obj) -> int:
    return sum(int(s.get("restartCount", 0)) for s in pod.get("status", {}).get("containerStatuses") or [])


_NAME: Column = ("Name", "name", lambda o: o["metadata"]["name"])
_AGE: Column = ("Age", "", _age)
COLUMNS: dict[str, list[Column]] = {
    "namespaces": [_NAME, ("Status", "", lambda o: o.get("status", {}).get("phase", "")), _AGE],
    "pods": [
        _NAME,
        ("Ready", "", _ready),
        ("Status", "", lambda o: o.get("status", {}).get("phase", "")),
        ("Restarts", "", _restarts),
        _AGE,
    ],
}


def table(plural: str, items: list[Obj], resource_version: str) -> Obj:
    columns = COLUMNS.get(plural, [_NAME, _AGE])
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": name,
                "type": "integer" if name == "Restarts" else "string",
                "format": fmt,
                "description": "",
                "priority": 0,
            }
            for name, fmt, _ in columns
        ],
        "rows": [
            {
                "cells": [cell(obj) for _, _, cell in columns],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                },
            }
            for obj in items
        ],
    }
