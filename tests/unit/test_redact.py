"""Secret redaction: every corpus secret goes, every look-alike stays, PEM blocks across lines.

The corpus is the widened one (what Go services, controllers, kaniko, git, curl and the codex CLI
print, and every value the gate knows in each of those shapes); the redactor knows those values, as
the gate's does. The corpus tests run on each engine; tests/unit/test_redact_engines.py holds the two
to the same output line by line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.redact import AVAILABLE, ENGINES, Finding, Redactor, fingerprint, is_secret_key
from tests.unit.redaction_corpus import (
    ALL_LOOKALIKES,
    ALL_SECRETS,
    KNOWN_SECRETS,
    LOOKALIKES,
    PEM_BODY,
    PEM_KEYS,
    SECRETS,
)


@pytest.fixture(scope="module", params=[e for e in ENGINES if e in AVAILABLE])
def redactor(request: pytest.FixtureRequest) -> Redactor:
    """Each engine in turn: Hyperscan, and the pure-Python fallback chosen explicitly."""
    return Redactor(KNOWN_SECRETS.values(), engine=request.param)


@pytest.mark.parametrize(
    ("kind", "line", "secret"), ALL_SECRETS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(ALL_SECRETS)]
)
def test_secret_is_redacted_with_its_kind(redactor: Redactor, kind: str, line: str, secret: str) -> None:
    out = redactor.redact(line)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert redactor.redact(out) == out  # idempotent


@pytest.mark.parametrize("line", ALL_LOOKALIKES)
def test_lookalike_passes_unchanged(redactor: Redactor, line: str) -> None:
    assert redactor.redact(line) == line
    assert redactor.findings(line) == []


def test_corpus_covers_every_shape() -> None:
    kinds = {k for k, _, _ in ALL_SECRETS}
    assert kinds >= {
        "secret-field",
        "cookie",
        "known-secret",
        "github-token",
        "github-pat",
        "openai-key",
        "jwt",
        "url-password",
        "bearer",
        "basic-auth",
        "env-secret",
        "aws-access-key",
        "slack-token",
        "telegram-bot-token",
        "password",
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Authorization: Bearer abc123.def456-ghi789_jkl", "Authorization: Bearer [REDACTED:bearer]"),
        ("https://user:pa55word@host/x", "https://user:[REDACTED:url-password]@host/x"),
        ("KODEX_GITHUB_PAT=plainvalue123", "KODEX_GITHUB_PAT=[REDACTED:env-secret]"),
        ('KODEX_GIT_BOT_TOKEN="a b c"', 'KODEX_GIT_BOT_TOKEN="[REDACTED:env-secret]"'),
        ('{"password": "x y", "user": "u"}', '{"password": "[REDACTED:password]", "user": "u"}'),
    ],
)
def test_surrounding_text_is_kept(redactor: Redactor, line: str, expected: str) -> None:
    assert redactor.redact(line) == expected


def test_many_secrets_in_one_text(redactor: Redactor) -> None:
    text = "\n".join(line for _, line, _ in ALL_SECRETS)
    out = redactor.redact(text)
    assert out.count("\n") == text.count("\n")
    for _, _, secret in ALL_SECRETS:
        assert secret not in out


def test_clean_text_is_returned_as_is(redactor: Redactor) -> None:
    text = "\n".join(ALL_LOOKALIKES)
    assert redactor.redact(text) is text


# --- PEM private keys ---


@pytest.mark.parametrize("key_lines", PEM_KEYS, ids=lambda k: k[0].strip("-"))
def test_pem_block_in_text(redactor: Redactor, key_lines: list[str]) -> None:
    text = "before\n" + "\n".join(key_lines) + "\nafter ok"
    out = redactor.redact(text)
    for body in PEM_BODY:
        assert body not in out
    assert out.startswith("before\n" + key_lines[0] + "\n[REDACTED:private-key]")
    assert out.endswith(key_lines[-1] + "\nafter ok")
    assert out.count("\n") == text.count("\n")


def test_pem_block_escaped_on_one_line(redactor: Redactor) -> None:
    line = (
        '{"key": "-----BEGIN RSA PRIVATE KEY-----\\n'
        + "\\n".join(PEM_BODY)
        + '\\n-----END RSA PRIVATE KEY-----\\n"}'
    )
    out = redactor.redact(line)
    assert all(body not in out for body in PEM_BODY)
    assert "[REDACTED:private-key]" in out


def test_pem_block_without_end_is_redacted_to_the_end(redactor: Redactor) -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(PEM_BODY)
    out = redactor.redact(text)
    assert all(body not in out for body in PEM_BODY)


def test_pem_text_starting_inside_a_key(redactor: Redactor) -> None:
    text = "\n".join(PEM_BODY[1:]) + "\n-----END RSA PRIVATE KEY-----\nnext"
    out = redactor.redact(text)
    assert all(body not in out for body in PEM_BODY)
    assert out.endswith("-----END RSA PRIVATE KEY-----\nnext")


def test_pem_across_a_stream_of_lines(redactor: Redactor) -> None:
    stream = redactor.line_stream()
    key = PEM_KEYS[0]
    out = [stream.feed_line("log: loading key")]
    out += [stream.feed_line(line) for line in key[:2]]  # BEGIN line and first body line
    assert stream.in_private_key
    out += stream.feed(key[2:-1])  # rest of the body, as a batch
    out += stream.feed([key[-1] + " then ghp_" + "a1" * 18, "next line"])
    assert not stream.in_private_key
    assert out[0] == "log: loading key"
    assert out[1] == key[0]
    assert out[2:5] == ["[REDACTED:private-key]"] * 3
    assert out[5] == key[-1] + " then [REDACTED:github-token]"
    assert out[6] == "next line"
    assert len(out) == 1 + len(key) + 1


def test_pem_stream_with_line_endings(redactor: Redactor) -> None:
    stream = redactor.line_stream()
    key = [line + "\n" for line in PEM_KEYS[1]]
    out = stream.feed(key[:2]) + stream.feed(key[2:])
    assert out[0] == key[0]
    assert out[1] == "[REDACTED:private-key]\n"
    assert out[-1] == key[-1]
    assert "".join(out).count("\n") == len(key)


def test_redact_lines_keeps_count_and_endings(redactor: Redactor) -> None:
    lines = [line for _, line, _ in SECRETS] + LOOKALIKES
    out = redactor.redact_lines(lines)
    assert len(out) == len(lines)
    assert out[len(SECRETS) :] == LOOKALIKES
    with_endings = [line + "\n" for line in lines]
    out2 = redactor.redact_lines(with_endings)
    assert [o.rstrip("\n") for o in out2] == out
    assert redactor.redact_lines([]) == []


def test_redact_lines_with_embedded_newlines_falls_back(redactor: Redactor) -> None:
    lines = ["a\nb", "secret=topSecretValue1", "c"]
    out = redactor.redact_lines(lines)
    assert len(out) == 3
    assert out[1] == "secret=[REDACTED:password]"


# --- known literal secrets ---


def test_known_secrets_are_redacted_anywhere() -> None:
    r = Redactor(["Plain-Webhook-Value-42", "short"])
    assert r.redact("sig=Plain-Webhook-Value-42;") == "sig=[REDACTED:known-secret];"
    assert r.redact("a short word") == "a short word"  # under 6 characters: ignored
    r.add_secret("another0secret0value")
    assert r.redact("x another0secret0value y") == "x [REDACTED:known-secret] y"
    assert r.known_secret_count == 2


def test_known_secret_that_contains_another() -> None:
    r = Redactor(["abcdef123", "abcdef123456789"])
    assert r.redact("v=abcdef123456789!") == "v=[REDACTED:known-secret]!"


def test_known_multiline_secret_is_learnt_by_line() -> None:
    r = Redactor(['{\n  "refresh_token": "rt-0123456789abcdef"\n}'])
    assert "rt-0123456789abcdef" not in r.redact('"refresh_token": "rt-0123456789abcdef"')


def test_known_secret_with_regex_characters() -> None:
    r = Redactor(["a.b*c+d?(e)"])
    assert r.redact("x a.b*c+d?(e) y") == "x [REDACTED:known-secret] y"
    assert r.redact("x aXbbbcd y") == "x aXbbbcd y"


# --- findings ---


def test_findings_give_kind_position_and_fingerprint(redactor: Redactor) -> None:
    for kind, line, secret in ALL_SECRETS:
        found = redactor.findings(line)
        assert found, line
        f = found[0]
        assert isinstance(f, Finding)
        assert f.kind == kind
        assert line[f.start : f.end] == secret
        assert f.fingerprint == hashlib.sha256(secret.encode()).hexdigest()[:12]
        assert secret not in f.fingerprint and f.fingerprint not in secret
        assert secret not in repr(f)


def test_fingerprint_shape() -> None:
    fp = fingerprint("value")
    assert len(fp) == 12 and all(c in "0123456789abcdef" for c in fp)
    assert fingerprint("value") == fp != fingerprint("value2")


def test_findings_for_pem_block(redactor: Redactor) -> None:
    text = "\n".join(PEM_KEYS[0])
    (f,) = redactor.findings(text)
    assert f.kind == "private-key"
    assert PEM_BODY[0] in text[f.start : f.end]


# --- the key rule ---


@pytest.mark.parametrize(
    "key",
    [
        "KODEX_GITHUB_PAT",
        "KODEX_GIT_BOT_TOKEN",
        "KODEX_GITHUB_OAUTH_CLIENT_SECRET",
        "KODEX_PROJECT_DB_ADMIN_PASSWORD",
        "KODEX_OPENAI_API_KEY",
        "KODEX_JWT_SIGNING_KEY",
        "KODEX_MCP_BEARER_TOKEN",
        "KODEX_GITHUB_WEBHOOK_SECRET",
        "KODEX_TELEGRAM_BOT_TOKEN",
        "CODEXK8S_OPENAI_AUTH_FILE",
        "export KODEX_GITHUB_PAT",
        "kodex_github_pat",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "TARGET_HOST",
        "TARGET_ROOT_SSH_KEY",
        "OPERATOR_SSH_PUBKEY_PATH",
        "KODEX_GITHUB_OAUTH_CLIENT_ID",
        "KODEX_GITHUB_WEBHOOK_EVENTS",
        "KODEX_MCP_TOKEN_TTL",
        "KODEX_GITHUB_PATH",
        "TOKEN_COUNT",
        "",
    ],
)
def test_not_secret_keys(key: str) -> None:
    assert not is_secret_key(key)


# --- property: whatever surrounds a secret, it never survives ---


@pytest.fixture
def hypothesis_home(tmp_path: Path) -> Iterator[None]:
    """Keep hypothesis's caches out of the working tree."""
    configuration = pytest.importorskip("hypothesis.configuration")
    before = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(tmp_path / ".hypothesis")
    yield
    configuration.set_hypothesis_home_dir(before)


