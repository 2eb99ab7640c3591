"""The redaction rules: which keys hold secrets, the shapes of credentials, and where to look for them.

Every rule is written twice, on purpose and side by side:

* the exact rule: a Python regex tried with `.match` at the spots a *finder* points at, whose first
  capturing group that took part is the secret (the rest of the match is kept around it);
* the finder's *prefilter* pattern: a bytes regex without look-arounds for a multi-pattern engine
  (Hyperscan), which must match on every line where the finder's shapes can match (a superset: it
  may also match where no secret is, never miss one). The engine scans a whole batch once with all
  of them and hands only the lines it flagged, and only the rules that matched, to the exact rules;
  `tests/unit/test_redact_engines.py` holds the two in step line by line.

Every rule is line-local (no match crosses a line break) except a PEM private key, which spans lines
and is handled by its own code in `backends.redact`.
"""

from __future__ import annotations

import re
import string

# --- the secret-bearing key rule (codex-k8s bootstrap env file) ------------------------------------------

# Domain rule: keys ending in one of these hold secrets.
SECRET_KEY_SUFFIXES: tuple[str, ...] = (
    "_PAT",
    "_TOKEN",
    "_SECRET",
    "_PASSWORD",
    "_API_KEY",
    "_SIGNING_KEY",
    "_BEARER_TOKEN",
)
# A few more that are secret by any reading (the redactor errs on the side of hiding).
EXTRA_SECRET_KEY_SUFFIXES: tuple[str, ...] = (
    "_PASSWD",
    "_PRIVATE_KEY",
    "_SECRET_KEY",
    "_ACCESS_KEY",
    "_OPENAI_AUTH_FILE",  # holds the codex-cli auth.json (tokens), not a path
)
SECRET_KEY_NAMES: frozenset[str] = frozenset(
    {"KODEX_GITHUB_WEBHOOK_SECRET", "CODEXK8S_GITHUB_WEBHOOK_SECRET"}
)


def is_secret_key(key: str) -> bool:
    """True when an env key's value must never be displayed (case-insensitive, `export ` tolerated)."""
    k = key.strip().upper()
    if k.startswith("EXPORT "):
        k = k[7:].strip()
    if not k:
        return False
    if k in SECRET_KEY_NAMES or k.endswith(SECRET_KEY_SUFFIXES) or k.endswith(EXTRA_SECRET_KEY_SUFFIXES):
        return True
    return "TELEGRAM" in k and "TOKEN" in k  # the Telegram bot token, however the key is spelled


# --- values ------------------------------------------------------------------------------------------------

# Never re-redact a marker (redact() is idempotent), nor the placeholder client-go prints for a token.
_NOT_DONE = r"(?!\[REDACTED|--- REDACTED)"

# The value after a key: quoted (up to the closing quote) or bare.
_VAL_QUOTED = rf"""\\?"({_NOT_DONE}[^"\\\r\n]+)|'({_NOT_DONE}[^'\r\n]+)"""
_VAL_EQ_BARE = rf"""({_NOT_DONE}[^\s"'\\&]+)"""
# `KEY: value` unquoted is also how tools print key names with a status ("KODEX_GITHUB_PAT: missing"):
# only token-looking values count (6+ chars with a digit, or 16+ chars).
_VAL_COLON_BARE = rf"""({_NOT_DONE}(?=[^\s"'\\,]*[0-9])[^\s"'\\,]{{6,}}|{_NOT_DONE}[^\s"'\\,]{{16,}})"""
# The same for the field and flag rules, which also meet Go struct dumps (`{Token:abc123 Name:x}`)
# and URLs (`https://x-access-token:<token>@host`) and so stop at a closing brace or bracket and at
# an `@`; a path, a variable or another flag is no value.
_TOKENISH = r"""[^\s"'\\,;@}\]]"""
_VAL_TOKEN_BARE = (
    rf"""({_NOT_DONE}(?![/~.$<{{-])(?:(?={_TOKENISH}*[0-9]){_TOKENISH}{{6,}}|{_TOKENISH}{{16,}}))"""
)
_SEP_EQ = r"""(?:\\?["'])?[ \t]*=[ \t]*"""
_SEP_COLON = r"""(?:\\?["'])?[ \t]*:[ \t]*"""
_SEP_ANY = r"""(?:\\?["'])?[ \t]*[:=][ \t]*"""

