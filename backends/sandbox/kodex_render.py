"""The sandbox platform's comments, in the platform's formats but in our own words: the run-status
comment (a Markdown body in the platform's locale plus the JSON marker line, edited in place), the
"run not created" warning ending in its reason code, and the trigger-label conflict.
"""

from __future__ import annotations

from typing import Any

from backends.signals.runstatus import PHASES, render_marker

_TEXT = {
    "en": {
        "title": "### 🧠 Agent run",
        "created": "👀 The run is queued",
        "preparing_runtime": "🛠 Building and deploying the runtime",
        "started": "▶️ The agent is working",
        "auth_required": "🔐 The agent needs Codex sign-in",
        "auth_resolved": "▶️ Sign-in done, the agent goes on",
        "ready": "✅ The agent is ready",
        "finished": {
            "succeeded": "👌 The run is done",
            "failed": "❌ The run failed",
            "canceled": "⛔ Canceled",
        },
        "namespace_deleted": "🧹 The run's namespace is removed",
        "fields": {
            "run_id": "Run",
            "trigger_kind": "Trigger",
            "runtime_mode": "Runtime",
            "runtime_access_profile": "Access",
            "job": "Workload",
            "namespace": "Namespace",
            "model": "Model",
            "reasoning_effort": "Reasoning",
            "run_status": "Status",
        },
        "statuses": "### 🤖 What the agent reported",
        "timeline": "### 🕒 Progress",
        "warn_title": "### ⚠️ No run was started",
        "warn_lead": "The platform received the event and decided not to start a run.",
        "warn_labels": "Labels involved:",
        "warn_code": "Reason code",
        "conflict_title": "### ⚠️ Two trigger labels",
        "conflict_lead": "`{label}` was added while the issue already carries other `run:*` labels:",
        "conflict_fix": "Keep one trigger label and add it again.",
    },
    "ru": {
        "title": "### 🧠 Запуск агента",
        "created": "👀 Запуск поставлен в очередь",
        "preparing_runtime": "🛠 Идёт сборка и развёртывание окружения",
        "started": "▶️ Агент работает",
        "auth_required": "🔐 Агенту нужен вход в Codex",
        "auth_resolved": "▶️ Вход выполнен, агент продолжает",
        "ready": "✅ Агент готов",
        "finished": {"succeeded": "👌 Запуск завершён", "failed": "❌ Запуск упал", "canceled": "⛔ Отменён"},
        "namespace_deleted": "🧹 Namespace запуска удалён",
        "fields": {
            "run_id": "Запуск",
            "trigger_kind": "Триггер",
            "runtime_mode": "Окружение",
            "runtime_access_profile": "Доступ",
            "job": "Нагрузка",
            "namespace": "Namespace",
            "model": "Модель",
            "reasoning_effort": "Рассуждение",
            "run_status": "Статус",
        },
        "statuses": "### 🤖 Что сообщил агент",
        "timeline": "### 🕒 Ход запуска",
        "warn_title": "### ⚠️ Запуск не начат",
        "warn_lead": "Платформа получила событие и не стала запускать агента.",
        "warn_labels": "Затронутые лейблы:",
        "warn_code": "Код причины",
        "conflict_title": "### ⚠️ Два trigger-лейбла",
        "conflict_lead": "Добавлен `{label}`, а на задаче уже есть другие лейблы `run:*`:",
        "conflict_fix": "Оставьте один trigger-лейбл и добавьте его снова.",
    },
}


def _locale(locale: str) -> dict[str, Any]:
    return _TEXT["ru" if locale.lower().startswith("ru") else "en"]


def run_status_comment(state: dict[str, Any], *, locale: str, reports: list[str], phases: list[str]) -> str:
    """The whole comment body for one run's current state; `phases` are the phases reached so far."""
    t = _locale(locale)
    phase = state["phase"]
    headline = t[phase][state.get("run_status") or "succeeded"] if phase == "finished" else t[phase]
    lines = [t["title"], headline, ""]
    f = t["fields"]
    for key in ("run_id", "trigger_kind", "runtime_mode", "runtime_access_profile"):
        if state.get(key):
            lines.append(f"- {f[key]}: `{state[key]}`")
    if state.get("job_name"):
        lines.append(f"- {f['job']}: `{state.get('job_namespace', '')}/{state['job_name']}`")
    for key in ("namespace", "model", "reasoning_effort", "run_status"):
        if state.get(key):
            lines.append(f"- {f[key]}: `{state[key]}`")
    if reports:
        lines += ["", t["statuses"], *(f"- {text}" for text in reports[-5:])]
    lines += ["", t["timeline"]]
    lines += [f"- {'✅' if p in phases else '⏳'} {p}" for p in PHASES if p in phases or p == phase]
    lines += ["", render_marker(state)]
    return "\n".join(lines)


def trigger_warning(reason_code: str, *, locale: str, labels: list[str] = ()) -> str:  # type: ignore[assignment]
    t = _locale(locale)
    lines = [t["warn_title"], t["warn_lead"], ""]
    if labels:
        lines += [t["warn_labels"], *(f"  - `{label}`" for label in labels), ""]
    lines.append(f"{t['warn_code']}: `{reason_code}`")
    return "\n".join(lines)


def trigger_conflict(label: str, conflicting: list[str], *, locale: str) -> str:
    t = _locale(locale)
    lines = [t["conflict_title"], "", t["conflict_lead"].format(label=label), ""]
    lines += [f"- `{other}`" for other in conflicting]
    lines += ["", t["conflict_fix"]]
    return "\n".join(lines)
