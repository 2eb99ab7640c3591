"""The codex-k8s label catalogue as the simulated platform reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass

STAGES = (
    "intake",
    "vision",
    "prd",
    "arch",
    "design",
    "plan",
    "dev",
    "doc-audit",
    "qa",
    "release",
    "postdeploy",
    "ops",
    "self-improve",
)
SPECIAL = ("rethink", "ai-repair", "debug")
STATES = ("blocked", "in-review", "approved", "superseded", "abandoned")
NEEDS = ("input", "pm", "sa", "qa", "sre", "em", "km", "reviewer")
MODELS = (
    "gpt-5.4",
    "gpt-5.3-codex",
    "gpt-5.3-codex-spark",
    "gpt-5.2-codex",
    "gpt-5.1-codex-max",
    "gpt-5.2",
    "gpt-5.1-codex-mini",
)
REASONING = ("low", "medium", "high", "extra-high")
DEFAULT_MODEL, DEFAULT_REASONING = "gpt-5.3-codex", "medium"
READ_ONLY_STAGES = {"postdeploy", "ops"}

MODEL_LABEL = re.compile(r"^\[ai-model-(?P<v>[^\]]+)\]$")
REASONING_LABEL = re.compile(r"^\[ai-reasoning-(?P<v>[^\]]+)\]$")


def catalogue() -> list[str]:
    labels = (
        [f"run:{s}" for s in STAGES] + [f"run:{s}:revise" for s in STAGES] + [f"run:{s}" for s in SPECIAL]
    )
    labels += [f"state:{s}" for s in STATES] + [f"need:{n}" for n in NEEDS] + ["mode:discussion"]
    labels += [f"[ai-model-{m}]" for m in MODELS] + [f"[ai-reasoning-{r}]" for r in REASONING]
    return labels


@dataclass(frozen=True)
class Trigger:
    stage: str  # e.g. "intake", "rethink"
    revise: bool

    @property
    def name(self) -> str:
        return f"{self.stage}:revise" if self.revise else self.stage


def parse_trigger(label: str) -> Trigger | None:
    if not label.startswith("run:"):
        return None
    rest = label[4:]
    revise = rest.endswith(":revise")
    stage = rest.removesuffix(":revise")
    if stage in STAGES or (stage in SPECIAL and not revise):
        return Trigger(stage, revise)
    return None


def stage_labels(labels: list[str]) -> list[str]:
    return [label for label in labels if (t := parse_trigger(label)) is not None and not t.revise]


def profile(labels: list[str]) -> tuple[list[str], list[str]]:
    models = [m["v"] for label in labels if (m := MODEL_LABEL.match(label))]
    reasonings = [m["v"] for label in labels if (m := REASONING_LABEL.match(label))]
    return models, reasonings
