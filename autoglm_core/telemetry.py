"""Tracing hooks for the engine and its parts (tools, memory, prompts).

Only the OpenTelemetry *API* is used here: without an SDK installed and configured (the server does
that when OTLP export is enabled) every span is a no-op, so the cost is close to zero.

Usage anywhere in the engine:

    from autoglm_core.telemetry import span

    with span("autoglm.tool_call") as current:
        current.set_attribute(ATTR_TOOL_NAME, name)
        ...

Span names of the engine are `autoglm.<what>`; attribute keys are the constants below, so a trace UI
query does not depend on spelling. Inside an async generator, keep a `span` block
free of `yield` (use `tracer.start_span` and `span.end()` there): see `traced_stream`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from contextlib import AbstractContextManager
from typing import TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import StatusCode

T = TypeVar("T")

tracer = trace.get_tracer("autoglm")

# Span names used by the engine (others may add their own `autoglm.*` spans).
SPAN_GENERATE = "autoglm.generate"
SPAN_QUEUE = "autoglm.queue"
SPAN_PREFILL = "autoglm.prefill"
SPAN_DECODE = "autoglm.decode"
SPAN_TOOL_CALL = "autoglm.tool_call"
SPAN_MEMORY_RETRIEVAL = "autoglm.memory_retrieval"
SPAN_TEMPLATE = "autoglm.template"
SPAN_CACHE = "autoglm.cache"

# Attribute keys; `gen_ai.*` follow the OpenTelemetry GenAI semantic conventions.
ATTR_MODEL_NAME = "gen_ai.request.model"
ATTR_MODEL_VERSION = "autoglm.model.version"
ATTR_REQUEST_ID = "autoglm.request_id"
ATTR_PROMPT_TOKENS = "gen_ai.usage.input_tokens"
ATTR_COMPLETION_TOKENS = "gen_ai.usage.output_tokens"
ATTR_FINISH_REASON = "gen_ai.response.finish_reasons"
ATTR_PRIORITY = "autoglm.priority"
# The model reference the caller asked for (alias, name or name@version; "" = the default).
ATTR_MODEL_REQUESTED = "autoglm.model.requested"
ATTR_QUEUE_DEPTH = "autoglm.queue_depth"
ATTR_TOOL_NAME = "gen_ai.tool.name"
ATTR_MCP_SERVER = "autoglm.mcp.server"  # the MCP server a tool call went to
ATTR_TEMPLATE = "autoglm.template"
# The response cache: "hit", "miss" or "bypass", and why it was bypassed.
ATTR_CACHE_RESULT = "autoglm.cache.result"
ATTR_CACHE_BYPASS = "autoglm.cache.bypass_reason"


# What `span` hands out while no tracer provider is installed: one shared do-nothing context.
_NO_SPAN = contextlib.nullcontext(trace.INVALID_SPAN)


def span(name: str) -> AbstractContextManager[trace.Span]:
    """`tracer.start_as_current_span(name)`, or a shared no-op while tracing is off.

    The API's own no-op span still builds two context managers per call; the engine opens a few
    spans on every request, so while no provider is installed this skips them.
    """
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return _NO_SPAN
    return tracer.start_as_current_span(name)


async def traced_stream(name: str, events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Runs every step of `events` inside span `name`, which ends when the stream does.

    The span is made current only while a step runs, never across a yield: an async generator
    resumes in its consumer's context, so a span left attached would leak into the consumer and its
    detach could fail when the stream is closed from elsewhere. Spans opened inside the steps with
    `tracer.start_as_current_span` nest under `name` as they should.
    """
    span = tracer.start_span(name)
    if not span.is_recording():
        # Tracing off (or this trace not sampled): nothing can nest under the span, so the stream
        # passes through without switching contexts on every event.
        try:
            async for item in events:
                yield item
        finally:
            await events.aclose()
            span.end()
        return
    parent = trace.set_span_in_context(span)
    try:
        while True:
            token = otel_context.attach(parent)
            try:
                item = await anext(events)
            except StopAsyncIteration:
                return
            except BaseException as error:
                _record_error(span, error)
                raise
            finally:
                otel_context.detach(token)
            yield item
    finally:
        await events.aclose()
        span.end()


def _record_error(span: trace.Span, error: BaseException) -> None:
    if isinstance(error, GeneratorExit | asyncio.CancelledError):
        span.set_attribute("autoglm.cancelled", True)
        return
    span.record_exception(error)
    span.set_status(StatusCode.ERROR, str(error))
