"""What the engine asks of structured output around one turn: which reasoning mode, and whether the
turn's tokens make a complete document."""

from __future__ import annotations

from collections.abc import Sequence

from autoglm_core.structured.compiler import CompiledFormat
from autoglm_core.structured.constraint import ReasoningMode


def reasoning_mode(*, starts_in_reasoning: bool, thinking: bool, reasoned_before: bool) -> ReasoningMode:
    """ "open" when the prompt opened a reasoning block; "optional" when the model may still open one
    (thinking asked, nothing reasoned yet); else the document starts at once."""
    if starts_in_reasoning:
        return "open"
    return "optional" if thinking and not reasoned_before else "none"


def document_complete(compiled: CompiledFormat, mode: ReasoningMode, token_ids: Sequence[int]) -> bool:
    """Whether the turn's tokens form a whole document, replayed on a fresh constraint: the answer is
    the same whether or not the runtime drove the request's own constraint."""
    check = compiled.constraint(mode)
    for token_id in token_ids:
        check.accept(token_id)
    return check.is_complete()
