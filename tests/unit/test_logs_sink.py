"""The live streams' log files: blocks appended in gathering writes land whole and in order."""

from __future__ import annotations

from pathlib import Path

from backends.evidence.logfiles import LogFiles
from backends.logs.sink import LogSink


def test_blocks_land_in_order_across_many_writes(tmp_path: Path) -> None:
    files = LogFiles(tmp_path)
    sink = LogSink(files)
    blocks = [f"line {i} é\n" for i in range(3000)]  # more blocks than one writev takes
    assert sink.append("live.s", blocks[:10]) == len("".join(blocks[:10]).encode())
    sink.append("live.s", blocks[10:])
    sink.append("live.t", ["other stream\n"])
    # readable before close: every append is in the file when it returns
    assert files.path_for("live.s").read_text(encoding="utf-8") == "".join(blocks)
    sink.close()
    sink.append("live.s", ["\ud800 after close: reopened, lone surrogate replaced\n"])
    sink.close()
    text = files.path_for("live.s").read_text(encoding="utf-8")
    assert text.endswith("? after close: reopened, lone surrogate replaced\n")
    assert files.path_for("live.t").read_text(encoding="utf-8") == "other stream\n"
