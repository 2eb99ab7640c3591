"""The logs pipeline without sockets: ordering, bounds, files, reading back, views, search, excerpts."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from backends.events import EventBus, LogExcerpt, LogLines
from backends.evidence.logfiles import LogFiles, LogRef
from backends.logs.filter import FilterError, LogFilter, parse_filter
from backends.logs.hub import EXCERPTS, LogHub
from backends.logs.levels import DEBUG, ERROR, INFO, NONE, WARN, detect_level
from backends.logs.pipeline import LogPipeline
from backends.logs.reader import LogReader
from backends.logs.record import (
    GAP,
    SEQ,
    SOURCE,
    TEXT,
    TS,
    LogRecord,
    format_line,
    key_of,
    level_of,
    make_record,
    parse_iso,
    parse_line,
    quantize,
)
from backends.logs.ring import LogRing
from backends.logs.source import Chunk, Mark
from backends.logs.view import LogView
from backends.redact import Redactor

T0 = 1_795_500_000.0  # 2026-11-24T…Z


def _pipeline(tmp_path: Path, ring: int = 1000, bus: EventBus | None = None) -> LogPipeline:
    return LogPipeline(Redactor(), LogFiles(tmp_path), LogRing(ring), bus, clock=lambda: T0)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('E1124 05:57:55.123456    2211 pod_workers.go:1301] "Error syncing pod"', ERROR),
        ("W1124 05:57:55.123456    2211 reflector.go:561] watch ended", WARN),
        ("I1124 05:57:55.123456    2211 controller.go:132] synced", INFO),
        ('time="2026-11-24T05:57:55Z" level=warning msg="slow"', WARN),
        ('{"ts":"2026-11-24T05:57:55Z","level":"error","msg":"db down"}', ERROR),
        ('{"severity":"DEBUG","msg":"x"}', DEBUG),
        ("2026-11-24 05:57:55 [INFO] worker started", INFO),
        ("panic: runtime error: index out of range", ERROR),
        ("codex> the errors in this doc were fixed", NONE),
        ("INFORMATION is not a level", NONE),
    ],
)
def test_levels_by_cheap_heuristics(line: str, level: str) -> None:
    assert detect_level(line) == level


def test_record_line_round_trips() -> None:
    for i in range(2000):
        ts = quantize(T0 + random.random() * 86400)
        rec = make_record(
            ts,
            i,
            "k3s",
            f"text {i} with  spaces ",
            random.choice(["", "gap"]),
            random.choice([None, "warn", ""]),
        )
        assert parse_line("k3s", format_line(rec)) == rec
    assert parse_iso("2026-11-24T05:57:55.123456789Z") == parse_iso("2026-11-24T05:57:55.123456Z")
    assert parse_line("x", "not a log line") is None


def test_ring_is_bounded_ordered_and_merges_late_lines() -> None:
    ring = LogRing(5)
    ring.extend([make_record(T0 + i, i, "a", str(i), "", None) for i in range(4)])
    late = [make_record(T0 + 1.5, 10, "b", "late", "", None)]
    ring.extend(late)
    assert [r[TEXT] for r in ring] == ["0", "1", "late", "2", "3"]
    evicted = ring.extend(
        [make_record(T0 + 9, 11, "a", "9", "", None), make_record(T0 + 10, 12, "a", "10", "", None)]
    )
    assert [r[TEXT] for r in evicted] == ["0", "1"]
    assert len(ring) == 5 and ring.floor == (T0 + 1.5, 10)
    # a line older than everything evicted is only on disk: the ring does not take it back
    assert ring.extend([make_record(T0 + 0.5, 13, "b", "too late", "", None)]) == []
    assert "too late" not in [r[TEXT] for r in ring]


def test_pipeline_redacts_before_ring_files_and_events(tmp_path: Path) -> None:
    bus = EventBus()
    events: list[LogLines] = []
    bus.subscribe(lambda e: events.append(e) if isinstance(e, LogLines) else None)
    pipe = _pipeline(tmp_path, bus=bus)
    token = "ghp_" + "A1b2C3d4" * 4 + "Zz9Y"
    pipe.ingest(
        Chunk("pod", ["starting", f"Authorization: token {token}", "-----BEGIN RSA PRIVATE KEY-----"], T0)
    )
    pipe.ingest(
        Chunk("pod", ["MIIEowIBAAKCAQEAsecretsecretsecret", "-----END RSA PRIVATE KEY-----", "done"], T0 + 1)
    )
    assert pipe._pending  # buffered until the flush … but already redacted
    assert not any(token in r[TEXT] or "MIIEow" in r[TEXT] for p in pipe._pending.values() for r in p.records)
    pipe.flush()
    texts = [r[TEXT] for r in pipe.ring]
    assert texts[0] == "starting" and texts[-1] == "done"
    assert not any(token in t or "MIIEow" in t for t in texts)
    on_disk = pipe.files.path_for(pipe.streams["pod"].file).read_text()
    assert token not in on_disk and "MIIEow" not in on_disk and "[REDACTED:" in on_disk
    assert not any(token in line for e in events for line in e.lines)


def test_stream_clock_never_goes_backwards(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    pipe.ingest(Chunk("a", ["one", "two", "three"], [T0 + 5, T0 + 3, T0 + 6]))
    pipe.flush()
    assert [r[TS] for r in pipe.ring] == [T0 + 5, T0 + 5, T0 + 6]


def _filled_hub(
    tmp_path: Path, n: int = 3000, ring: int = 500, seed: int = 3
) -> tuple[LogHub, list[LogRecord]]:
    rnd = random.Random(seed)
    bus = EventBus()
    hub = LogHub(LogFiles(tmp_path), Redactor(), bus, ring_size=ring)
    t = T0
    for i in range(n):
        stream = rnd.choice(["k3s", "worker", "agent"])
        t += rnd.choice([0.0, 0.001, 0.25])
        level = rnd.choice(["INFO", "WARN", "ERROR", "DEBUG"])
        hub.pipeline.ingest(
            Chunk(stream, [f"{level} line {i} {rnd.choice(['alpha', 'beta', 'timeout'])}"], t)
        )
        if i % 97 == 0:
            hub.pipeline.flush()
    hub.pipeline.flush()
    everything = sorted(
        r
        for s in hub.streams
        for r in LogReader(hub._stream_files).after((0.0, 0), 10**6, LogFilter(exact_source=s))
    )
    return hub, everything


def test_reader_pages_match_the_merged_stream(tmp_path: Path) -> None:
    hub, everything = _filled_hub(tmp_path)
    assert len(everything) == 3000 and len(hub.ring) == 500
    rnd = random.Random(1)
    for _ in range(100):
        i = rnd.randrange(len(everything))
        n = rnd.randrange(1, 300)
        assert hub.reader.before(key_of(everything[i]), n) == everything[max(0, i - n) : i]
        assert hub.reader.after(key_of(everything[i]), n) == everything[i + 1 : i + 1 + n]
    flt = parse_filter("level:warn timeout")
    wanted = [r for r in everything if flt.matches(r)]
    assert hub.reader.before((T0 + 10**6, 0), 40, flt) == wanted[-40:]


def test_view_follows_the_ring_and_scrolls_back_into_the_files(tmp_path: Path) -> None:
    hub, everything = _filled_hub(tmp_path)
    view = hub.open_view()
    assert view.rows == list(hub.ring)
    while view.load_older(250):  # the ring holds the newest 500; the rest comes from the files
        pass
    assert view.rows == everything and view.at_start  # contiguous: nothing lost, nothing twice
    assert not view.following
    # walking forward again re-attaches to the live tail
    view.follow()
    assert view.attached and view.rows[-1] == everything[-1]


def test_paused_view_is_bounded_and_detaches(tmp_path: Path) -> None:
    hub, _ = _filled_hub(tmp_path, n=600, ring=500)
    view = hub.open_view(paused_window=2000)
    view.pause()
    for i in range(3000):
        hub.pipeline.ingest(Chunk("k3s", [f"more {i}"], T0 + 10_000 + i))
    hub.pipeline.flush()
    assert len(view.rows) == 2000 and not view.attached and view.new_lines > 0
    while view.load_newer(100):
        pass
    assert view.attached and view.rows[-1][TEXT] == "more 2999" and len(view.rows) <= 2000


def test_view_filter_search_and_jump(tmp_path: Path) -> None:
    hub, everything = _filled_hub(tmp_path)
    view = hub.open_view(parse_filter("src:work level:error"))
    assert all(r[SOURCE] == "worker" and level_of(r) == ERROR for r in view.rows)
    view.set_filter(LogFilter())
    view.set_search("timeout")
    assert view.hit_count == sum(1 for r in view.rows if "timeout" in r[TEXT])
    last = view.find(len(view.rows), -1)
    assert last is not None and "timeout" in view.rows[last][TEXT]
    # jump far back in time: served from the files, paused there
    target = everything[100]
    index = view.jump(target[TS])
    assert view.rows[index][TS] >= target[TS] and view.rows[index - 1][TS] < target[TS]
    assert not view.following and not view.attached


def test_gap_marks_sit_after_the_streams_last_line(tmp_path: Path) -> None:
    pipe = _pipeline(tmp_path)
    pipe.ingest(Chunk("a", ["before drop"], T0 + 1))
    pipe.ingest(Chunk("b", ["other stream later"], T0 + 5))
    pipe.ingest(Mark("a", GAP, "connection lost for 2.0 s; resumed"))
    pipe.ingest(Chunk("a", ["replayed during the outage"], T0 + 3))
    pipe.flush()
    assert [r[TEXT] for r in pipe.ring] == [
        "before drop",
        "connection lost for 2.0 s; resumed",
        "replayed during the outage",
        "other stream later",
    ]
    assert pipe.streams["a"].gaps == 1


def test_filter_syntax() -> None:
    flt = parse_filter('src:k3s src:worker level:warning "lease extended"')
    assert flt.sources == ("k3s", "worker") and flt.min_level == WARN and flt.text == "lease extended"
    assert parse_filter(flt.to_query()) == flt
    assert parse_filter(r"re:E\d{4}").regex
    with pytest.raises(FilterError):
        parse_filter("level:loud")
    with pytest.raises(FilterError):
        parse_filter("re:(")


async def test_excerpt_is_a_recorded_hashed_copy(tmp_path: Path) -> None:
    bus = EventBus()
    recorded: list[LogExcerpt] = []
    bus.subscribe(lambda e: recorded.append(e) if isinstance(e, LogExcerpt) else None)
    hub = LogHub(LogFiles(tmp_path), Redactor(), bus)
    hub.pipeline.ingest(Chunk("k3s", ["one", "two", "three"], T0))
    hub.pipeline.flush()
    event = hub.excerpt(list(hub.ring)[1:], "scenario:A1")
    assert event is not None and recorded == [event]
    assert event.attach_to == "scenario:A1" and event.lines == 2 and event.file == f"logs/{EXCERPTS}.log"
    data = LogFiles(tmp_path).read(LogRef(event.file, event.start, event.end, event.sha256))
    assert hashlib.sha256(data).hexdigest() == event.sha256
    assert data.decode().splitlines()[0].endswith("k3s 2 two")
    assert LogExcerpt.from_payload(event.to_payload()) == event
    await hub.aclose()


async def test_a_resumed_session_continues_its_streams(tmp_path: Path) -> None:
    hub = LogHub(LogFiles(tmp_path), Redactor())
    hub.pipeline.ingest(Chunk("k3s", ["first run"], T0))
    await hub.aclose()
    hub.files.close()
    again = LogHub(LogFiles(tmp_path), Redactor())
    assert again.streams["k3s"].state == "stopped"
    again.pipeline.ingest(Chunk("k3s", ["second run"], T0 + 1))
    again.pipeline.flush()
    assert [r[SEQ] for r in again.ring] == [2]
    view = again.open_view()
    assert view.load_older(10) == 1 and [r[TEXT] for r in view.rows] == ["first run", "second run"]
    await again.aclose()


def test_view_stays_bounded_when_following(tmp_path: Path) -> None:
    hub = LogHub(LogFiles(tmp_path), Redactor(), ring_size=1000)
    view = hub.open_view()
    for i in range(50):
        hub.pipeline.ingest(Chunk("x", [f"line {i}.{j}" for j in range(100)], T0 + i))
        hub.pipeline.flush()
    assert len(hub.ring) == 1000 and len(view.rows) == 1000 and view.rows == list(hub.ring)


def test_log_view_unfiltered_is_the_ring(tmp_path: Path) -> None:
    ring = LogRing(10)
    view = LogView(ring, LogReader(dict))
    assert view.rows == []


def test_file_blocks_are_format_line_of_every_record(tmp_path: Path) -> None:
    """The chunk-at-once block writer writes exactly `format_line` of each record, in order."""
    pipe = _pipeline(tmp_path, ring=10_000)
    pipe.ingest(Chunk("s", [f"line {i} é" for i in range(500)], T0 + 0.1234567))
    pipe.ingest(Chunk("s", [f"{i}" for i in range(2600)], T0 + 0.5))  # seq numbers past 1000, 2000, 3000
    pipe.ingest(Chunk("s", ["a", "b", ""], [T0 + 1, T0 + 0.5, T0 + 2]))
    pipe.ingest(Chunk("s", ["warned", "erred"], T0 + 3, [WARN, ERROR]))
    pipe.ingest(Mark("s", GAP, "resumed after a drop"))
    pipe.ingest(Chunk("s", ["one"]))
    pipe.flush()
    pipe.ingest(Chunk("s", ["after the flush"], T0 + 4))
    pipe.close()
    text = pipe.files.path_for(pipe.streams["s"].file).read_text(encoding="utf-8")
    assert text == "".join(format_line(r) + "\n" for r in pipe.ring)
    assert [parse_line("s", line) for line in text.splitlines()] == list(pipe.ring)
