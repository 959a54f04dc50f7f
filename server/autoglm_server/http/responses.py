"""POST /v1/responses (OpenAI's Responses API), GET/DELETE /v1/responses/{id}, and cancel.

A response continues another with `previous_response_id`: the stored conversation of that response
(its input and output) comes first, then this request's input. Responses are stored per user in the
server's database (unless `store` is false) for `response_retention_days`; another user's id is not
found. `instructions` apply to one request only, as OpenAI defines them. Function tools are the
client's (a call ends the response with a function_call item); `allowed_tools` (an extension) names
server tools that run in the agent loop. Cancel stops a response that is being generated (it is
checked between events, so a queued one stops once it starts).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.generation import types
from autoglm_server.auth import Caller
from autoglm_server.http import streaming
from autoglm_server.http.auth import CallerDep, context_of
from autoglm_server.http.context import ApiContext
from autoglm_server.http.errors import describe, error_response
from autoglm_server.http.formats import RESPONSES_RENAMES, responses_text_format
from autoglm_server.http.messages import chat_messages, tool_choice
from autoglm_server.http.params import SamplingFields, build_params, created_now

router = APIRouter()
RENAMES = {
    "prompt": "input",
    "conversation.messages": "input",
    "sampling.max_new_tokens": "max_output_tokens",
    **RESPONSES_RENAMES,
}


class ResponsesRequest(SamplingFields):
    input: str | list[Any]
    instructions: str | None = None
    previous_response_id: str | None = None
    store: bool = True
    stream: bool = False
    background: bool | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = None
    reasoning: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


def _input_messages(given: str | list[Any]) -> list[dict[str, Any]]:
    """Responses input items -> chat messages (function calls and their outputs included)."""
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    out: list[dict[str, Any]] = []
    for i, item in enumerate(given):
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind == "message":
            out.append({"role": item.get("role"), "content": item.get("content")})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments")},
            }
            if out and out[-1]["role"] == "assistant" and out[-1].get("tool_calls"):
                out[-1]["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
            out.append({"role": "tool", "content": text, "tool_call_id": item.get("call_id")})
        elif kind != "reasoning":  # our own reasoning items may come back: the model need not see them
            raise InvalidArgument.one(f"input[{i}].type", f"unsupported input item {kind!r}")
    return out


def _function_tools(tools: list[Any] | None) -> list[dict[str, Any]]:
    """Responses tools are flat (`{"type": "function", "name": ...}`): -> chat-completions shape."""
    out = []
    for i, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or tool.get("type") != "function" or not tool.get("name"):
            raise InvalidArgument.one(
                f"tools[{i}]", "only function tools ({'type': 'function', 'name': ...})"
            )
        function = {k: tool[k] for k in ("name", "description", "parameters") if tool.get(k) is not None}
        out.append({"type": "function", "function": function})
    return out


@dataclass
class _Item:
    kind: str  # reasoning | message | function_call
    id: str
    text: list[str] = field(default_factory=list)
    call: types.ToolCallStarted | None = None

    def body(self, done: bool) -> dict[str, Any]:
        status = "completed" if done else "in_progress"
        text = "".join(self.text).strip() if done else ""
        if self.kind == "reasoning":
            content = [{"type": "reasoning_text", "text": text}] if done else []
            return {"type": "reasoning", "id": self.id, "summary": [], "content": content, "status": status}
        if self.kind == "message":
            parts = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if done else []
            return {"type": "message", "id": self.id, "role": "assistant", "status": status, "content": parts}
        assert self.call is not None
        arguments = json.dumps(self.call.arguments, ensure_ascii=False)
        return {
            "type": "function_call",
            "id": self.id,
            "call_id": self.call.id,
            "name": self.call.name,
            "arguments": arguments if done else "",
            "status": status,
        }


class _Builder:
    """Turns engine events into the response's output items and its stream events."""

    def __init__(self, response_id: str, body: ResponsesRequest, client_tools: frozenset[str]) -> None:
        self.id = response_id
        self.request = body
        self.client_tools = client_tools
        self.items: list[_Item] = []
        self.open: _Item | None = None
        self.sequence = 0
        self.server_calls: list[types.ToolCallRecord] = []
        self.status = "in_progress"
        self.finished: types.Finished | None = None
        self.created_at = created_now()

    def event(self, kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
        self.sequence += 1
        return kind, {"type": kind, "sequence_number": self.sequence - 1, **data}

    def feed(self, event: types.GenerationEvent) -> list[tuple[str, dict[str, Any]]]:
        if isinstance(event, types.ReasoningDelta):
            return self._text("reasoning", "response.reasoning_text.delta", event.text)
        if isinstance(event, types.ContentDelta):
            return self._text("message", "response.output_text.delta", event.text) if event.text else []
        if isinstance(event, types.ToolCallStarted) and event.name in self.client_tools:
            return self._call(event)
        if isinstance(event, types.ToolCallFinished):
            self.server_calls.append(event.call)
        if isinstance(event, types.Finished):
            self.finished = event
            return self._close()
        return []

    def _text(self, kind: str, delta_type: str, text: str) -> list[tuple[str, dict[str, Any]]]:
        out = []
        if self.open is None or self.open.kind != kind:
            out += self._close()
            out += self._add(
                _Item(kind, f"{'rs' if kind == 'reasoning' else 'msg'}_{len(self.items)}_{self.id}")
            )
        assert self.open is not None
        self.open.text.append(text)
        index = len(self.items) - 1
        out.append(
            self.event(delta_type, item_id=self.open.id, output_index=index, content_index=0, delta=text)
        )
        return out

    def _call(self, call: types.ToolCallStarted) -> list[tuple[str, dict[str, Any]]]:
        item = _Item("function_call", f"fc_{call.id}_{self.id}", call=call)
        out = [*self._close(), *self._add(item)]
        index = len(self.items) - 1
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        out.append(
            self.event(
                "response.function_call_arguments.delta", item_id=item.id, output_index=index, delta=arguments
            )
        )
        return [*out, *self._close()]

    def _add(self, item: _Item) -> list[tuple[str, dict[str, Any]]]:
        self.items.append(item)
        self.open = item
        index = len(self.items) - 1
        out = [self.event("response.output_item.added", output_index=index, item=item.body(done=False))]
        if item.kind == "message":
            part = {"type": "output_text", "text": "", "annotations": []}
            out.append(
                self.event(
                    "response.content_part.added",
                    item_id=item.id,
                    output_index=index,
                    content_index=0,
                    part=part,
                )
            )
        return out

    def _close(self) -> list[tuple[str, dict[str, Any]]]:
        item, self.open = self.open, None
        if item is None:
            return []
        index = self.items.index(item)
        done = item.body(done=True)
        where = {"item_id": item.id, "output_index": index}
        out = []
        if item.kind == "reasoning":
            out.append(
                self.event(
                    "response.reasoning_text.done", **where, content_index=0, text=done["content"][0]["text"]
                )
            )
        elif item.kind == "message":
            part = done["content"][0]
            out.append(
                self.event(
                    "response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[]
                )
            )
            out.append(self.event("response.content_part.done", **where, content_index=0, part=part))
        else:
            out.append(
                self.event(
                    "response.function_call_arguments.done",
                    **where,
                    name=done["name"],
                    arguments=done["arguments"],
                )
            )
        out.append(self.event("response.output_item.done", output_index=index, item=done))
        return out

    def cancel(self) -> list[tuple[str, dict[str, Any]]]:
        self.status = "cancelled"
        return self._close()

    def response(self) -> dict[str, Any]:
        """The response object as it stands (final once Finished was fed)."""
        body = self.request
        done = self.finished is not None and self.status == "in_progress"
        if done:
            assert self.finished is not None
            self.status = "incomplete" if self.finished.finish_reason in _INCOMPLETE else "completed"
        out: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": self.status,
            "model": self.finished.model_name if self.finished else body.model,
            "output": [item.body(done=item is not self.open) for item in self.items],
            "instructions": body.instructions,
            "previous_response_id": body.previous_response_id,
            "metadata": body.metadata or {},
            "parallel_tool_calls": body.parallel_tool_calls is not False,
            "tool_choice": body.tool_choice if body.tool_choice is not None else "auto",
            "tools": body.tools or [],
            "temperature": body.temperature,
            "top_p": body.top_p,
            "max_output_tokens": body.max_output_tokens,
            "store": body.store,
            "text": body.text or {"format": {"type": "text"}},
            "reasoning": body.reasoning,
            "error": None,
            "incomplete_details": _incomplete(self.finished) if self.status == "incomplete" else None,
            "usage": _usage(self.finished) if self.finished else None,
        }
        if self.server_calls:
            out["server_tool_calls"] = [streaming.server_call(c) for c in self.server_calls]
        return out

    def assistant_message(self) -> dict[str, Any]:
        """What a follow-up (previous_response_id) sees of this response."""
        text = "".join("".join(i.text) for i in self.items if i.kind == "message").strip()
        calls = [i.call for i in self.items if i.call is not None]
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in calls
            ]
        return message


