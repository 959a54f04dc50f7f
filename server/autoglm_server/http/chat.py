"""POST /v1/chat/completions: one engine generation per choice, unary or as server-sent events.

`n` choices are n generations of the same prompt started together, so the runtime decodes them as
sequences of one batch; with a `seed`, choice i samples with seed + i (the same request, the same
choices). Usage counts the prompt once and every choice's completion tokens.

The reasoning comes in both `reasoning_content` (DeepSeek's and vLLM's name) and `reasoning`
(OpenRouter's), so clients find it whichever they read. Client tools (`tools`) are shown to the
model; a call to one ends the generation with finish_reason "tool_calls" for the client to run.
Server tools (`allowed_tools`, an extension) run in the engine's agent loop and are reported in
`server_tool_calls`.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from autoglm_core.errors import InvalidArgument
from autoglm_core.generation import types
from autoglm_server.auth import Caller
from autoglm_server.http import streaming
from autoglm_server.http.auth import CallerDep, context_of
from autoglm_server.http.errors import describe, error_response
from autoglm_server.http.formats import CHAT_RENAMES, chat_response_format
from autoglm_server.http.messages import chat_messages, function_tools, tool_choice
from autoglm_server.http.params import SamplingFields, build_params, created_now

router = APIRouter()
RENAMES = {
    "prompt": "messages",
    "conversation.messages": "messages",
    "response.top_logprobs": "top_logprobs",
    **CHAT_RENAMES,
}
# Choices per request: each is a sequence in the batch and takes a place in the queue.
MAX_CHOICES = 16


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(SamplingFields):
    messages: list[Any]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = None


def _params(body: ChatRequest, who: Caller, request_id: str) -> types.GenerationParams:
    if body.top_logprobs and not body.logprobs:
        raise InvalidArgument.one("top_logprobs", "needs logprobs: true")
    params = build_params(
        body,
        user_id=who.user_id,
        request_id=request_id,
        max_tokens=body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens,
        messages=chat_messages(body.messages),
        want_logprobs=bool(body.logprobs),
        max_choices=MAX_CHOICES,
    )
    params.client_tools = function_tools(body.tools)
    params.tool_choice = tool_choice(body.tool_choice)
    params.parallel_tool_calls = body.parallel_tool_calls is not False
    params.response_format = chat_response_format(body.response_format)
    params.top_logprobs = body.top_logprobs or 0
    return params


def _choices(params: types.GenerationParams, n: int) -> list[types.GenerationParams]:
    """One generation per choice; a seeded request seeds choice i with seed + i."""
    if n == 1:
        return [params]
    return [
        dataclasses.replace(
            params,
            request_id=f"{params.request_id}-{i}",
            seed=None if params.seed is None else params.seed + i,
        )
        for i in range(n)
    ]


Entry = tuple[int, str, float]


def _token(entry: Entry) -> dict[str, Any]:
    _, text, logprob = entry
    # A token that is part of a character has no text of its own (U+FFFD): then no bytes either.
    return {"token": text, "logprob": logprob, "bytes": None if "\ufffd" in text else list(text.encode())}


def _logprobs(entries: Sequence[Entry], top: Sequence[Sequence[Entry]]) -> dict[str, Any]:
    """OpenAI's logprobs object; `top` (per entry, may be empty) fills each token's top_logprobs."""
    content = []
    for i, entry in enumerate(entries):
        alternatives = top[i] if i < len(top) else ()
        content.append({**_token(entry), "top_logprobs": [_token(a) for a in alternatives]})
    return {"content": content}


class _Chunks:
    """Builds the chat.completion.chunk objects of one stream (of one or more choices)."""

    def __init__(self, request_id: str, model: str, logprobs: bool, client_tools: frozenset[str]) -> None:
        self.head = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion.chunk",
            "created": created_now(),
        }
        self.model = model
        self.logprobs = logprobs
        self.client_tools = client_tools
        self.calls: dict[int, int] = {}  # client tool calls so far, per choice

    def chunk(self, delta: dict[str, Any], finish: str | None = None, index: int = 0, **extra: Any) -> bytes:
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish, **extra}
        return streaming.sse({**self.head, "model": self.model, "choices": [choice]})

    def of(self, event: types.GenerationEvent, index: int) -> bytes | None:
        if isinstance(event, types.ContentDelta):
            if self.logprobs:
                return self.chunk(
                    {"content": event.text},
                    index=index,
                    logprobs=_logprobs(event.logprobs, event.top_logprobs),
                )
            return self.chunk({"content": event.text}, index=index) if event.text else None
        if isinstance(event, types.ReasoningDelta):
            return self.chunk({"reasoning_content": event.text, "reasoning": event.text}, index=index)
        if isinstance(event, types.ToolCallStarted):
            if event.name not in self.client_tools:
                return None
            calls = self.calls[index] = self.calls.get(index, 0) + 1
            return self.chunk({"tool_calls": [streaming.client_call(event, calls - 1)]}, index=index)
        if isinstance(event, types.ToolCallFinished):
            return self.chunk({"server_tool_calls": [streaming.server_call(event.call)]}, index=index)
        return None

    def finish(self, finished: types.Finished, index: int) -> bytes:
        self.model = finished.model_name
        return self.chunk({}, streaming.finish_reason(finished, self.calls.get(index, 0)), index=index)

    def usage(self, finished: list[types.Finished]) -> bytes:
        return streaming.sse({**self.head, "model": self.model, "choices": [], "usage": _usage(finished)})


async def _sse(
    firsts: list[types.GenerationEvent], streams: list[streaming.Events], chunks: _Chunks, include_usage: bool
) -> AsyncIterator[bytes]:
    for index in range(len(streams)):
        yield chunks.chunk({"role": "assistant", "content": ""}, index=index)
    finished: list[types.Finished] = []
    # aclosing: a disconnect cancels this iterator, which closes the engine streams and the backend's.
    async with aclosing(streaming.merged(firsts, streams)) as events:
        try:
            async for index, event in events:
                if isinstance(event, types.Finished):
                    finished.append(event)
                    yield chunks.finish(event, index)
                    continue
                piece = chunks.of(event, index)
                if piece is not None:
                    yield piece
        except Exception as error:  # the status line is sent: the error goes in the stream
            yield streaming.sse(describe(error, RENAMES)[1])
            return
    if include_usage:
        yield chunks.usage(finished)
    yield streaming.DONE


def _usage(finished: list[types.Finished]) -> dict[str, Any]:
    """Usage of all choices: the prompt once, the completions added up."""
    usage = streaming.usage_of(finished[0])
    for other in finished[1:]:
        more = streaming.usage_of(other)
        usage["completion_tokens"] += more["completion_tokens"]
        usage["total_tokens"] += more["completion_tokens"]
        usage["completion_tokens_details"]["reasoning_tokens"] += more["completion_tokens_details"][
            "reasoning_tokens"
        ]
    return usage


def _choice(index: int, outcome: streaming.Outcome, logprobs: bool) -> dict[str, Any]:
    finished = outcome.finished
    assert finished is not None
    reasoning = "".join(outcome.reasoning).strip() or None
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(outcome.text).strip(),
        "reasoning_content": reasoning,
        "reasoning": reasoning,
    }
    if outcome.client_calls:
        message["tool_calls"] = [streaming.client_call(c) for c in outcome.client_calls]
    if outcome.server_calls:
        message["server_tool_calls"] = [streaming.server_call(c) for c in outcome.server_calls]
    return {
        "index": index,
        "message": message,
        "finish_reason": streaming.finish_reason(finished, len(outcome.client_calls)),
        "logprobs": _logprobs(outcome.logprobs, outcome.top_logprobs) if logprobs else None,
    }


def _completion(request_id: str, outcomes: list[streaming.Outcome], logprobs: bool) -> dict[str, Any]:
    finished = [outcome.finished for outcome in outcomes if outcome.finished is not None]
    model = finished[0]
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": created_now(),
        "model": model.model_name,
        "system_fingerprint": f"{model.model_name}@{model.model_version}",
        "choices": [_choice(i, outcome, logprobs) for i, outcome in enumerate(outcomes)],
        "usage": _usage(finished),
    }


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    body: ChatRequest, request: Request, who: CallerDep
) -> JSONResponse | StreamingResponse:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    try:
        params = _params(body, who, request_id)
        engine = context_of(request).engine
        streams = [engine.stream(choice) for choice in _choices(params, body.n or 1)]
        firsts = await streaming.first_events(request, streams)
    except Exception as error:
        return _error(error, body)
    client_tools = frozenset(t["function"]["name"] for t in params.client_tools)
    headers = {"x-request-id": request_id}
    if body.stream:
        chunks = _Chunks(request_id, body.model, bool(body.logprobs), client_tools)
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        stream = _sse(firsts, streams, chunks, include_usage)
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
    collecting = [
        streaming.Outcome(client_tools).collect(first, events)
        for first, events in zip(firsts, streams, strict=True)
    ]
    try:
        outcomes = await streaming.until_disconnected(request, streaming.all_of(collecting))
    except Exception as error:
        return _error(error, body)
    return JSONResponse(_completion(request_id, outcomes, bool(body.logprobs)), headers=headers)


def _error(error: Exception, body: ChatRequest) -> JSONResponse:
    renames = dict(RENAMES)
    if body.max_completion_tokens is not None:
        renames["sampling.max_new_tokens"] = "max_completion_tokens"
    return error_response(error, renames)