_ENV_KEY = (
    r"(?i:_PAT|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_API_KEY|_SIGNING_KEY|_PRIVATE_KEY|_SECRET_KEY|_ACCESS_KEY)"
)
_GENERIC_KEY = r"(?i:password|passwd|secret)"
# Field names as JSON, YAML, Go struct dumps, headers and kubeconfigs spell them (`token:`,
# `accessToken`, `BearerToken:`, `X-Api-Key:`, `PRIVATE-TOKEN:`, `client-key-data:`, a docker
# config's `"auth":`, a Secret's `.dockerconfigjson:`). `_TOKEN`-style keys are the env rule's.
_FIELD_KEY = r"(?i:token|api-?key|access-?key|private-?key|key-data|auth|dockerconfigjson|dockercfg)"
# Command-line flags with the value after a space (`--token abc`, Go's `-password x`); `--x=value` is
# already a key rule's.
_FLAG_PW = r"(?i:password|passwd)"
_FLAG_KEY = r"(?i:token|secret|api-?key|access-key|secret-key|auth-key)"
_FLAG_HEAD = r"(?<![A-Za-z0-9-])--?(?:[A-Za-z0-9]+-)*"

# name -> (kind, regex). Each regex has one or more capturing groups; the first that took part in a
# match is the secret (the rest of the match is kept). Regexes are tried with `.match` at the spots
# the finders point at, never scanned along whole lines.
SHAPES: dict[str, tuple[str, str]] = {
    "github-pat": ("github-pat", r"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{40,255})(?![A-Za-z0-9_])"),
    "github-token": ("github-token", r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36,251})(?![A-Za-z0-9])"),
    "openai": ("openai-key", r"(?<![A-Za-z0-9_-])(sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,})"),
    "jwt": ("jwt", r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"),
    "aws": ("aws-access-key", r"(?<![A-Za-z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?![A-Za-z0-9])"),
    "slack": ("slack-token", r"(?<![A-Za-z0-9])(xox[baprs]-[A-Za-z0-9-]{10,})"),
    "telegram": ("telegram-bot-token", r"(?<![0-9])([0-9]{8,10}:[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])"),
    # userinfo of a URL; the user may be empty (`redis://:pw@host`)
    "url": ("url-password", rf"""://[^\s:/@"'<>]*:({_NOT_DONE}[^\s@/"'<>]+)@"""),
    # Go's MySQL DSN: `user:pw@tcp(host:3306)/db`; tried at the colon (see DSN_FINDER)
    "dsn": (
        "url-password",
        rf"""(?<=[A-Za-z0-9_.-])(?<!\[REDACTED):({_NOT_DONE}[^\s@/:"'<>]+)@(?:tcp|unix|udp)\(""",
    ),
    "auth": (
        "",  # the kind follows the scheme: bearer / basic-auth / auth-token
        # `[` too: Go prints an http.Header as `map[Authorization:[Bearer …]]`
        rf"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"'\[]?"
        rf"(?i:(bearer)|(basic)|(token))[ \t]+({_NOT_DONE}[^\s\"',;\]]+)",
    ),
    "bearer": (
        "bearer",
        r"(?<![A-Za-z])(?i:bearer)[ \t]+((?=[A-Za-z0-9._~+/_-]*[0-9])[A-Za-z0-9._~+/_-]{16,}=*)",
    ),
    "env-eq": ("env-secret", rf"{_ENV_KEY}{_SEP_EQ}(?:{_VAL_QUOTED}|{_VAL_EQ_BARE})"),
    "env-colon": ("env-secret", rf"{_ENV_KEY}{_SEP_COLON}(?:{_VAL_QUOTED}|{_VAL_COLON_BARE})"),
    "pw-eq": ("password", rf"(?<![A-Za-z0-9]_){_GENERIC_KEY}{_SEP_EQ}(?:{_VAL_QUOTED}|{_VAL_EQ_BARE})"),
    "pw-colon": (
        "password",
        rf"(?<![A-Za-z0-9]_){_GENERIC_KEY}{_SEP_COLON}(?:{_VAL_QUOTED}|{_VAL_COLON_BARE})",
    ),
    "field": ("secret-field", rf"(?<!_){_FIELD_KEY}{_SEP_ANY}(?:{_VAL_QUOTED}|{_VAL_TOKEN_BARE})"),
    "flag-pw": ("password", rf"{_FLAG_HEAD}{_FLAG_PW}[ \t]+(?:{_VAL_QUOTED}|{_VAL_TOKEN_BARE})"),
    "flag-key": ("secret-field", rf"{_FLAG_HEAD}{_FLAG_KEY}[ \t]+(?:{_VAL_QUOTED}|{_VAL_TOKEN_BARE})"),
    # curl / wget: `-u user:password`, `--user=user:password` (a uid:gid has no letter, a variable
    # is no value)
    "user-pw": (
        "password",
        rf"""(?<![A-Za-z0-9-])(?:-u|--user)(?:[ \t]+|=)["']?[^\s:"'@]+:"""
        rf"""({_NOT_DONE}(?![$<{{])(?=[^\s"'@]*[A-Za-z])[^\s"'@]+)""",
    ),
    # the first cookie's value in a Cookie / Set-Cookie header
    "cookie": (
        "cookie",
        rf"(?i:cookie)[ \t]*:[ \t]*[^=\s;]+=({_NOT_DONE}(?:(?=[^\s;]*[0-9])[^\s;]{{6,}}|[^\s;]{{16,}}))",
    ),
}
AUTH_KINDS = ("bearer", "basic-auth", "auth-token")
#: kinds a more specific shape wins over when both name the same span
GENERIC_KINDS = frozenset({"env-secret", "password", "known-secret", "secret-field"})
COMPILED = {name: (kind, re.compile(rx)) for name, (kind, rx) in SHAPES.items()}


