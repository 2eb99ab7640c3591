"""A document template of the platform repository, read for its structure only, and a document of
our own written in that structure.

The platform's documents (docs/templates/*.md) open with a YAML front matter (doc_id, type, title,
status, owner_role, dates, related items, approvals), then one H1 and H2 sections. The structure is
taken from the repository's template at publish time; none of its text is copied except the titles'
fixed part before the first `<placeholder>` and the section headings themselves, which is what
makes the result read as the repository's own document. Front matter keys keep the template's order;
values are ours, or emptied where the template only has a placeholder or an example.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from backends.errors import GateError

#: template values that say who owns and who must approve a kind of document: kept as they are
KEPT = {("type",), ("owner_role",), ("approvals", "required")}
_PLAIN = re.compile(r"^[A-Za-z0-9_.@/+-]+$")


class TemplateError(GateError):
    pass


@dataclass(frozen=True)
class Template:
    path: str
    front: dict[str, Any]
    title: str  # the H1 text
    sections: tuple[str, ...]  # the H2 texts, in order


def split_front(text: str, path: str) -> tuple[str, str]:
    """(front matter, body) of a document that opens with `---` lines."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise TemplateError(f"{path}: does not open with a front matter (---)")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    raise TemplateError(f"{path}: its front matter is not closed (---)")


def parse_template(text: str, path: str) -> Template:
    front_text, body = split_front(text, path)
    try:
        front = yaml.safe_load(front_text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise TemplateError(f"{path}: its front matter is not YAML{where}") from None
    if not isinstance(front, dict):
        raise TemplateError(f"{path}: its front matter is not a mapping")
    titles = [ln[2:].strip() for ln in body.split("\n") if ln.startswith("# ")]
    sections = tuple(ln[3:].strip() for ln in body.split("\n") if ln.startswith("## "))
    if not titles or not sections:
        raise TemplateError(f"{path}: no H1 title or no H2 sections")
    return Template(path, front, titles[0], sections)


def fixed_part(text: str) -> str:
    """A template title up to its first placeholder (`Release Notes — <System> <Version>` gives
    `Release Notes —`)."""
    return text.split("<", 1)[0].strip()


def titled(template_title: str, subject: str) -> str:
    fixed = fixed_part(template_title)
    if fixed == template_title.strip():
        return f"{fixed}: {subject}" if fixed else subject
    return f"{fixed} {subject}".strip()


# -- front matter -----------------------------------------------------------------------------------
def _blank(value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    return ""


def fill(template: Mapping[str, Any], ours: Mapping[str, Any], where: tuple[str, ...] = ()) -> dict[str, Any]:
    """The template's keys in its order, with our values; a key we have no value for keeps the
    template's value only when it is policy (KEPT), else it is emptied."""
    out: dict[str, Any] = {}
    for key, value in template.items():
        path = (*where, str(key))
        mine = ours.get(key)
        if isinstance(value, dict):
            out[key] = fill(value, mine if isinstance(mine, Mapping) else {}, path)
        elif key in ours:
            out[key] = mine
        elif path in KEPT:
            out[key] = value
        else:
            out[key] = _blank(value)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = "" if value is None else str(value)
    if (
        text
        and _PLAIN.match(text)
        and text.lower() not in {"true", "false", "null", "yes", "no", "on", "off"}
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _emit(front: Mapping[str, Any], indent: str = "") -> list[str]:
    lines = []
    for key, value in front.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines += _emit(value, indent + "  ")
        elif isinstance(value, list | tuple):
            # list items are quoted as the platform quotes them (`required: ["Owner"]`)
            items = (json.dumps(v, ensure_ascii=False) if isinstance(v, str) else _scalar(v) for v in value)
            lines.append(f"{indent}{key}: [{', '.join(items)}]")
        else:
            lines.append(f"{indent}{key}: {_quoted(key, value)}")
    return lines


def _quoted(key: str, value: Any) -> str:
    # the platform quotes every title, whatever it holds
    return json.dumps(str(value), ensure_ascii=False) if key == "title" else _scalar(value)


def front_matter(front: Mapping[str, Any]) -> str:
    return "\n".join(["---", *_emit(front), "---"])


# -- sections -----------------------------------------------------------------------------------------
#: which of our contents goes under a template heading, by words the heading holds (English or the
#: platform's Russian); the first role whose word matches wins
Roles = Sequence[tuple[str, tuple[str, ...]]]


def role_of(heading: str, roles: Roles) -> str:
    text = heading.lower()
    for role, words in roles:
        if any(w in text for w in words):
            return role
    return ""


def render(
    template: Template,
    front: Mapping[str, Any],
    subject: str,
    roles: Roles,
    content: Mapping[str, list[str]],
    nothing: Callable[[str], list[str]],
) -> str:
    """The document: filled front matter, the H1 on our subject, and each template section with
    our content for its role (or what `nothing` says for a section the gate has nothing for)."""
    lines = [front_matter(fill(template.front, front)), "", f"# {titled(template.title, subject)}", ""]
    used: set[str] = set()
    for heading in template.sections:
        role = role_of(heading, roles)
        body = content.get(role) if role and role not in used else None
        if role:
            used.add(role)
        lines += [f"## {heading}", *(body if body else nothing(heading)), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
