"""The engine: one streaming generation path that both the gRPC server and AutoGLM use.

A request passes through a pipeline, each stage a function with explicit input and output:

    validate (validation.py) -> resolve the model and admit (the registry, the backend's queue)
    -> recall memory (conversation.py) -> prepare the prompt (prepare.py) -> answer from the
    response cache (cache/) when a deterministic request repeats, else run the agent loop
    (agent_loop.py, one turn at a time through turn.py) -> remember the turn in the session.

Unary generation collects the stream, so the two can never disagree.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from opentelemetry import trace

from autoglm_core.cache import ResponseCache
from autoglm_core.generation.agent_loop import AgentLoop
from autoglm_core.generation.conversation import ConversationBuilder
from autoglm_core.generation.offload import offload
from autoglm_core.generation.prepare import PreparedRequest, Preparer
from autoglm_core.generation.turn import TurnRunner
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    GenerationEvent,
    GenerationParams,
    GenerationResult,
    ReasoningDelta,
    ToolCallFinished,
)
from autoglm_core.generation.validation import check_params, check_tokenize_input
from autoglm_core.health.monitor import GenerationMonitor
from autoglm_core.reasoning.think_parser import split_reasoning_steps
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.structured.compiler import GrammarCompiler
from autoglm_core.telemetry import ATTR_MODEL_REQUESTED, ATTR_PRIORITY, SPAN_GENERATE, traced_stream
from autoglm_core.tools.agent import ToolBox


class Engine:
    """Generates text for GenerationParams on the models of a registry."""

    def __init__(
        self,
        registry: ModelRegistry,
        monitor: GenerationMonitor | None = None,
        tools: ToolBox | None = None,
        conversation: ConversationBuilder | None = None,
        structured: GrammarCompiler | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.registry = registry
        # Prompt templates, session history and knowledge; the default passes messages through.
        self.conversation = conversation or ConversationBuilder()
        # The tools requests may allow, with how each model takes them; None: no tools at all.
        self.tools = tools
        # Counts, times and traces every request (metrics, watchdog and unload draining read it).
        self.monitor = monitor or GenerationMonitor()
        # Compiles response formats once per (format, tokenizer), off the event loop.
        self.structured = structured or GrammarCompiler()
        # Answers of deterministic requests; the default stores nothing.
        self.cache = cache or ResponseCache(enabled=False)
        self.preparer = Preparer(self.conversation, tools, self.structured)
        self.agent = AgentLoop(tools, self.preparer, TurnRunner(registry, self.monitor))

    async def generate(self, params: GenerationParams) -> GenerationResult:
        text: list[str] = []
        reasoning: list[str] = []
        logprobs: list[tuple[int, str, float]] = []
        top_logprobs: list[tuple[tuple[int, str, float], ...]] = []
        calls = []
        finished: Finished | None = None
        async with aclosing(self.stream(params)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    text.append(event.text)
                    logprobs.extend(event.logprobs)
                    top_logprobs.extend(event.top_logprobs)
                elif isinstance(event, ReasoningDelta):
                    reasoning.append(event.text)
                elif isinstance(event, ToolCallFinished):
                    calls.append(event.call)
                elif isinstance(event, Finished):
                    finished = event
        assert finished is not None, "stream() always ends with Finished"
        joined_reasoning = "".join(reasoning).strip()
        answer = "".join(text).strip()
        return GenerationResult(
            request_id=params.request_id,
            text=answer,
            reasoning=joined_reasoning,
            reasoning_steps=split_reasoning_steps(joined_reasoning),
            tool_calls=calls,
            finished=finished,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
            parsed=_parsed(params, answer, finished),
        )

    def stream(self, params: GenerationParams) -> AsyncGenerator[GenerationEvent, None]:
        """Events of one generation, always ending with Finished (unless an error is raised)."""
        # One span around the whole generation; spans opened inside (template, memory, tools) nest.
        return traced_stream(SPAN_GENERATE, self._stream(params))

    async def _stream(self, params: GenerationParams) -> AsyncGenerator[GenerationEvent, None]:
        started = time.monotonic()
        # Bookkeeping is keyed by an id of ours (callers may send the same x-request-id twice); it
        # carries the caller's id in front, so the backend's logs still say whose call it is.
        own = uuid.uuid4().hex
        params.call_id = f"{params.request_id}/{own[:16]}" if params.request_id else own
        params.request_id = params.request_id or own
        span = trace.get_current_span()
        span.set_attribute(ATTR_MODEL_REQUESTED, params.model)
        span.set_attribute(ATTR_PRIORITY, params.priority)
        check_params(params)
        # The model first: an unknown one is refused before memory is searched.
        backend, adapter = self.registry.resolve_target(
            params.model, routing_key=params.session_id or params.user_id, adapter=params.adapter
        )
        backend.admit()  # a full queue refuses before memory is searched or a prompt is built
        recalled = await self.conversation.recall(params)
        prepared = await self.preparer.prepare(params, recalled, backend, adapter)
        # Response cache: a deterministic repeat replays the stored events; a miss records its own.
        cached = self.cache.lookup(params, prepared)
        if cached.hit is not None:
            async for event in cached.replay(started):
                yield event
            return
        # From here the chosen version counts this call as in flight: an unload waits for it.
        with self.monitor.request(prepared.backend, params.call_id, started) as watch:
            async with aclosing(self.agent.run(params, prepared, started)) as events:
                answer: list[str] = []
                async for event in events:
                    if isinstance(event, ContentDelta):
                        answer.append(event.text)
                    elif isinstance(event, Finished):
                        event = await self._end_turn(params, prepared, "".join(answer), event)
                    self.monitor.saw(watch, event)
                    cached.record(event)
                    yield event

    async def _end_turn(
        self, params: GenerationParams, prepared: PreparedRequest, answer: str, finished: Finished
    ) -> Finished:
        """Stores the turn in the session before the caller hears it finished; names the template."""
        if prepared.conversation is None:
            return finished
        await self.conversation.remember(params, prepared.conversation, answer)
        return replace(finished, prompt_template=prepared.conversation.template)

    async def tokenize(
        self, model: str, *, text: str | None = None, messages: list[dict[str, Any]] | None = None
    ) -> tuple[list[int], list[str]]:
        check_tokenize_input(text, messages)
        tokenizer = self.registry.resolve(model).tokenizer

        def work() -> tuple[list[int], list[str]]:
            rendered = (
                tokenizer.render_chat(messages, enable_thinking=False) if messages is not None else text
            )
            ids = tokenizer.encode(rendered or "")
            return ids, tokenizer.token_texts(ids)

        return await offload(work)


def _parsed(params: GenerationParams, answer: str, finished: Finished) -> Any:
    """The answer of a complete JSON response_format as a Python value."""
    fmt = params.response_format
    if fmt is None or not fmt.is_json or finished.incomplete:
        return None
    try:
        return json.loads(answer)
    except json.JSONDecodeError:  # the runtime did not apply the constraint
        return None