def test_property_secret_never_survives(hypothesis_home: None) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    r = Redactor()
    filler = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(st.sampled_from(SECRETS), filler, filler)
    def check(sample: tuple[str, str, str], before: str, after: str) -> None:
        _, line, secret = sample
        text = f"{before} {line} {after}"
        out = r.redact(text)
        assert secret not in out
        assert r.redact(out) == out

    check()


def test_property_plain_text_is_untouched(hypothesis_home: None) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    r = Redactor()
    words = st.sampled_from(
        ["run", "state:in-review", "codex-issue-7", "ok", "token_count=5", "12:00:01", "sha256:ab"]
    )

    @hypothesis.settings(max_examples=200, deadline=None, database=None)
    @hypothesis.given(st.lists(words, max_size=20))
    def check(parts: list[str]) -> None:
        text = " ".join(parts)
        assert r.redact(text) == text

    check()


# --- known values in the forms programs print them ---


def test_known_value_is_found_percent_encoded_json_escaped_and_inside_base64() -> None:
    import base64
    import json
    from urllib.parse import quote

    value = 'pw/with+special"chars0123'
    r = Redactor([value])
    assert value not in r.redact(f"x {value} y")
    assert (
        r.redact(f"postgres://kodex:{quote(value, safe='')}@db/x")
        == "postgres://kodex:[REDACTED:url-password]@db/x"
    )
    assert "special" not in r.redact(json.dumps({"v": value}))
    for prefix in ("", "u:", "us:", "use:"):  # every alignment inside a base64 text
        wrapped = base64.b64encode((prefix + value + "&tail").encode()).decode()
        out = r.redact(f"payload={wrapped}")
        assert "[REDACTED:known-secret]" in out and wrapped not in out
        urlsafe = base64.urlsafe_b64encode((prefix + value).encode()).decode()
        assert "[REDACTED:known-secret]" in r.redact(f"payload={urlsafe}")
    assert r.known_secret_count == 1  # one value, however many forms


def test_short_values_get_no_base64_forms() -> None:
    r = Redactor(["short1"])  # long enough to learn, too short for a base64 core that means anything
    assert r.redact("aGVsbG8gc2hvcnQxIHdvcmxk") == "aGVsbG8gc2hvcnQxIHdvcmxk"
