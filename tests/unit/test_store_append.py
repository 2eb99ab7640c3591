"""The append-only evidence file: torn tails, conversion of old stores, corrupt lines, tail readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.evidence.chain import GENESIS, link
from backends.evidence.storage import FORMAT, AppendOnlyError, LineTail, StoreFormatError
from backends.evidence.store import EvidenceStore, StoreError
from tui.cli import main


def _filled(path: Path, n: int, batch: int = 1) -> EvidenceStore:
    store = EvidenceStore(path)
    for i in range(n):
        store.append("note", {"i": i})
        if (i + 1) % batch == 0:
            store.flush()
    store.flush()
    return store


def test_a_flush_appends_lines_and_never_rewrites_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    _filled(path, 3)
    before = path.read_bytes()
    inode = path.stat().st_ino
    store = _filled(path, 2)
    after = path.read_bytes()
    assert after.startswith(before), "earlier bytes are never rewritten"
    assert path.stat().st_ino == inode
    lines = after.decode().splitlines()
    assert json.loads(lines[0]) == {"format": FORMAT, "table": "records"}
    assert [json.loads(line)["seq"] for line in lines[1:]] == [1, 2, 3, 4, 5]
    assert store.verify().ok


def test_a_torn_last_line_is_never_read_and_is_cut_off_on_open(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    store = _filled(path, 4)
    head = store.head()
    whole = path.read_bytes()
    torn = json.dumps(link(5, 1.0, "note", {"i": 4}, head)).encode()[:37]
    path.write_bytes(whole + torn)  # a kill in the middle of a write: no newline yet

    tail = LineTail(path)
    assert [d["seq"] for d in tail.read()] == [1, 2, 3, 4], "the torn line is not a record"

    reopened = EvidenceStore(path)
    assert [r["seq"] for r in reopened.records()] == [1, 2, 3, 4]
    assert path.read_bytes() == whole, "opening cut the torn line off"
    assert reopened.verify().ok
    reopened.append("note", {"i": 4})
    reopened.flush()
    assert [r["seq"] for r in EvidenceStore(path).records()] == [1, 2, 3, 4, 5]
    assert EvidenceStore(path).verify().ok
    assert [d["seq"] for d in tail.read()] == [5]


def test_a_torn_line_left_by_another_writer_is_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    store = _filled(path, 2)
    store.records()
    with open(path, "ab") as fh:
        fh.write(b'{"seq":3,"ts":')  # appeared after this store opened the file
    store.append("note", {"i": 2})
    store.flush()
    fresh = EvidenceStore(path)
    assert [r["seq"] for r in fresh.records()] == [1, 2, 3]
    assert fresh.verify().ok


def test_a_store_in_the_old_tinydb_format_is_converted_once(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    prev, rows = GENESIS, {}
    for seq in range(1, 6):
        doc = link(seq, 1000.0 + seq, "note", {"i": seq}, prev)
        prev = doc["hash"]
        rows[str(seq)] = doc
    path.write_text(json.dumps({"records": rows}, separators=(",", ":")))

    store = EvidenceStore(path)
    assert [r["seq"] for r in store.records()] == [1, 2, 3, 4, 5]
    assert store.head() == prev
    assert path.read_text().splitlines()[0] == json.dumps(
        {"format": FORMAT, "table": "records"}, separators=(",", ":")
    )
    converted = path.stat().st_ino
    again = EvidenceStore(path)
    assert again.verify().ok and again.verify().head == prev
    again.append("note", {"i": 6})
    again.flush()
    assert path.stat().st_ino == converted, "converted once: later opens append to the same file"
    assert EvidenceStore(path).verify().count == 6


def test_a_corrupt_line_in_the_middle_is_named_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    _filled(path, 4)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:20] + b"###" + lines[2][23:]  # record 2, complete line, damaged
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(StoreError, match=r"evidence.json line 3: not a JSON record"):
        EvidenceStore(path).records()
    report = EvidenceStore(path).verify()
    assert not report.ok and "line 3" in report.problem


def test_a_corrupt_line_stops_an_export_with_one_line_and_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    session = tmp_path / "session"
    session.mkdir()
    path = session / "evidence.json"
    _filled(path, 4)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"{not json"
    path.write_bytes(b"\n".join(lines))
    assert main(["export", "--session-dir", str(session), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "evidence.json line 3: not a JSON record" in err


def test_records_cannot_be_changed_or_removed_through_tinydb(tmp_path: Path) -> None:
    store = _filled(tmp_path / "evidence.json", 2)
    table = store._table()
    with pytest.raises(AppendOnlyError):
        table.update({"kind": "x"})
    with pytest.raises(AppendOnlyError):
        table.remove(doc_ids=[1])
    with pytest.raises(AppendOnlyError):
        table.truncate()
    assert store.verify().count == 2


def test_tinydb_queries_still_work_over_the_appended_lines(tmp_path: Path) -> None:
    from tinydb import Query

    store = _filled(tmp_path / "evidence.json", 10, batch=3)
    table = store._table()
    assert [d["payload"]["i"] for d in table.search(Query().payload.i >= 7)] == [7, 8, 9]
    assert table.get(doc_id=4)["seq"] == 4  # type: ignore[index]
    assert len(table) == 10


def test_a_tail_reader_reads_only_what_is_new_across_writers(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    tail = LineTail(path)
    assert tail.read() == []
    a, b = EvidenceStore(path), EvidenceStore(path)
    a.append("note", {"w": "a"})
    a.flush()
    assert [d["payload"]["w"] for d in tail.read()] == ["a"]
    offset, a_head = tail.offset, a.head()
    b.append("note", {"w": "b"})
    b.flush()
    assert tail.read()[0]["prev_hash"] == a_head != GENESIS
    assert tail.offset > offset
    assert tail.read() == []
    assert EvidenceStore(path).verify().count == 2


def test_a_store_that_shrank_under_a_reader_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    _filled(path, 3)
    tail = LineTail(path)
    assert len(tail.read()) == 3
    data = path.read_bytes()
    with open(path, "r+b") as fh:
        fh.truncate(len(data) - len(data.split(b"\n")[-2]) - 1)  # the last record removed
    with pytest.raises(StoreFormatError, match="shrank"):
        tail.read()
