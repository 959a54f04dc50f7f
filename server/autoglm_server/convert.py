"""Protobuf <-> engine types. The only module that knows both sides of the generation contract."""

from __future__ import annotations

import json
import time
from typing import Any

from autoglm.v1 import common_pb2, generation_pb2
from autoglm_core.errors import InvalidArgument
from autoglm_core.generation import types
from autoglm_core.structured.formats import FormatKind, GrammarSyntax, ResponseFormat

_ROLES = {
    common_pb2.ROLE_SYSTEM: "system",
    common_pb2.ROLE_USER: "user",
    common_pb2.ROLE_ASSISTANT: "assistant",
    common_pb2.ROLE_TOOL: "tool",
}
_FINISH = {
    types.FinishReason.EOS: common_pb2.FINISH_REASON_EOS,
    types.FinishReason.LENGTH: common_pb2.FINISH_REASON_LENGTH,
    types.FinishReason.STOP_SEQUENCE: common_pb2.FINISH_REASON_STOP_SEQUENCE,
    types.FinishReason.TIME_LIMIT: common_pb2.FINISH_REASON_TIME_LIMIT,
    types.FinishReason.CANCELLED: common_pb2.FINISH_REASON_CANCELLED,
    types.FinishReason.TOOL_CALLS: common_pb2.FINISH_REASON_TOOL_CALLS,
}


def messages_from_proto(conversation: common_pb2.Conversation) -> list[dict[str, Any]]:
    messages = []
    for i, m in enumerate(conversation.messages):
        if m.role not in _ROLES:
            raise InvalidArgument.one(f"conversation.messages[{i}].role", "must be set")
        message: dict[str, Any] = {"role": _ROLES[m.role], "content": m.content}
        if m.name:
            message["name"] = m.name
        if m.tool_call_id:
            message["tool_call_id"] = m.tool_call_id
        messages.append(message)
    return messages


def params_from_proto(
    given: generation_pb2.GenerationInput, request_id: str, time_remaining: float | None
) -> types.GenerationParams:
    """GenerationParams for a GenerationInput; field errors are relative to GenerationInput."""
    kind = given.WhichOneof("input")
    if kind is None:
        raise InvalidArgument.one("prompt", "either prompt or conversation must be set")
    s = given.sampling
    return types.GenerationParams(
        prompt=given.prompt if kind == "prompt" else None,
        messages=messages_from_proto(given.conversation) if kind == "conversation" else None,
        model=given.model,
        adapter=given.adapter,
        temperature=s.temperature if s.HasField("temperature") else None,
        top_p=s.top_p if s.HasField("top_p") else None,
        top_k=s.top_k if s.HasField("top_k") else None,
        max_new_tokens=s.max_new_tokens if s.HasField("max_new_tokens") else None,
        min_new_tokens=s.min_new_tokens if s.HasField("min_new_tokens") else None,
        stop=list(s.stop),
        seed=s.seed if s.HasField("seed") else None,
        repetition_penalty=s.repetition_penalty if s.HasField("repetition_penalty") else None,
        thinking=given.thinking.enabled,
        thinking_budget=(given.thinking.budget_tokens if given.thinking.HasField("budget_tokens") else None),
        allowed_tools=list(given.allowed_tools),
        session_id=given.session_id,
        priority=given.priority if given.HasField("priority") else 5,
        want_logprobs=given.response.include_logprobs,
        top_logprobs=given.response.top_logprobs,
        time_limit_s=given.time_limit_ms / 1000 if given.HasField("time_limit_ms") else None,
        prompt_template=given.prompt_template,
        response_format=response_format_from_proto(given.response_format),
        cache=given.cache.enabled if given.cache.HasField("enabled") else True,
        cache_public=given.cache.public,
        request_id=request_id,
        deadline=time.monotonic() + time_remaining if time_remaining is not None else None,
    )


def response_format_from_proto(given: generation_pb2.ResponseFormat) -> ResponseFormat | None:
    """The engine's ResponseFormat; field errors are relative to GenerationInput."""
    kind = given.WhichOneof("format")
    if kind is None or kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat(FormatKind.JSON_OBJECT)
    if kind == "json_schema":
        strict = given.json_schema.strict if given.json_schema.HasField("strict") else True
        try:
            return ResponseFormat.json_schema(given.json_schema.schema, strict=strict)
        except InvalidArgument as error:
            bad = error.violations[0]
            raise InvalidArgument.one(f"response_format.{bad.field}", bad.description) from None
    if kind == "regex":
        return ResponseFormat(FormatKind.REGEX, pattern=given.regex.pattern)
    if kind == "choice":
        return ResponseFormat(FormatKind.CHOICE, choices=tuple(given.choice.choices))
    syntax = (
        GrammarSyntax.GBNF
        if given.grammar.syntax == generation_pb2.GRAMMAR_SYNTAX_GBNF
        else GrammarSyntax.LARK
    )
    return ResponseFormat(FormatKind.GRAMMAR, grammar=given.grammar.text, syntax=syntax)


