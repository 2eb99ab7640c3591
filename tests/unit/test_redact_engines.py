"""The two redaction engines give the same results, line by line, on the whole corpus and beyond.

The Python engine (the exact rules at the finders' hits over the whole text) is the reference; the
Hyperscan engine flags lines with one multi-pattern scan and runs the exact rules on those only. Each
engine is chosen explicitly: `Redactor(engine=...)`, or GATEROOM_REDACTION for a whole process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.redact import AVAILABLE, ENGINE_ENV, Redactor, engine_report
from tests.bench.loggen import KNOWN_SECRETS as BENCH_SECRETS
from tests.bench.loggen import lines as bench_lines
from tests.unit.redaction_corpus import ALL_LOOKALIKES, ALL_SECRETS, KNOWN_SECRETS, PEM_KEYS

ROOT = Path(__file__).resolve().parents[2]
needs_hyperscan = pytest.mark.skipif("hyperscan" not in AVAILABLE, reason="hyperscan does not load here")
KNOWN = [*KNOWN_SECRETS.values(), *BENCH_SECRETS.values()]


def _pair() -> tuple[Redactor, Redactor]:
    return Redactor(KNOWN, engine="python"), Redactor(KNOWN, engine="hyperscan")


def _corpus_lines() -> list[str]:
    """Every corpus line, PEM keys whole and cut, and realistic log lines around them."""
    out: list[str] = []
    logs = list(bench_lines(6000, seed=11))
    pem_lines = [line for key in PEM_KEYS for line in ["codex> cat key", *key, "codex> done"]]
    pieces = [line for _, line, _ in ALL_SECRETS] + ALL_LOOKALIKES + pem_lines
    for i, line in enumerate(pieces):
        out.append(line)
        out.extend(logs[i * 3 : i * 3 + 3])
    out += logs[len(pieces) * 3 :]
    # a key whose END comes without its BEGIN (a text that starts inside a key), and one never closed
    out += ["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo", "-----END RSA PRIVATE KEY-----", "after"]
    out += ["-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA", "still inside"]
    return out


@needs_hyperscan
@pytest.mark.parametrize("batch", [1, 7, 64, 2000, 100_000])
def test_streams_are_identical_line_by_line(batch: int) -> None:
    reference, fast = _pair()
    lines = _corpus_lines()
    ref_stream, fast_stream = reference.line_stream(), fast.line_stream()
    for i in range(0, len(lines), batch):
        chunk = lines[i : i + batch]
        expected = ref_stream.feed(chunk)
        got = fast_stream.feed(chunk)
        for j, (want, have) in enumerate(zip(expected, got, strict=True)):
            assert have == want, f"line {i + j}: {chunk[j]!r}"
        assert fast_stream.in_private_key == ref_stream.in_private_key


@needs_hyperscan
def test_whole_texts_batches_with_endings_and_findings_are_identical() -> None:
    reference, fast = _pair()
    lines = _corpus_lines()
    text = "\n".join(lines)
    assert fast.redact(text) == reference.redact(text)
    assert fast.findings(text) == reference.findings(text)
    assert fast.redact_lines(lines) == reference.redact_lines(lines)
    with_endings = [line + "\n" for line in lines]
    assert fast.redact_lines(with_endings) == reference.redact_lines(with_endings)
    for line in lines:
        assert fast.redact(line) == reference.redact(line), line
        assert fast.findings(line) == reference.findings(line), line


@needs_hyperscan
def test_every_corpus_secret_goes_and_every_lookalike_stays_in_both() -> None:
    for redactor in _pair():
        for kind, line, value in ALL_SECRETS:
            out = redactor.redact(line)
            assert value not in out and f"[REDACTED:{kind}]" in out, (redactor.engine, line, out)
        for line in ALL_LOOKALIKES:
            assert redactor.redact(line) == line, (redactor.engine, line)


@needs_hyperscan
def test_odd_input_is_identical_too() -> None:
    reference, fast = _pair()
    secret = "KODEX_GITHUB_PAT=plainvalue123"
    odd = [
        ["a\nb", secret, "c"],  # a "line" holding a line break
        ["x\r\n", secret + "\r\n", "y\x0cz\n"],  # endings splitlines() sees and split("\n") does not
        ["café " + secret, "naïve"],  # non-ASCII: byte and character offsets differ
        ["\ud800 lone surrogate " + secret],
        ["", "", secret, ""],
        ["-----BEGIN RSA PRIVATE KEY-----", "MIIB\nMIIC", "-----END RSA PRIVATE KEY----- " + secret],
    ]
    for batch in odd:
        assert fast.redact_lines(batch) == reference.redact_lines(batch), batch
        assert fast.redact("\n".join(batch)) == reference.redact("\n".join(batch)), batch


@pytest.fixture
def hypothesis_home(tmp_path: Path) -> Iterator[None]:
    configuration = pytest.importorskip("hypothesis.configuration")
    before = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(tmp_path / ".hypothesis")
    yield
    configuration.set_hypothesis_home_dir(before)


@needs_hyperscan
def test_property_engines_agree_on_any_mix(hypothesis_home: None) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    reference, fast = _pair()
    fragments = st.sampled_from(
        [line for _, line, _ in ALL_SECRETS[::3]]
        + ALL_LOOKALIKES[::2]
        + [line for key in PEM_KEYS for line in key]
        + [*KNOWN[:4], "\n", " ", ":", "=", "@", '"', "token", "-u ", "--password ", "é", "://"]
    )
    filler = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
    piece = st.one_of(fragments, filler)

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(st.lists(st.lists(piece, max_size=6).map("".join), min_size=1, max_size=12))
    def check(batch: list[str]) -> None:
        assert fast.redact_lines(batch) == reference.redact_lines(batch)
        text = "\n".join(batch)
        assert fast.redact(text) == reference.redact(text)
        assert fast.findings(text) == reference.findings(text)

    check()


@needs_hyperscan
def test_known_values_learnt_later_are_found_before_and_after_the_combined_database() -> None:
    """A new value is found at once (values alone, a second scan), and still once the one combined
    database replaces the pair."""
    fast = Redactor(engine="hyperscan")
    value = "late-learnt-value-0123456789"
    assert fast.redact(f"x {value} y") == f"x {value} y"
    fast.add_secret(value)
    assert fast.redact(f"x {value} y") == "x [REDACTED:known-secret] y"
    engine = fast._engine()
    assert engine is not None and engine.wait_combined()  # type: ignore[attr-defined]
    assert fast.redact(f"x {value} y") == "x [REDACTED:known-secret] y"


def test_python_engine_is_chosen_explicitly() -> None:
    r = Redactor(["a-known-secret-value"], engine="python")
    assert r.engine == "python"
    assert r.redact("v=a-known-secret-value KODEX_GITHUB_PAT=plainvalue123") == (
        "v=[REDACTED:known-secret] KODEX_GITHUB_PAT=[REDACTED:env-secret]"
    )
    with pytest.raises(ValueError, match="unknown redaction engine"):
        Redactor(engine="regex-magic")


def _in_process(env: dict[str, str], code: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stdout.strip()


def test_the_environment_variable_selects_the_python_engine_for_a_process() -> None:
    code = "from backends.redact import Redactor as R, engine_report as e; print(R().engine, '|', e())"
    engine, report = _in_process({ENGINE_ENV: "python"}, code).split(" | ")
    assert engine == "python"
    assert report == f"python (chosen by {ENGINE_ENV})"
    engine, report = _in_process({ENGINE_ENV: "no-such-engine"}, code).split(" | ")
    assert f"{ENGINE_ENV}=no-such-engine ignored" in report


def test_version_reports_the_engine() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert f"redaction: {engine_report()}" in out.stdout
