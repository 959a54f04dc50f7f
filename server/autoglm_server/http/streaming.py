"""Engine event streams over HTTP: server-sent events, the first event awaited before the status
line (so errors get their HTTP status), the outcome of a whole stream, and cancellation when the
client goes away.

A streamed response is stopped by Starlette when the client disconnects (the body iterator is
cancelled, which closes the engine stream and so the backend's). A unary response is computed in
a task that `until_disconnected` cancels when the connection closes first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from autoglm_core.generation import types
from autoglm_server.http.errors import ClientGone

T = TypeVar("T")
Events = AsyncGenerator[types.GenerationEvent, None]
DONE = b"data: [DONE]\n\n"

_FINISH = {
    types.FinishReason.EOS: "stop",
    types.FinishReason.STOP_SEQUENCE: "stop",
    types.FinishReason.LENGTH: "length",
    types.FinishReason.TIME_LIMIT: "length",
    types.FinishReason.CANCELLED: "stop",
    types.FinishReason.TOOL_CALLS: "tool_calls",
}


def sse(data: dict[str, Any], event: str | None = None) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {body}\n\n".encode()


def finish_reason(finished: types.Finished, client_calls: int) -> str:
    """OpenAI's finish reason; tool_calls only when the client has calls to run."""
    reason = _FINISH[finished.finish_reason]
    return "stop" if reason == "tool_calls" and not client_calls else reason


async def _disconnected(request: Request) -> None:
    # The body is read already: the next message the server gives is http.disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def until_disconnected(request: Request, work: Awaitable[T]) -> T:
    """The result of work, which is cancelled if the client disconnects first (ClientGone)."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
    if task.cancelled():
        raise ClientGone()
    return task.result()


async def first_event(request: Request, events: Events) -> types.GenerationEvent:
    """The stream's first event (after validation, admission and prefill): errors before it are
    raised here, while the HTTP status can still say what went wrong."""
    try:
        return await until_disconnected(request, anext(events))
    except BaseException:
        await events.aclose()
        raise


async def first_events(request: Request, streams: list[Events]) -> list[types.GenerationEvent]:
    """The first event of each stream (the choices of one request, n > 1), awaited together; if one
    fails, the others are cancelled, every stream is closed and the first error raised."""
    if len(streams) == 1:
        return [await first_event(request, streams[0])]
    try:
        return await until_disconnected(request, all_of([anext(events) for events in streams]))
    except BaseException:
        for events in streams:
            await events.aclose()
        raise


async def all_of(work: Iterable[Awaitable[T]]) -> list[T]:
    """Every result, in order; the first failure cancels the rest (a TaskGroup) and is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(w)) for w in work]
    except BaseExceptionGroup as errors:
        raise errors.exceptions[0] from None
    return [task.result() for task in tasks]


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def merged(
    firsts: list[types.GenerationEvent], streams: list[Events]
) -> AsyncGenerator[tuple[int, types.GenerationEvent], None]:
    """The events of several streams as they come, each with its stream's index; every stream
    ends with its Finished event. Closing this iterator closes the streams (so their generations
    stop)."""
    queue: asyncio.Queue[tuple[int, types.GenerationEvent | BaseException | None]] = asyncio.Queue()

    async def pump(index: int, events: Events) -> None:
        try:
            async with aclosing(events):
                async for event in events:
                    await queue.put((index, event))
        except Exception as error:  # handed to the reader, which raises it
            await queue.put((index, error))
        await queue.put((index, None))

    for index, first in enumerate(firsts):
        yield index, first
    pumps = [asyncio.ensure_future(pump(i, events)) for i, events in enumerate(streams)]
    try:
        running = len(pumps)
        while running:
            index, item = await queue.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield index, item
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)


@dataclass
class Outcome:
    """A whole generation as the unary routes answer it."""

    client_tools: frozenset[str] = frozenset()
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    # Calls the client must run (never run here) and calls the server's tools made.
    client_calls: list[types.ToolCallStarted] = field(default_factory=list)
    server_calls: list[types.ToolCallRecord] = field(default_factory=list)
    logprobs: list[tuple[int, str, float]] = field(default_factory=list)
    top_logprobs: list[tuple[tuple[int, str, float], ...]] = field(default_factory=list)
    finished: types.Finished | None = None

    def add(self, event: types.GenerationEvent) -> None:
        if isinstance(event, types.ContentDelta):
            self.text.append(event.text)
            self.logprobs.extend(event.logprobs)
            self.top_logprobs.extend(event.top_logprobs)
        elif isinstance(event, types.ReasoningDelta):
            self.reasoning.append(event.text)
        elif isinstance(event, types.ToolCallStarted):
            if event.name in self.client_tools:
                self.client_calls.append(event)
        elif isinstance(event, types.ToolCallFinished):
            self.server_calls.append(event.call)
        else:
            self.finished = event

    async def collect(self, first: types.GenerationEvent, events: Events) -> Outcome:
        self.add(first)
        async with aclosing(events):
            async for event in events:
                self.add(event)
        return self


def usage_of(finished: types.Finished) -> dict[str, Any]:
    u = finished.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


def server_call(record: types.ToolCallRecord) -> dict[str, Any]:
    """A call the server's own tools made (extension field `server_tool_calls`)."""
    return {
        "id": record.id,
        "name": record.name,
        "arguments": record.arguments,
        "result": None if record.error else record.result,
        "error": record.error or None,
        "duration_ms": record.duration_ms,
    }


def client_call(call: types.ToolCallStarted, index: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
    }
    if index is not None:
        out["index"] = index
    return out