def tool_call_to_proto(call: types.ToolCallRecord) -> common_pb2.ToolCall:
    return common_pb2.ToolCall(
        id=call.id,
        name=call.name,
        arguments_json=json.dumps(call.arguments, ensure_ascii=False),
        result_json="" if call.error else json.dumps(call.result, ensure_ascii=False, default=str),
        error=call.error,
        duration_ms=call.duration_ms,
    )


def _logprobs(entries: Any, top: Any) -> list[generation_pb2.TokenLogprob]:
    """TokenLogprobs of the chosen tokens; `top` holds each one's alternatives (empty when not asked)."""
    out = []
    for n, (i, t, lp) in enumerate(entries):
        alternatives = top[n] if n < len(top) else ()
        listed = [generation_pb2.TopLogprob(token_id=a, token=b, logprob=c) for a, b, c in alternatives]
        out.append(generation_pb2.TokenLogprob(token_id=i, token=t, logprob=lp, top_logprobs=listed))
    return out


def finished_to_proto(finished: types.Finished) -> generation_pb2.StreamFinished:
    u, t = finished.usage, finished.timings
    return generation_pb2.StreamFinished(
        finish_reason=_FINISH[finished.finish_reason],
        stop_sequence=finished.stop_sequence,
        usage=common_pb2.Usage(
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            reasoning_tokens=u.reasoning_tokens,
            cached_tokens=u.cached_tokens,
            cached_completion_tokens=u.cached_completion_tokens,
        ),
        model=common_pb2.ModelRef(name=finished.model_name, version=finished.model_version),
        timings=common_pb2.Timings(
            queue_ms=t.queue_ms, time_to_first_token_ms=t.time_to_first_token_ms, total_ms=t.total_ms
        ),
        seed=finished.seed,
        prompt_template=finished.prompt_template,
        incomplete=finished.incomplete,
        thinking_mode=_THINKING_MODES[finished.thinking],
    )


_THINKING_MODES = {
    "off": generation_pb2.THINKING_MODE_OFF,
    "native": generation_pb2.THINKING_MODE_NATIVE,
    "prompted": generation_pb2.THINKING_MODE_PROMPTED,
    "unsupported": generation_pb2.THINKING_MODE_UNSUPPORTED,
}


def result_to_proto(result: types.GenerationResult) -> generation_pb2.GenerateResponse:
    f = finished_to_proto(result.finished)
    return generation_pb2.GenerateResponse(
        request_id=result.request_id,
        text=result.text,
        reasoning=result.reasoning,
        reasoning_steps=result.reasoning_steps,
        tool_calls=[tool_call_to_proto(c) for c in result.tool_calls],
        finish_reason=f.finish_reason,
        stop_sequence=f.stop_sequence,
        usage=f.usage,
        model=f.model,
        timings=f.timings,
        seed=f.seed,
        logprobs=_logprobs(result.logprobs, result.top_logprobs),
        prompt_template=f.prompt_template,
        incomplete=f.incomplete,
        thinking_mode=f.thinking_mode,
    )


def event_to_proto(request_id: str, event: types.GenerationEvent) -> generation_pb2.GenerateStreamResponse:
    out = generation_pb2.GenerateStreamResponse(request_id=request_id)
    if isinstance(event, types.ContentDelta):
        out.content_delta.text = event.text
        out.content_delta.logprobs.extend(_logprobs(event.logprobs, event.top_logprobs))
    elif isinstance(event, types.ReasoningDelta):
        out.reasoning_delta.text = event.text
    elif isinstance(event, types.ToolCallStarted):
        out.tool_call_started.id = event.id
        out.tool_call_started.name = event.name
        out.tool_call_started.arguments_json = json.dumps(event.arguments, ensure_ascii=False)
    elif isinstance(event, types.ToolCallFinished):
        out.tool_call_finished.call.CopyFrom(tool_call_to_proto(event.call))
    else:
        out.finished.CopyFrom(finished_to_proto(event))
    return out
