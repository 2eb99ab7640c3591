"""The bundle's files, built from the records alone: the same records always give the same bytes.

Export builds them from the session; `verify` rebuilds them from the bundle's own records up to a
decision's chain head, to check that the decision's bundle digest really is that evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from backends.bundle import report_md, report_timeline
from backends.bundle.runs import RUNS, runs_document, runs_json
from backends.events import DecisionRecorded, LogExcerpt, event_from_record
from backends.report import junit_xml
from backends.signing import decision_statement, records_up_to, statement_names
from backends.signoff import decision_status, summarise
from backends.timeline.build import build_timeline

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


#: what the bundle holds: 1 = records, excerpts, statements, report and JUnit; 2 = with the runs
#: (`runs.json` and the report's Runs section) and the report's Timeline. A decision binds the digest
#: of the layout it was made under, so evidence decided under layout 1 verifies as it was decided.
LAYOUT = 2
LAYOUTS = (1, 2)


def build_files(
    records: Sequence[Record], read_excerpt: ExcerptReader, layout: int = LAYOUT
) -> dict[str, bytes]:
    if layout not in LAYOUTS:
        raise ValueError(f"bundle layout {layout} is not one of {LAYOUTS}")
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
    runs = runs_document(records, summary) if layout >= 2 else None
    if runs is not None:
        files[RUNS] = runs_json(runs)
    status = decision_status(records)
    timeline = report_timeline.section(build_timeline(records)) if layout >= 2 else []
    files[REPORT] = report_md.render(summary, decisions, excerpts, status, runs, timeline).encode()
    files[JUNIT] = junit_xml(summary.state)
    return files
