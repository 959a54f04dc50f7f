"""Checks of request values that do not depend on the model. Every violation is reported at once."""

from __future__ import annotations

import math
from typing import Any

from autoglm_core.errors import FieldViolation, InvalidArgument
from autoglm_core.generation.types import GenerationParams

MAX_PROMPT_CHARS = 1_000_000
MAX_STOP_SEQUENCES = 16
MAX_STOP_CHARS = 256
MAX_PRIORITY = 9
MAX_SEED = 2**63 - 1
# OpenAI's limit for top_logprobs.
MAX_TOP_LOGPROBS = 20


def _bad_float(value: float | None, low: float, high: float, low_open: bool = False) -> bool:
    if value is None:
        return False
    if math.isnan(value) or math.isinf(value):
        return True
    return value < low or value > high or (low_open and value == low)


def check_params(params: GenerationParams) -> None:
    """Raises InvalidArgument listing every bad field of params."""
    v: list[FieldViolation] = []

    def bad(field: str, description: str) -> None:
        v.append(FieldViolation(field, description))

    if params.prompt is None and not params.messages:
        bad("prompt", "either a prompt or a conversation with at least one message is required")
    if params.prompt is not None and not params.prompt.strip():
        bad("prompt", "must not be empty")
    total_chars = len(params.prompt or "") + sum(
        len(str(m.get("content", ""))) for m in params.messages or []
    )
    if total_chars > MAX_PROMPT_CHARS:
        bad("prompt", f"input is {total_chars} characters; the limit is {MAX_PROMPT_CHARS}")
    for i, message in enumerate(params.messages or []):
        if message.get("role") not in ("system", "user", "assistant", "tool"):
            bad(f"conversation.messages[{i}].role", "must be system, user, assistant or tool")
    if _bad_float(params.temperature, 0.0, 100.0):
        bad("sampling.temperature", "must be a finite number between 0 and 100")
    if _bad_float(params.top_p, 0.0, 1.0, low_open=True):
        bad("sampling.top_p", "must be in (0, 1]")
    if params.top_k is not None and params.top_k < 0:
        bad("sampling.top_k", "must be >= 0")
    if params.max_new_tokens is not None and params.max_new_tokens < 1:
        bad("sampling.max_new_tokens", "must be >= 1")
    if params.min_new_tokens is not None and params.min_new_tokens < 0:
        bad("sampling.min_new_tokens", "must be >= 0")
    if params.min_new_tokens and params.max_new_tokens and params.min_new_tokens > params.max_new_tokens:
        bad("sampling.min_new_tokens", f"must not exceed max_new_tokens ({params.max_new_tokens})")
    if _bad_float(params.repetition_penalty, 0.0, 10.0, low_open=True):
        bad("sampling.repetition_penalty", "must be in (0, 10]")
    if not 0 <= params.top_logprobs <= MAX_TOP_LOGPROBS:
        bad("response.top_logprobs", f"must be between 0 and {MAX_TOP_LOGPROBS}")
    if params.seed is not None and not 0 <= params.seed <= MAX_SEED:
        bad("sampling.seed", f"must be between 0 and {MAX_SEED}")
    if len(params.stop) > MAX_STOP_SEQUENCES:
        bad("sampling.stop", f"at most {MAX_STOP_SEQUENCES} stop sequences")
    for i, stop in enumerate(params.stop):
        if not stop or len(stop) > MAX_STOP_CHARS:
            bad(f"sampling.stop[{i}]", f"must be 1 to {MAX_STOP_CHARS} characters")
    if not 0 <= params.priority <= MAX_PRIORITY:
        bad("priority", f"must be between 0 and {MAX_PRIORITY}")
    if params.thinking_budget is not None and params.thinking_budget < 1:
        bad("thinking.budget_tokens", "must be >= 1")
    if params.time_limit_s is not None and params.time_limit_s <= 0:
        bad("time_limit_ms", "must be > 0")
    if v:
        raise InvalidArgument(v)


def check_against_model(params: GenerationParams, prompt_tokens: int, context_length: int) -> None:
    """Checks that need the model: the prompt and the requested output must fit its context."""
    if prompt_tokens >= context_length:
        raise InvalidArgument.one(
            "prompt", f"prompt is {prompt_tokens} tokens; the model's context is {context_length}"
        )
    if params.max_new_tokens is not None and prompt_tokens + params.max_new_tokens > context_length:
        raise InvalidArgument.one(
            "sampling.max_new_tokens",
            f"{params.max_new_tokens} new tokens after a {prompt_tokens}-token prompt exceed the "
            f"model's context of {context_length}",
        )


def check_tokenize_input(text: str | None, messages: list[dict[str, Any]] | None) -> None:
    """Tokenize takes what Generate takes: refused at once when larger, before any tokenizing."""
    total = len(text or "") + sum(len(str(m.get("content", ""))) for m in messages or [])
    if total > MAX_PROMPT_CHARS:
        field = "text" if text is not None else "conversation"
        raise InvalidArgument.one(field, f"input is {total} characters; the limit is {MAX_PROMPT_CHARS}")
