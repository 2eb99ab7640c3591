import itertools
import json
import multiprocessing
from pathlib import Path

import pytest

from backends.evidence.chain import GENESIS, verify_chain
from backends.evidence.store import EvidenceStore


def test_records_chain_and_verify(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence.json")
    for i in range(5):
        store.append("note", {"i": i})
    store.flush()
    store.append("note", {"i": 5})
    store.flush()
    rows = store.records()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    report = store.verify()
    assert report.ok and report.count == 6 and report.head == rows[-1]["hash"] == store.head()


@pytest.mark.parametrize("field", ["payload", "ts", "kind", "prev_hash", "seq"])
def test_any_edit_breaks_the_chain(tmp_path: Path, field: str) -> None:
    store = EvidenceStore(tmp_path / "evidence.json")
    for i in range(4):
        store.append("note", {"i": i})
    store.flush()
    lines = (tmp_path / "evidence.json").read_text().splitlines()
    doc = json.loads(lines[3])  # line 1 is the header: record 3 is the fourth line
    doc[field] = (
        {"i": 99} if field == "payload" else (7 if field == "seq" else ("x" if field != "ts" else 1.0))
    )
    lines[3] = json.dumps(doc)
    (tmp_path / "evidence.json").write_text("\n".join(lines) + "\n")
    report = store.verify()
    assert not report.ok
    assert "record 3" in report.problem


def test_deleting_a_record_breaks_the_chain(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence.json")
    for i in range(4):
        store.append("note", {"i": i})
    store.flush()
    rows = store.records()
    del rows[1]
    assert not verify_chain(rows).ok


def test_pending_records_survive_a_failed_write(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    store = EvidenceStore(target / "evidence.json")
    store.append("note", {"i": 1})
    store.flush()
    target.chmod(0o500)
    try:
        store.append("note", {"i": 2})
        if not _can_write(target):
            with pytest.raises(Exception, match="cannot write evidence"):
                store.flush()
            assert store._pending, "the record must stay queued"
    finally:
        target.chmod(0o700)
    store.flush()
    assert [r["payload"]["i"] for r in store.records()] == [1, 2]


def _can_write(directory: Path) -> bool:
    probe = directory / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


def _writer(path: str, tag: str, n: int) -> None:
    store = EvidenceStore(Path(path), max_pending=3)
    for i in range(n):
        store.append("note", {"tag": tag, "i": i})
    store.flush()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "evidence.json")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, tag, 60)) for tag in ("operator", "owner")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = EvidenceStore(Path(path))
    rows = store.records()
    assert len(rows) == 120
    for tag in ("operator", "owner"):
        assert sorted(r["payload"]["i"] for r in rows if r["payload"]["tag"] == tag) == list(range(60))
    assert store.verify().ok


def test_payload_with_int_keys_and_tuples_still_verifies(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence.json")
    store.append("scenario.step", {"detail": {1: "a", 11: "b", 4: "c"}, "pair": (1, 2)})
    store.flush()
    report = EvidenceStore(tmp_path / "evidence.json").verify()
    assert report.ok, report.problem
