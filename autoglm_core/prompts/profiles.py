"""Prompt profiles per model family: what the server adds to a model's own chat template.

By default a model keeps its trained system prompt and chat template: a task template's system text
replaces the system line a small model was trained with (SmolLM2's template adds its own only when
there is no system message) and can push it into other languages and personas. A profile lists the
task templates that `benchmarks/quality_eval.py` showed to help the family; only those are added
when a request names no template. A caller's system message always wins: with one, nothing is added.

Thinking: a model whose chat template has a thinking mode reasons natively. For the others the
profile says whether a prompted `<think>` format is used ("prompted": only where the eval shows the
family follows it) or none ("none": the response says the model does not think natively).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from autoglm_core.backends.base import ModelInfo

ThinkingKind = Literal["native", "prompted", "none"]
# What a response reports about thinking: not asked, the model's own thinking tokens, the prompted
# format, or asked of a model that does not think natively (no reasoning is returned).
ThinkingMode = Literal["off", "native", "prompted", "unsupported"]


@dataclass(frozen=True)
class PromptProfile:
    """How the server prompts one model family."""

    family: str
    # Task templates (qa, code, ...) added when a request names none; empty: the model's own prompt.
    tasks: frozenset[str] = frozenset()
    # Thinking for a model without a native thinking mode: a prompted format, or none.
    thinking_without_native: Literal["prompted", "none"] = "none"
    # Knowledge notes and router tool results go next to the question in the user's turn (small
    # models use them far better there, and the model's own system line stays), else in the system
    # message.
    context_in_user_turn: bool = False
    # A router tool's result opens the answer ("According to calculate: 50."), and the model goes on
    # from there: a small model otherwise often ignores the result it was given.
    answer_opens_with_tool_result: bool = False


# Measured with benchmarks/quality_eval.py (README, "Answer quality"): on SmolLM2-135M the qa/chat
# templates lowered accuracy, and the prompted <think> format was copied back instead of followed.
SMOLLM2 = PromptProfile("smollm2", context_in_user_turn=True, answer_opens_with_tool_result=True)
# Families with a native thinking mode and tool calls: their own templates, context in the system.
QWEN3 = PromptProfile("qwen3")
GLM4 = PromptProfile("glm4")
GENERIC = PromptProfile("generic")

# (substring of the model's name or source, profile), first match wins.
FAMILY_PROFILES: tuple[tuple[str, PromptProfile], ...] = (
    ("smollm", SMOLLM2),
    ("qwen", QWEN3),
    ("glm", GLM4),
)


def profile_for(
    info: ModelInfo, profiles: Sequence[tuple[str, PromptProfile]] = FAMILY_PROFILES
) -> PromptProfile:
    """The profile of a model, by its name or source (path or hub id); GENERIC when none matches."""
    key = f"{info.name} {info.source}".lower()
    for needle, profile in profiles:
        if needle in key:
            return profile
    return GENERIC


def thinking_mode(requested: bool, info: ModelInfo, profile: PromptProfile) -> ThinkingMode:
    """How a request's thinking is served on this model."""
    if not requested:
        return "off"
    if info.supports_thinking:
        return "native"
    return "prompted" if profile.thinking_without_native == "prompted" else "unsupported"
