"""The bundle's files, built from the records alone: the same records always give the same bytes.

Export builds them from the session; `verify` rebuilds them from the bundle's own records up to a
decision's chain head, to check that the decision's bundle digest really is that evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from backends.bundle import report_md
from backends.events import DecisionRecorded, LogExcerpt, event_from_record
from backends.report import junit_xml
from backends.signing import decision_statement, records_up_to, statement_names
from backends.signoff import decision_status, summarise

RECORDS = "records.json"
REPORT = "report.md"
JUNIT = "junit.xml"
EXCERPT_DIR = "logs/excerpts"

Record = Mapping[str, Any]
ExcerptReader = Callable[[Record], bytes]


def excerpt_name(record: Record) -> str:
    return f"{EXCERPT_DIR}/{record['seq']:05d}.log"


def records_json(records: Sequence[Record]) -> bytes:
    return (json.dumps(list(records), indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def build_files(records: Sequence[Record], read_excerpt: ExcerptReader) -> dict[str, bytes]:
    files = {RECORDS: records_json(records)}
    excerpts: dict[str, Record] = {}
    decisions: list[tuple[DecisionRecorded, float]] = []
    for i, record in enumerate(records):
        if record["kind"] == LogExcerpt.kind:
            name = excerpt_name(record)
            files[name] = read_excerpt(record)
            excerpts[name] = record["payload"]
        elif record["kind"] == DecisionRecorded.kind:
            event = event_from_record(record["kind"], dict(record["payload"]))
            if isinstance(event, DecisionRecorded):
                decisions.append((event, float(record["ts"])))
                closes = records_up_to(records, event.chain_head, before=i)
                if event.signature and closes is not None:
                    # the statement and its signature as files, for `ssh-keygen -Y verify` alone
                    text_name, sig_name = statement_names(int(record["seq"]))
                    files[text_name] = decision_statement(event, closes)
                    files[sig_name] = event.signature.encode()
    summary = summarise(list(records))
    files[REPORT] = report_md.render(summary, decisions, excerpts, decision_status(records)).encode()
    files[JUNIT] = junit_xml(summary.state)
    return files
