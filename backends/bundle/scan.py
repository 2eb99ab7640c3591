"""The secret scan every bundle passes before a byte of it is written.

A hit names the file, the line and the kind of secret, never the value: the message itself may end
up in a terminal scrollback or a CI log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backends.bundle.content import RECORDS
from backends.redact import Redactor


@dataclass(frozen=True)
class SecretHit:
    where: str  # "records.json record 12 (check.finished)", "report.md line 40"
    kind: str
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.where}: looks like a {self.kind} (fingerprint {self.fingerprint})"


def _records(redactor: Redactor, data: bytes) -> list[SecretHit]:
    # Name the record, not a line of the JSON: the record is what has to be fixed at its source.
    hits = []
    for record in json.loads(data):
        text = json.dumps(record["payload"], ensure_ascii=False)
        for finding in redactor.findings(text):
            where = f"{RECORDS} record {record['seq']} ({record['kind']})"
            hits.append(SecretHit(where, finding.kind, finding.fingerprint))
    return hits


def scan(files: Mapping[str, bytes], known_secrets: Iterable[str] = ()) -> list[SecretHit]:
    """Every hit, the evidence itself first, then the files derived from it."""
    redactor = Redactor(known_secrets)
    hits = _records(redactor, files[RECORDS]) if RECORDS in files else []
    for name, data in sorted(files.items()):
        if name == RECORDS:
            continue
        text = data.decode("utf-8", "replace")
        for finding in redactor.findings(text):
            line = text.count("\n", 0, finding.start) + 1
            hits.append(SecretHit(f"{name} line {line}", finding.kind, finding.fingerprint))
    return hits
