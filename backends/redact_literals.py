"""The forms a known secret value takes when a program prints it: as is, percent-encoded in a URL,
escaped in JSON, and inside base64 (a Basic auth header, a docker config's `auth`, a Secret's `data`,
a kubeconfig's `*-data`).

Base64 of a longer text holding the value (`user:value`, a JSON document) contains the value's own
encoding at one of three alignments; for each, the characters that depend on the value's bytes alone
are a fixed string (the "core"). Any base64 text that wraps the value contains one of the three cores,
in the standard or the URL-safe alphabet. Only values long enough for a core that cannot occur by
chance get base64 forms.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

#: a value shorter than this gets no base64 forms (its cores would be too short to be specific)
MIN_BASE64_VALUE = 12


def base64_cores(value: bytes) -> list[str]:
    """The three alignment cores of `value` inside any base64 text (standard alphabet)."""
    cores = []
    bits = 8 * len(value)
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + value + b"\0\0").decode("ascii")
        # character i holds bits [6i, 6i+6) of the stream; keep those entirely inside the value
        first = -(-8 * pad // 6)
        last = (8 * pad + bits) // 6  # exclusive
        cores.append(encoded[first:last])
    return cores


def forms(value: str) -> list[str]:
    """Every form of a known secret to look for, the value itself first; no duplicates."""
    out = [value]
    for form in (quote(value, safe=""), json.dumps(value)[1:-1]):
        if form not in out:
            out.append(form)
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) >= MIN_BASE64_VALUE:
        for core in base64_cores(raw):
            for form in (core, core.replace("+", "-").replace("/", "_")):
                if form not in out:
                    out.append(form)
    return out
