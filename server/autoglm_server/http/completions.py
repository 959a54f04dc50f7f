"""POST /v1/completions (the legacy text API): the prompt is one user turn of the model's chat
template, as GenerationService's `prompt` is; unary or as server-sent events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from autoglm_core.errors import FieldViolation, InvalidArgument
from autoglm_core.generation import types
from autoglm_server.http import streaming
from autoglm_server.http.auth import CallerDep, context_of
from autoglm_server.http.chat import StreamOptions
from autoglm_server.http.errors import describe, error_response
from autoglm_server.http.params import SamplingFields, build_params, created_now

router = APIRouter()
RENAMES = {"prompt": "prompt"}


class CompletionRequest(SamplingFields):
    prompt: str | list[str]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    logprobs: int | None = None
    echo: bool | None = None
    suffix: str | None = None
    best_of: int | None = None


def _prompt(body: CompletionRequest) -> str:
    bad = []
    if isinstance(body.prompt, list) and len(body.prompt) != 1:
        bad.append(FieldViolation("prompt", "one prompt per request (a list of exactly one string)"))
    if body.echo:
        bad.append(FieldViolation("echo", "is not supported"))
    if body.suffix:
        bad.append(FieldViolation("suffix", "is not supported"))
    if body.best_of not in (None, 1):
        bad.append(FieldViolation("best_of", "only 1 is supported"))
    if body.logprobs:
        bad.append(FieldViolation("logprobs", "only the chosen token's logprob is available: use 0"))
    if bad:
        raise InvalidArgument(bad)
    return body.prompt if isinstance(body.prompt, str) else body.prompt[0]


def _logprobs(entries: list[tuple[int, str, float]] | tuple[tuple[int, str, float], ...]) -> dict[str, Any]:
    offsets, at = [], 0
    for _, text, _lp in entries:
        offsets.append(at)
        at += len(text)
    return {
        "tokens": [text for _, text, _ in entries],
        "token_logprobs": [lp for _, _, lp in entries],
        "top_logprobs": None,
        "text_offset": offsets,
    }


def _choice(text: str, finish: str | None, logprobs: dict[str, Any] | None) -> dict[str, Any]:
    return {"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}


async def _sse(
    head: dict[str, Any], first: types.GenerationEvent, events: streaming.Events, logprobs: bool, usage: bool
) -> AsyncIterator[bytes]:
    async with aclosing(events):
        event: types.GenerationEvent | None = first
        try:
            while event is not None:
                if isinstance(event, types.ContentDelta) and (event.text or logprobs):
                    lp = _logprobs(event.logprobs) if logprobs else None
                    yield streaming.sse({**head, "choices": [_choice(event.text, None, lp)]})
                elif isinstance(event, types.Finished):
                    end = {**head, "model": event.model_name}
                    yield streaming.sse(
                        {**end, "choices": [_choice("", streaming.finish_reason(event, 0), None)]}
                    )
                    if usage:
                        yield streaming.sse({**end, "choices": [], "usage": streaming.usage_of(event)})
                    yield streaming.DONE
                    return
                event = await anext(events, None)
        except Exception as error:  # the status line is sent: the error goes in the stream
            yield streaming.sse(describe(error, RENAMES)[1])


@router.post("/v1/completions", response_model=None)
async def completions(
    body: CompletionRequest, request: Request, who: CallerDep
) -> JSONResponse | StreamingResponse:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    want_logprobs = body.logprobs is not None
    try:
        params = build_params(
            body,
            user_id=who.user_id,
            request_id=request_id,
            max_tokens=body.max_tokens,
            prompt=_prompt(body),
            want_logprobs=want_logprobs,
        )
        events = context_of(request).engine.stream(params)
        first = await streaming.first_event(request, events)
        head = {
            "id": f"cmpl-{request_id}",
            "object": "text_completion",
            "created": created_now(),
            "model": body.model,
        }
        headers = {"x-request-id": request_id}
        if body.stream:
            usage = body.stream_options is not None and body.stream_options.include_usage
            stream = _sse(head, first, events, want_logprobs, usage)
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
        outcome = await streaming.until_disconnected(request, streaming.Outcome().collect(first, events))
    except Exception as error:
        return error_response(error, RENAMES)
    finished = outcome.finished
    assert finished is not None
    lp = _logprobs(outcome.logprobs) if want_logprobs else None
    choice = _choice("".join(outcome.text).strip(), streaming.finish_reason(finished, 0), lp)
    reply = {**head, "model": finished.model_name, "choices": [choice], "usage": streaming.usage_of(finished)}
    return JSONResponse(reply, headers=headers)
