"""The engine: one streaming generation path that both the gRPC server and AutoGLM use.

Unary generation collects the stream, so the two can never disagree.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any

from autoglm_core.backends.base import Backend, BackendRequest, ModelInfo, SamplingConfig, TokenChunk
from autoglm_core.errors import BackendFailure
from autoglm_core.generation.decoding import TurnDecoder
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationParams,
    GenerationResult,
    ReasoningDelta,
    Timings,
    ToolCallFinished,
    Usage,
)
from autoglm_core.generation.validation import check_against_model, check_params
from autoglm_core.reasoning.think_parser import prompt_opens_reasoning, split_reasoning_steps
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.scheduling.admission import AdmissionController

@dataclass
class _Prepared:
    backend: Backend
    prompt_ids: list[int]
    sampling: SamplingConfig
    starts_in_reasoning: bool


class Engine:
    """Generates text for GenerationParams on the models of a registry."""

    def __init__(self, registry: ModelRegistry, admission: AdmissionController) -> None:
        self.registry = registry
        self.admission = admission

    async def generate(self, params: GenerationParams) -> GenerationResult:
        text: list[str] = []
        reasoning: list[str] = []
        logprobs: list[tuple[int, str, float]] = []
        calls = []
        finished: Finished | None = None
        async with aclosing(self.stream(params)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    text.append(event.text)
                    logprobs.extend(event.logprobs)
                elif isinstance(event, ReasoningDelta):
                    reasoning.append(event.text)
                elif isinstance(event, ToolCallFinished):
                    calls.append(event.call)
                elif isinstance(event, Finished):
                    finished = event
        assert finished is not None, "stream() always ends with Finished"
        joined_reasoning = "".join(reasoning).strip()
        return GenerationResult(
            request_id=params.request_id,
            text="".join(text).strip(),
            reasoning=joined_reasoning,
            reasoning_steps=split_reasoning_steps(joined_reasoning),
            tool_calls=calls,
            finished=finished,
            logprobs=logprobs,
        )

    async def stream(self, params: GenerationParams) -> AsyncGenerator[GenerationEvent, None]:
        """Events of one generation, always ending with Finished (unless an error is raised)."""
        started = time.monotonic()
        params.request_id = params.request_id or uuid.uuid4().hex
        check_params(params)
        prepared = self._prepare(params)
        async with self.admission.slot(params.priority, params.deadline) as queue_s:
            async for event in self._run(params, prepared, started, queue_s):
                yield event

    def tokenize(
        self, model: str, *, text: str | None = None, messages: list[dict[str, Any]] | None = None
    ) -> tuple[list[int], list[str]]:
        backend = self.registry.resolve(model)
        tokenizer = backend.tokenizer
        if messages is not None:
            text = tokenizer.render_chat(messages, enable_thinking=False)
        ids = tokenizer.encode(text or "")
        return ids, tokenizer.token_texts(ids)

    def _prepare(self, params: GenerationParams) -> _Prepared:
        backend = self.registry.resolve(params.model, routing_key=params.session_id or params.user_id)
        info = backend.info
        messages = list(params.messages or [{"role": "user", "content": params.prompt or ""}])
        prompt_text = backend.tokenizer.render_chat(
            messages, enable_thinking=params.thinking and info.supports_thinking
        )
        prompt_ids = backend.tokenizer.encode(prompt_text)
        check_against_model(params, len(prompt_ids), info.context_length)
        return _Prepared(
            backend=backend,
            prompt_ids=prompt_ids,
            sampling=_resolve_sampling(params, info, len(prompt_ids)),
            starts_in_reasoning=prompt_opens_reasoning(prompt_text),
        )

    async def _run(
        self, params: GenerationParams, prepared: _Prepared, started: float, queue_s: float
    ) -> AsyncIterator[GenerationEvent]:
        info = prepared.backend.info
        decoder = TurnDecoder(
            prepared.backend.tokenizer,
            params.stop,
            starts_in_reasoning=prepared.starts_in_reasoning,
            emit_reasoning=params.thinking,
        )
        request = BackendRequest(
            request_id=params.request_id,
            prompt_ids=prepared.prompt_ids,
            sampling=prepared.sampling,
            want_logprobs=params.want_logprobs,
        )
        limit_at = started + params.time_limit_s if params.time_limit_s else None
        completion_tokens = 0
        first_token_at: float | None = None
        reason = FinishReason.LENGTH
        async with aclosing(prepared.backend.generate(request)) as chunks:
            async for chunk in _until(chunks, limit_at):
                if chunk is None:
                    reason = FinishReason.TIME_LIMIT
                    break
                if chunk.token_ids and first_token_at is None:
                    first_token_at = time.monotonic()
                completion_tokens += len(chunk.token_ids)
                for event in decoder.feed(chunk.token_ids, chunk.logprobs):
                    yield event
                if decoder.stop_sequence is not None:
                    reason = FinishReason.STOP_SEQUENCE
                    break
                if chunk.eos:
                    reason = FinishReason.EOS
        for event in decoder.finish():
            yield event
        now = time.monotonic()
        yield Finished(
            finish_reason=reason,
            usage=Usage(
                prompt_tokens=len(prepared.prompt_ids),
                completion_tokens=completion_tokens,
                reasoning_tokens=decoder.reasoning_tokens,
            ),
            model_name=info.name,
            model_version=info.version,
            timings=Timings(
                queue_ms=queue_s * 1000,
                time_to_first_token_ms=((first_token_at or now) - started) * 1000,
                total_ms=(now - started) * 1000,
            ),
            seed=prepared.sampling.seed,
            stop_sequence=decoder.stop_sequence or "",
        )


async def _until(
    chunks: AsyncIterator[TokenChunk], limit_at: float | None
) -> AsyncIterator[TokenChunk | None]:
    """Chunks of a backend stream; a final None when the time limit runs out first."""
    while True:
        try:
            if limit_at is None:
                chunk = await anext(chunks)
            else:
                chunk = await asyncio.wait_for(anext(chunks), timeout=max(limit_at - time.monotonic(), 0))
        except StopAsyncIteration:
            return
        except TimeoutError:
            yield None
            return
        except (RuntimeError, OSError, ValueError) as error:
            raise BackendFailure(f"the model backend failed: {error}") from error
        yield chunk


def _resolve_sampling(params: GenerationParams, info: ModelInfo, prompt_tokens: int) -> SamplingConfig:
    defaults = info.default_sampling
    room = info.context_length - prompt_tokens
    max_new = params.max_new_tokens if params.max_new_tokens is not None else defaults.max_new_tokens
    temperature = params.temperature if params.temperature is not None else defaults.temperature
    seed = params.seed if params.seed is not None else random.randrange(2**31)
    return replace(
        defaults,
        temperature=temperature,
        top_p=params.top_p if params.top_p is not None else defaults.top_p,
        top_k=params.top_k if params.top_k is not None else defaults.top_k,
        max_new_tokens=min(max_new, room),
        seed=seed,
        repetition_penalty=params.repetition_penalty or defaults.repetition_penalty,
    )
