"""Lines per second per stream, on the lines' own clock: the logs legend's sparklines."""

from __future__ import annotations

from backends.logs.rate import BLOCKS, LogRates, rate_text
from backends.logs.record import GAP, LogRecord, make_record

T0 = 1_795_500_000.0  # a multiple of 15 s: bucket edges fall on round offsets


def lines(stream: str, start: float, count: int, every: float) -> list[LogRecord]:
    return [make_record(T0 + start + i * every, i, stream, "x") for i in range(count)]


def test_series_counts_each_streams_lines_per_bucket_on_the_newest_lines_clock() -> None:
    rates = LogRates()
    rates.add(lines("k3s", 0, 30, 1.0))  # 0-29 s: one a second
    rates.add(lines("worker", 30, 150, 0.1))  # 30-45 s: ten a second
    rates.add([make_record(T0 + 40, 999, "k3s", "connection lost", GAP)])  # a marker is no line
    # buckets of 15 s ending with the newest line's (45 s): [0, 15, 30, 45)
    assert rates.series("k3s") == [0.0, 1.0, 1.0, 0.0]
    assert rates.series("worker") == [0.0, 0.0, 0.0, 10.0]
    assert rates.series("nobody") == [0.0] * 4
    # the bucket still filling reads low: the current rate is the last full one
    assert rates.current("worker") == 0.0 and rates.current("k3s") == 1.0
    # one scale for all streams: k3s's one a second is low next to the worker's ten
    assert rates.sparkline("worker") == BLOCKS[0] * 3 + BLOCKS[-1]
    assert rates.sparkline("k3s") == BLOCKS[0] + BLOCKS[2] + BLOCKS[2] + BLOCKS[0]


def test_old_buckets_are_forgotten_and_the_sparkline_moves_with_the_logs() -> None:
    rates = LogRates()
    rates.add(lines("k3s", 0, 10, 1.0))
    rates.add(lines("journal", 600, 1, 1.0))  # ten minutes later, on another stream
    assert rates.series("k3s") == [0.0] * 4
    assert rates.sparkline("k3s") == BLOCKS[0] * 4


def test_rate_text() -> None:
    assert [rate_text(r) for r in (0, 0.4, 3.25, 42.0, 1234.0)] == ["0/s", "0.4/s", "3.2/s", "42/s", "1.2k/s"]
