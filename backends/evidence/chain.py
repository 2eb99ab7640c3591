"""The SHA-256 chain over evidence records: hashing and verification, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
CHAINED_FIELDS = ("seq", "ts", "kind", "payload", "prev_hash")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: record[k] for k in CHAINED_FIELDS})).hexdigest()


def link(seq: int, ts: float, kind: str, payload: Any, prev_hash: str) -> dict[str, Any]:
    # hash what the store will hold: JSON turns int keys and tuples into strings and lists, and a
    # hash over the in-memory form would not verify once read back
    stored = json.loads(json.dumps(payload, ensure_ascii=False))
    record = {"seq": seq, "ts": ts, "kind": kind, "payload": stored, "prev_hash": prev_hash}
    record["hash"] = record_hash(record)
    return record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head: str
    problem: str = ""  # the first broken item, one line


def verify_chain(records: Iterable[Mapping[str, Any]]) -> ChainReport:
    prev = GENESIS
    count = 0
    for expected_seq, record in enumerate(records, start=1):
        try:
            seq = record["seq"]
            if seq != expected_seq:
                return ChainReport(False, count, prev, f"record {expected_seq}: found seq {seq}")
            if record["prev_hash"] != prev:
                return ChainReport(
                    False, count, prev, f"record {seq}: prev_hash does not match record {seq - 1}"
                )
            if record_hash(record) != record["hash"]:
                return ChainReport(
                    False, count, prev, f"record {seq} ({record['kind']}): content does not match its hash"
                )
        except (KeyError, TypeError):
            return ChainReport(False, count, prev, f"record {expected_seq}: missing fields")
        prev = record["hash"]
        count += 1
    return ChainReport(True, count, prev)
