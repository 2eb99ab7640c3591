"""The redaction corpus through the logs pipeline: no secret in the ring, the files or the evidence.

(The screen is checked in tests/ui/test_logs_pane.py: a snapshot, plus every rendered line scanned.)
Every secret shape of tests/unit/redaction_corpus.py goes in as a line of a live stream — PEM keys one
line at a time and split across chunks, as a stream delivers them — and the look-alikes go in beside
them and must come out byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.events import EventBus, LogExcerpt
from backends.logs.hub import LogHub
from backends.logs.pipeline import LogPipeline
from backends.logs.record import TEXT
from backends.logs.source import Chunk
from backends.redact import AVAILABLE, ENGINES, Redactor
from backends.session import Session
from tests.unit.redaction_corpus import (
    ALL_LOOKALIKES,
    ALL_SECRETS,
    KNOWN_SECRETS,
    LOOKALIKES,
    PEM_BODY,
    PEM_KEYS,
    SECRETS,
)

T0 = 1_795_500_000.0
SECRET_STREAM = "codex-issue-128/agent-run-4f2a1"
CLEAN_STREAM = "kodex-prod/kodex-worker-5f7d9"


def secret_values() -> list[str]:
    return [value for _, _, value in SECRETS] + PEM_BODY


def feed_corpus(pipeline: LogPipeline) -> None:
    """Corpus lines, a few per chunk; each PEM key split across two chunks mid-body."""
    t = T0
    for i in range(0, len(SECRETS), 3):
        t += 1
        pipeline.ingest(Chunk(SECRET_STREAM, [line for _, line, _ in SECRETS[i : i + 3]], t))
    for key in PEM_KEYS:
        t += 1
        cut = 2
        pipeline.ingest(Chunk(SECRET_STREAM, ["codex> cat ~/.ssh/id_rsa", *key[:cut]], t))
        pipeline.ingest(Chunk(SECRET_STREAM, [*key[cut:], "codex> done"], t + 0.5))
    for i, line in enumerate(LOOKALIKES):
        pipeline.ingest(Chunk(CLEAN_STREAM, [line], T0 + 0.25 + i * 0.01))
    pipeline.flush()


def assert_clean(text: str, where: str) -> None:
    leaked = [value for value in secret_values() if value in text]
    assert not leaked, f"secret(s) in {where}: {leaked}"


async def test_every_corpus_secret_is_redacted_in_ring_files_and_evidence(tmp_path: Path) -> None:
    session = Session(tmp_path / "session")
    bus = EventBus()
    bus.subscribe(session.record)
    hub = LogHub(session.logs, Redactor(), bus)
    feed_corpus(hub.pipeline)

    ring = list(hub.ring)
    secret_lines = [r[TEXT] for r in ring if r[2] == SECRET_STREAM]
    assert len(secret_lines) == len(SECRETS) + sum(len(k) + 2 for k in PEM_KEYS)
    assert_clean("\n".join(secret_lines), "the ring")
    for (kind, line, _), shown in zip(SECRETS, secret_lines, strict=False):
        assert "[REDACTED:" in shown, f"{kind}: {line!r} came out as {shown!r}"
    # PEM bodies: every line between BEGIN and END is masked, the BEGIN/END lines say what it was
    assert (
        sum(1 for t in secret_lines if t == "[REDACTED:private-key]") >= sum(len(k) - 2 for k in PEM_KEYS) - 1
    )

    # lines without secrets pass unchanged, in the ring and in the file
    assert [r[TEXT] for r in ring if r[2] == CLEAN_STREAM] == LOOKALIKES
    clean_file = hub.files.path_for(hub.streams[CLEAN_STREAM].file).read_text(encoding="utf-8")
    assert [line.split(" ", 2)[2] for line in clean_file.splitlines()] == LOOKALIKES

    # the session's log files
    for path in (session.dir / "logs").glob("*.log"):
        assert_clean(path.read_text(encoding="utf-8"), path.name)

    # evidence: an excerpt of every line, recorded in the chain
    event = hub.excerpt(ring, "scenario:E3")
    assert isinstance(event, LogExcerpt) and event.lines == len(ring)
    await hub.aclose()
    await session.aclose()
    assert_clean((session.dir / "evidence.json").read_text(encoding="utf-8"), "evidence.json")
    excerpt = (session.dir / event.file).read_text(encoding="utf-8")
    assert excerpt.count("\n") == len(ring)
    assert_clean(excerpt, event.file)
    assert session.store.verify().ok


def wide_values() -> list[str]:
    key_lines = [line for line in KNOWN_SECRETS["kube-client-key"].splitlines() if "PRIVATE KEY" not in line]
    return [v for _, _, v in ALL_SECRETS] + PEM_BODY + key_lines


@pytest.mark.parametrize("engine", [e for e in ENGINES if e in AVAILABLE])
async def test_widened_corpus_through_the_pipeline_with_either_engine(tmp_path: Path, engine: str) -> None:
    """The widened corpus (Go services, controllers, kaniko, git, curl, codex; every known value in
    every shape) in big chunks, as a file source delivers it: nothing secret in the ring, the files
    or an excerpt, every look-alike byte for byte."""
    session = Session(tmp_path / "session")
    bus = EventBus()
    bus.subscribe(session.record)
    hub = LogHub(session.logs, Redactor(KNOWN_SECRETS.values(), engine=engine), bus)
    lines = [line for _, line, _ in ALL_SECRETS] + [
        "kubectl config view --raw",
        *KNOWN_SECRETS["kube-client-key"].splitlines(),
    ]
    for i in range(0, len(lines), 50):
        chunk = lines[i : i + 50]
        hub.pipeline.ingest(Chunk(SECRET_STREAM, chunk, T0 + i, joined="\n".join(chunk)))
    hub.pipeline.ingest(Chunk(CLEAN_STREAM, ALL_LOOKALIKES, T0 + 0.5))
    hub.pipeline.flush()
    ring = list(hub.ring)
    secret_lines = [r[TEXT] for r in ring if r[2] == SECRET_STREAM]
    assert len(secret_lines) == len(lines)
    leaked = [v for v in wide_values() if v in "\n".join(secret_lines)]
    assert not leaked
    for (kind, line, _), shown in zip(ALL_SECRETS, secret_lines, strict=False):
        assert f"[REDACTED:{kind}]" in shown, f"{kind}: {line!r} came out as {shown!r}"
    assert [r[TEXT] for r in ring if r[2] == CLEAN_STREAM] == ALL_LOOKALIKES
    event = hub.excerpt(ring, "scenario:E3")
    assert isinstance(event, LogExcerpt)
    await hub.aclose()
    await session.aclose()
    for path in [
        *(session.dir / "logs").glob("*.log"),
        session.dir / "evidence.json",
        session.dir / event.file,
    ]:
        text = path.read_text(encoding="utf-8")
        assert not [v for v in wide_values() if v in text], path.name