_INCOMPLETE = (types.FinishReason.LENGTH, types.FinishReason.TIME_LIMIT)


def _incomplete(finished: types.Finished | None) -> dict[str, Any]:
    reason = (
        "max_output_tokens"
        if finished and finished.finish_reason is types.FinishReason.LENGTH
        else "time_limit"
    )
    return {"reason": reason}


def _usage(finished: types.Finished) -> dict[str, Any]:
    u = finished.usage
    return {
        "input_tokens": u.prompt_tokens,
        "output_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_tokens},
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


@dataclass
class _Run:
    """One response being generated: its conversation so far and its cancel flag."""

    api: ApiContext
    user_id: str
    builder: _Builder
    history: list[dict[str, Any]]
    cancel: asyncio.Event

    async def events(
        self, first: types.GenerationEvent, events: streaming.Events
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every stream event of the response, the final one included; stores it at the end."""
        b = self.builder
        yield b.event("response.created", response=b.response())
        yield b.event("response.in_progress", response=b.response())
        try:
            async with aclosing(events):
                event: types.GenerationEvent | None = first
                while event is not None:
                    for out in b.feed(event):
                        yield out
                    if isinstance(event, types.Finished):
                        break
                    if self.cancel.is_set():  # closing the engine stream stops the generation
                        for out in b.cancel():
                            yield out
                        break
                    event = await anext(events, None)
        finally:
            self.api.running.pop((self.user_id, b.id), None)
        final = b.response()
        if b.request.store:
            await self.api.responses.put(self.user_id, b.id, final, [*self.history, b.assistant_message()])
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        yield b.event(kind, response=final)


async def _sse(run: _Run, first: types.GenerationEvent, events: streaming.Events) -> AsyncIterator[bytes]:
    try:
        async for kind, data in run.events(first, events):
            yield streaming.sse(data, event=kind)
    except Exception as error:  # the status line is sent: the error goes in the stream
        _, body = describe(error, RENAMES)
        yield streaming.sse(
            {"type": "error", "sequence_number": run.builder.sequence, **body["error"]}, event="error"
        )


async def _collect(run: _Run, first: types.GenerationEvent, events: streaming.Events) -> dict[str, Any]:
    final: dict[str, Any] = {}
    async for kind, data in run.events(first, events):
        if kind.startswith(("response.completed", "response.incomplete")):
            final = data["response"]
    return final


async def _history(api: ApiContext, who: Caller, body: ResponsesRequest) -> list[dict[str, Any]]:
    """The stored conversation of previous_response_id, then this request's input."""
    before: list[dict[str, Any]] = []
    if body.previous_response_id:
        try:
            before = (await api.responses.get(who.user_id, body.previous_response_id)).messages
        except NotFound:
            raise InvalidArgument.one(
                "previous_response_id", f"no stored response {body.previous_response_id!r}"
            ) from None
    return chat_messages([*before, *_input_messages(body.input)], "input")


def _check(body: ResponsesRequest) -> None:
    if body.background:
        raise InvalidArgument.one("background", "background responses are not supported; stream instead")


@router.post("/v1/responses", response_model=None)
async def create_response(
    body: ResponsesRequest, request: Request, who: CallerDep
) -> JSONResponse | StreamingResponse:
    api = context_of(request)
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    response_id = f"resp_{uuid.uuid4().hex}"  # never the client's request id: that may repeat
    try:
        _check(body)
        history = await _history(api, who, body)
        system = [{"role": "system", "content": body.instructions}] if body.instructions else []
        if body.reasoning and body.reasoning.get("effort") and body.enable_thinking is None:
            body.reasoning_effort = str(body.reasoning["effort"])
        params = build_params(
            body,
            user_id=who.user_id,
            request_id=request_id,
            max_tokens=body.max_output_tokens,
            messages=[*system, *history],
        )
        params.client_tools = _function_tools(body.tools)
        params.tool_choice = tool_choice(body.tool_choice)
        params.parallel_tool_calls = body.parallel_tool_calls is not False
        params.response_format = responses_text_format((body.text or {}).get("format"))
        client_tools = frozenset(t["function"]["name"] for t in params.client_tools)
        run = _Run(api, who.user_id, _Builder(response_id, body, client_tools), history, asyncio.Event())
        api.running[(who.user_id, response_id)] = run.cancel
        events = api.engine.stream(params)
        first = await streaming.first_event(request, events)
        headers = {"x-request-id": request_id}
        if body.stream:
            return StreamingResponse(
                _sse(run, first, events), media_type="text/event-stream", headers=headers
            )
        final = await streaming.until_disconnected(request, _collect(run, first, events))
    except Exception as error:
        api.running.pop((who.user_id, response_id), None)
        return error_response(error, RENAMES)
    return JSONResponse(final, headers=headers)


@router.get("/v1/responses/{response_id}")
async def get_response(response_id: str, request: Request, who: CallerDep) -> dict[str, Any]:
    return (await context_of(request).responses.get(who.user_id, response_id)).body


@router.delete("/v1/responses/{response_id}")
async def delete_response(response_id: str, request: Request, who: CallerDep) -> dict[str, Any]:
    await context_of(request).responses.delete(who.user_id, response_id)
    return {"id": response_id, "object": "response.deleted", "deleted": True}


@router.post("/v1/responses/{response_id}/cancel")
async def cancel_response(response_id: str, request: Request, who: CallerDep) -> dict[str, Any]:
    api = context_of(request)
    flag = api.running.get((who.user_id, response_id))
    if flag is None:
        stored = await api.responses.get(who.user_id, response_id)  # finished already: as it is
        return stored.body
    flag.set()
    return {"id": response_id, "object": "response", "status": "cancelled", "output": []}
