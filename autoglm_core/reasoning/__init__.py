"""Thinking mode: split streamed output into reasoning and content, and prompt non-thinking models
to reason in the same `<think>...</think>` layout."""

from autoglm_core.reasoning.prompted import COT_SYSTEM_PROMPT, add_cot_instruction
from autoglm_core.reasoning.think_parser import (
    CONTENT,
    REASONING,
    Piece,
    PieceKind,
    ThinkingStreamParser,
    prompt_opens_reasoning,
    split_reasoning_steps,
)

__all__ = [
    "CONTENT",
    "COT_SYSTEM_PROMPT",
    "REASONING",
    "Piece",
    "PieceKind",
    "ThinkingStreamParser",
    "add_cot_instruction",
    "prompt_opens_reasoning",
    "split_reasoning_steps",
]