def _env_at(offset: int) -> tuple[tuple[str, int], ...]:
    return (("env-eq", offset), ("env-colon", offset))


_ENV = _env_at(0)

Try = tuple[tuple[str, int], ...]
#: (finder, runs on the lower-cased text, hit group -> shapes to try and their offsets from the hit,
#:  prefilter patterns (bytes, caseless))
Finder = tuple[re.Pattern[str], bool, dict[int | None, Try], tuple[tuple[bytes, bool], ...]]

# The trigger pass: each finder is one regex with a literal first character (the regex engine's
# fastest search; an alternation of literals would be ten times slower), run over the lower-cased
# text or the text itself. A hit names the shapes to try and where they would start (offset from the
# hit). Every match of every shape contains some hit.
FINDERS: tuple[Finder, ...] = (
    (
        re.compile(
            r"""_(?:(?:(pat)|(token)|(key))(?:\\?["'])?[ \t]*[:=]"""
            r"|(?<=gh[pousr]_)[a-z0-9]{36}|(pat_)(?<=github_pat_))"
        ),
        True,
        {
            1: _ENV,
            2: _ENV,
            3: (
                *_env_at(-4),
                *_env_at(-7),
                *_env_at(-8),
            ),  # _api_key, _access_key / _secret_key, _signing_key / _private_key
            None: (("github-token", -3),),
            4: (("github-pat", -6),),
        },
        (
            (rb"""_(?:pat|token|key)(?:\\?["'])?[ \t]*[:=]""", True),
            (rb"gh[pousr]_[a-z0-9]{36}", True),
            (rb"github_pat_", True),
        ),
    ),
    (
        re.compile(r"""secret(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (*_env_at(-1), ("pw-eq", 0), ("pw-colon", 0))},
        ((rb"""secret(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    (
        re.compile(r"""ssw(?<=passw)(?:ord|d)?(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (*_env_at(-3), ("pw-eq", -2), ("pw-colon", -2))},
        ((rb"""passw(?:ord|d)?(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    (
        re.compile(r"sk-(?=[A-Za-z0-9_-]{20})"),
        False,
        {None: (("openai", 0),)},
        ((rb"sk-[A-Za-z0-9_-]{20}", False),),
    ),
    (re.compile(r"xox[baprs]-"), False, {None: (("slack", 0),)}, ((rb"xox[baprs]-", False),)),
    (
        re.compile(r"J(?<=eyJ)[A-Za-z0-9_-]{8,}\."),
        False,
        {None: (("jwt", -2),)},
        ((rb"eyJ[A-Za-z0-9_-]{8,}\.", False),),
    ),
    (
        re.compile(r"A[KS]IA[0-9A-Z]{16}"),
        False,
        {None: (("aws", 0),)},
        ((rb"A[KS]IA[0-9A-Z]{16}", False),),
    ),
    (re.compile(r"z(?<=authoriz)ation"), True, {None: (("auth", -7),)}, ((rb"authorization", True),)),
    (
        re.compile(r"b(?=earer[ \t])"),
        True,
        {None: (("bearer", 0),)},
        ((rb"bearer[ \t]+[A-Za-z0-9._~+/_-]{16}", True),),  # the shape's value, not just the word
    ),
    (
        re.compile(r"://[^\s:/@]*:[^\s@/]+@"),
        False,
        {None: (("url", 0),)},
        ((rb"://[^\s:/@]*:[^\s@/]+@", False),),
    ),
    # field names: one finder per literal head (a regex starting with a literal is the fast kind);
    # `…key` names are found by their end and tried at each spelling's start
    (
        re.compile(r"""token(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (("field", 0),)},
        ((rb"""token(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    (
        re.compile(
            r"key(?:(?<=apikey)()|(?<=api-key)()|(?<=accesskey)()|(?:(?<=access-key)|(?<=privatekey))()"
            r"""|(?<=private-key)()|(-data))(?:\\?["'])?[ \t]*[:=]"""
        ),
        True,
        {
            1: (("field", -3),),  # apikey
            2: (("field", -4),),  # api-key
            3: (("field", -6),),  # accesskey
            4: (("field", -7),),  # access-key, privatekey
            5: (("field", -8),),  # private-key
            6: (("field", 0),),  # key-data
        },
        ((rb"""(?:api-?key|access-?key|private-?key|key-data)(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    (
        re.compile(r"""auth(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (("field", 0),)},
        ((rb"""auth(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    (
        re.compile(r"""dockerc(?:onfigjson|fg)(?:\\?["'])?[ \t]*[:=]"""),
        True,
        {None: (("field", 0),)},
        ((rb"""dockerc(?:onfigjson|fg)(?:\\?["'])?[ \t]*[:=]""", True),),
    ),
    # a flag, from its first dash (not one inside a word)
    (
        re.compile(r"-(?<![a-z0-9-]-)-?[a-z0-9-]*(?:(password|passwd)|token|secret|key)[ \t]"),
        True,
        {None: (("flag-key", 0),), 1: (("flag-pw", 0),)},
        ((rb"-[a-z0-9-]*(?:password|passwd|token|secret|key)[ \t]", True),),
    ),
    (
        re.compile(r"-(?:u|-user)[ \t=]"),
        False,
        {None: (("user-pw", 0),)},
        ((rb"-(?:u|-user)[ \t=]", False),),
    ),
    (re.compile(r"cookie[ \t]*:"), True, {None: (("cookie", 0),)}, ((rb"cookie[ \t]*:", True),)),
)
# For the pure-Python engine: substrings (of the text the finder reads) one of which every hit of the
# finder holds; a batch holding none skips that finder's pass (an `in` test is several times cheaper
# than a regex pass). None: no such short list (a flag is any word after a dash).
NEEDLES: tuple[tuple[str, ...] | None, ...] = (
    ("_pat", "_token", "_key", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("secret",),
    ("passw",),
    ("sk-",),
    ("xox",),
    ("eyJ",),
    ("AKIA", "ASIA"),
    ("authoriz",),
    ("bearer",),
    ("://",),
    ("token",),
    ("key",),
    ("auth",),
    ("dockerc",),
    None,
    ("-u",),
    ("cookie",),
)
if len(NEEDLES) != len(FINDERS):
    raise AssertionError("one NEEDLES entry per finder")

# A Telegram bot token: 8-10 digits, a colon, 35 token characters. Found by the colon (the digits
# before it are counted by hand: a regex cannot look back a variable length).
TELEGRAM_FINDER = re.compile(r":[A-Za-z0-9_-]{35}")
TELEGRAM_PREFILTER = (rb"[0-9]{8}:[A-Za-z0-9_-]{35}", False)
# Go's MySQL DSN (`user:pw@tcp(host)/db`), found by its `@tcp(`; the shape is tried at the last colon
# before it (a password here holds none).
DSN_FINDER = re.compile(r"@(?:tcp|unix|udp)\(")
DSN_PREFILTER = (rb"@(?:tcp|unix|udp)\(", False)
DSN_REACH = 512
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

# --- PEM private keys (span lines) -------------------------------------------------------------------------

PEM_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
PEM_BLOCK = re.compile(rf"{PEM_BEGIN}(.*?)(?:{PEM_END}|(\Z))", re.S)
PEM_END_RE = re.compile(PEM_END)
#: every BEGIN / END line holds this; a line without it cannot open or close a key
PEM_TRIGGER = "PRIVATE KEY"
B64_LINE = re.compile(r"[A-Za-z0-9+/=]*")
LINE_BODY = re.compile(r"[^\r\n]+")


#: rule numbers beyond the finders' own (0 … len(FINDERS) - 1)
TELEGRAM_RULE = len(FINDERS)
DSN_RULE = len(FINDERS) + 1
RULE_COUNT = len(FINDERS) + 2


def prefilter_patterns() -> list[tuple[bytes, bool, int]]:
    """(pattern, caseless, rule number) of every rule (the PEM trigger and known values are the
    engine's); a rule whose patterns match nowhere in a text has no hit there."""
    out = [(rx, caseless, i) for i, finder in enumerate(FINDERS) for rx, caseless in finder[3]]
    out.append((*TELEGRAM_PREFILTER, TELEGRAM_RULE))
    out.append((*DSN_PREFILTER, DSN_RULE))
    return out
