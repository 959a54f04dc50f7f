"""OpenAI request fields -> the engine's GenerationParams, shared by every generating route.

The engine checks the values (ranges, stop strings, priorities) exactly as it does for gRPC; here
only what OpenAI names differently is translated, and what we cannot honour is refused with a 400
naming the field rather than ignored.

Our extensions (documented in README.md), sent by the SDKs through `extra_body`:
`enable_thinking`, `thinking_budget`, `priority`, `session_id`, `allowed_tools` (server tools the
agent loop may run), `top_k`, `min_tokens`, `repetition_penalty`, `time_limit_ms`, `prompt_template`.
`chat_template_kwargs: {"enable_thinking": true}` (vLLM's spelling) and `reasoning_effort` (low,
medium, high) turn thinking on as well.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from autoglm_core.errors import FieldViolation, InvalidArgument
from autoglm_core.generation.types import GenerationParams

_NO_THINKING_EFFORTS = ("none", "minimal")


class SamplingFields(BaseModel):
    """The request fields every generating route shares."""

    # Unknown fields are accepted and ignored, as the SDKs add new optional ones often; the fields
    # that would change the output and that we cannot honour are named below and refused.
    model_config = ConfigDict(extra="allow")

    model: str = ""
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    user: str | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    reasoning_effort: str | None = None
    # Extensions.
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    priority: int | None = None
    session_id: str = ""
    allowed_tools: list[str] = []
    top_k: int | None = None
    min_tokens: int | None = None
    repetition_penalty: float | None = None
    time_limit_ms: int | None = None
    prompt_template: str = ""

    def thinking(self) -> bool:
        if self.enable_thinking is not None:
            return self.enable_thinking
        kwargs = self.chat_template_kwargs or {}
        for key in ("enable_thinking", "thinking"):
            if key in kwargs:
                return bool(kwargs[key])
        return self.reasoning_effort is not None and self.reasoning_effort not in _NO_THINKING_EFFORTS


def _refusals(fields: SamplingFields, max_choices: int) -> list[FieldViolation]:
    bad = []
    n = fields.n if fields.n is not None else 1
    if max_choices == 1 and n != 1:
        bad.append(FieldViolation("n", "only n=1 is supported here: send the request n times"))
    elif not 1 <= n <= max_choices:
        bad.append(FieldViolation("n", f"must be from 1 to {max_choices}"))
    elif n > 1 and fields.session_id:
        bad.append(FieldViolation("n", "n > 1 cannot be combined with session_id (one turn per session)"))
    for name in ("presence_penalty", "frequency_penalty"):
        if getattr(fields, name):
            bad.append(FieldViolation(name, "is not supported; use repetition_penalty (an extension)"))
    if fields.logit_bias:
        bad.append(FieldViolation("logit_bias", "is not supported"))
    return bad


def build_params(
    fields: SamplingFields,
    *,
    user_id: str,
    request_id: str,
    max_tokens: int | None,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | None = None,
    want_logprobs: bool = False,
    max_choices: int = 1,
) -> GenerationParams:
    """GenerationParams for a request; raises InvalidArgument for fields we cannot honour.
    `max_choices`: the largest `n` the route serves."""
    refused = _refusals(fields, max_choices)
    if refused:
        raise InvalidArgument(refused)
    stop = [fields.stop] if isinstance(fields.stop, str) else list(fields.stop or [])
    return GenerationParams(
        prompt=prompt,
        messages=messages,
        model=fields.model,
        temperature=fields.temperature,
        top_p=fields.top_p,
        top_k=fields.top_k,
        max_new_tokens=max_tokens,
        min_new_tokens=fields.min_tokens,
        stop=stop,
        seed=fields.seed,
        repetition_penalty=fields.repetition_penalty,
        thinking=fields.thinking(),
        thinking_budget=fields.thinking_budget,
        allowed_tools=list(fields.allowed_tools),
        session_id=fields.session_id,
        priority=fields.priority if fields.priority is not None else 5,
        want_logprobs=want_logprobs,
        time_limit_s=fields.time_limit_ms / 1000 if fields.time_limit_ms is not None else None,
        prompt_template=fields.prompt_template,
        request_id=request_id,
        user_id=user_id,
    )


def created_now() -> int:
    return int(time.time())
