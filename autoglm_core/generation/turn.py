"""Run: one turn of the model for the current prompt, from backend tokens to generation events.

A turn is one backend generation within the request's token budget and time limit; the agent loop
(agent_loop.py) runs several when the model calls tools. A turn whose backend restarted before its
first token is moved to the fresh backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field, replace

from autoglm_core.backends.base import Backend, BackendRequest, TokenChunk
from autoglm_core.errors import BackendFailure, NotReady
from autoglm_core.generation.decoding import TextEvent, TurnDecoder
from autoglm_core.generation.prepare import PreparedRequest
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationParams,
    ReasoningDelta,
    Timings,
    Usage,
)
from autoglm_core.health.monitor import GenerationMonitor
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.runtime.constraint import TokenConstraint
from autoglm_core.structured.constraint import ReasoningMode
from autoglm_core.structured.tools import ToolCallConstraint
from autoglm_core.structured.turns import document_complete, reasoning_mode

REASONING_END = "\n</think>\n\n"
# Longest wait for a restarting backend's replacement before a queued call is told to retry.
RESTART_WAIT_S = 10.0


@dataclass
class Progress:
    """What the turns of one generation (one per round of tool calls) add up to."""

    started: float
    limit_at: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    first_token_at: float | None = None
    # Seconds the first turn waited in the runtime's queue.
    queue_s: float = 0.0
    reason: FinishReason = FinishReason.LENGTH
    stop_sequence: str = ""
    calls_made: int = 0
    # Token ids of the current turn, and whether it was cut because reasoning used up its budget.
    turn_ids: list[int] = field(default_factory=list)
    reasoning_cut: bool = False
    # A response_format was asked for and the last turn's answer is not a whole document of it.
    incomplete: bool = False
    # Tokens of turns outside the answer's budget (the model's constrained tool choice): usage only.
    side_prompt_tokens: int = 0
    side_completion_tokens: int = 0


class TurnRunner:
    """Runs turns on the registry's backends; the monitor counts and times every call."""

    def __init__(self, registry: ModelRegistry, monitor: GenerationMonitor) -> None:
        self.registry = registry
        self.monitor = monitor

    async def run(
        self, params: GenerationParams, prepared: PreparedRequest, decoder: TurnDecoder, progress: Progress
    ) -> AsyncGenerator[GenerationEvent, None]:
        """One backend generation for the current prompt, within the request's token budget."""
        info = prepared.backend.info
        budget = prepared.sampling.max_new_tokens - progress.completion_tokens
        room = info.context_length - len(prepared.prompt_ids)
        progress.reason = FinishReason.LENGTH
        if min(budget, room) < 1:
            progress.incomplete = prepared.response is not None
            return
        if progress.limit_at is not None and time.monotonic() >= progress.limit_at:
            progress.reason = FinishReason.TIME_LIMIT  # spent by the tools of the previous turn
            return
        # A watchdog restart may have swapped the version's backend while this call queued.
        prepared.backend = self.monitor.rebind(params.call_id, self.registry.current(prepared.backend))
        mode = reasoning_mode(
            starts_in_reasoning=prepared.starts_in_reasoning,
            thinking=params.thinking,
            reasoned_before=progress.reasoning_tokens > 0,
        )
        request = BackendRequest(
            # The same id on every turn: it names this call in the monitor (never the caller's id).
            request_id=params.call_id,
            prompt_ids=prepared.prompt_ids,
            sampling=replace(
                prepared.sampling,
                max_new_tokens=min(budget, room),
                min_new_tokens=max(0, prepared.sampling.min_new_tokens - progress.completion_tokens),
            ),
            want_logprobs=params.want_logprobs,
            top_logprobs=params.top_logprobs if params.want_logprobs else 0,
            priority=params.priority,
            deadline=params.deadline,
            cache_salt=prepared.cache_salt,
            shared_prefix_tokens=prepared.shared_prefix_tokens,
            constraint=_constraint(prepared, mode),
            adapter=prepared.adapter,
        )
        progress.prompt_tokens += len(prepared.prompt_ids)
        progress.turn_ids, progress.reasoning_cut = [], False
        async with aclosing(self._tokens(params, prepared, request, progress)) as chunks:
            async for chunk in _until(chunks, progress.limit_at):
                if chunk is None:
                    progress.reason = FinishReason.TIME_LIMIT
                    break
                if chunk.queued_s is not None and progress.first_token_at is None:
                    progress.queue_s = chunk.queued_s
                if chunk.token_ids and progress.first_token_at is None:
                    progress.first_token_at = time.monotonic()
                events, ended = take_tokens(params, chunk, decoder, progress)
                for event in events:
                    yield event
                if ended:
                    break
                if chunk.eos:
                    progress.reason = FinishReason.EOS
        for event in decoder.finish():
            yield event
        progress.reasoning_tokens += decoder.reasoning_tokens
        progress.stop_sequence = decoder.stop_sequence or ""
        if prepared.response is not None:  # a stop string can only match inside the document
            whole = document_complete(prepared.response, mode, progress.turn_ids)
            progress.incomplete = progress.reason == FinishReason.STOP_SEQUENCE or not whole

    async def _tokens(
        self, params: GenerationParams, prepared: PreparedRequest, request: BackendRequest, progress: Progress
    ) -> AsyncGenerator[TokenChunk, None]:
        """The backend's chunks. A turn whose backend went away (a watchdog restart) before it produced
        a token is moved to the version's fresh backend once that is up, rather than failed."""
        give_up_at = time.monotonic() + RESTART_WAIT_S
        if params.deadline is not None:
            give_up_at = min(give_up_at, params.deadline)
        while True:
            produced = False
            try:
                async with aclosing(
                    self.monitor.tokens(prepared.backend, request, progress.started)
                ) as chunks:
                    async for chunk in chunks:
                        produced = produced or bool(chunk.token_ids)
                        yield chunk
                return
            except NotReady:
                if produced or time.monotonic() >= give_up_at:
                    raise
            prepared.backend = await self._replacement(params, prepared.backend, give_up_at)

    async def _replacement(self, params: GenerationParams, old: Backend, give_up_at: float) -> Backend:
        """The backend now serving `old`'s version, once it differs from `old` (NotReady past the wait)."""
        while True:
            try:
                current = self.registry.current(old)
            except NotReady:
                current = old
            if current is not old:
                return self.monitor.rebind(params.call_id, current)
            if time.monotonic() >= give_up_at:
                raise NotReady(f"{old.info.name}@{old.info.version} is restarting; retry shortly")
            await asyncio.sleep(0.05)


def _constraint(prepared: PreparedRequest, mode: ReasoningMode) -> TokenConstraint | None:
    """What limits the turn's tokens: the response format, else the tools' call blocks, else nothing."""
    if prepared.response is not None:
        return prepared.response.constraint(mode)
    return ToolCallConstraint(prepared.tool_calls) if prepared.tool_calls is not None else None


def take_tokens(
    params: GenerationParams, chunk: TokenChunk, decoder: TurnDecoder, progress: Progress
) -> tuple[list[TextEvent], bool]:
    """Feeds a chunk's tokens to the decoder one at a time, so that a stop string or the thinking
    budget ends the turn at the exact token even in a chunk of several (a caller that fell behind
    gets them merged); returns the chunk's text events, adjacent ones merged, and whether the turn
    ended."""
    events: list[TextEvent] = []
    ended = False
    for i, token in enumerate(chunk.token_ids):
        progress.completion_tokens += 1
        progress.turn_ids.append(token)
        events += decoder.feed([token], chunk.logprobs[i : i + 1], chunk.top_logprobs[i : i + 1])
        if over_thinking_budget(params, decoder, progress):
            progress.reasoning_cut = ended = True
            break
        if decoder.stop_sequence is not None:
            progress.reason = FinishReason.STOP_SEQUENCE
            ended = True
            break
    return merge_adjacent(events), ended


def merge_adjacent(events: list[TextEvent]) -> list[TextEvent]:
    """Adjacent deltas of the same kind as one (their text and logprobs joined)."""
    merged: list[TextEvent] = []
    for event in events:
        last = merged[-1] if merged else None
        if isinstance(event, ContentDelta) and isinstance(last, ContentDelta):
            merged[-1] = ContentDelta(
                last.text + event.text, last.logprobs + event.logprobs, last.top_logprobs + event.top_logprobs
            )
        elif isinstance(event, ReasoningDelta) and isinstance(last, ReasoningDelta):
            merged[-1] = ReasoningDelta(last.text + event.text)
        else:
            merged.append(event)
    return merged


def over_thinking_budget(params: GenerationParams, decoder: TurnDecoder, progress: Progress) -> bool:
    if params.thinking_budget is None or not decoder.in_reasoning:
        return False
    return progress.reasoning_tokens + decoder.reasoning_tokens >= params.thinking_budget


def close_reasoning(prepared: PreparedRequest, progress: Progress) -> None:
    """Continues a turn whose reasoning hit the budget: its tokens plus a closing tag become the
    prompt of the next turn, so the model goes straight to the answer (the budget forcing of s1)."""
    tokenizer = prepared.backend.tokenizer
    prepared.prompt_ids = [*prepared.prompt_ids, *progress.turn_ids, *tokenizer.encode(REASONING_END)]
    prepared.starts_in_reasoning = False


def finished_event(prepared: PreparedRequest, progress: Progress) -> Finished:
    info = prepared.backend.info
    now = time.monotonic()
    return Finished(
        finish_reason=progress.reason,
        usage=Usage(
            prompt_tokens=progress.prompt_tokens + progress.side_prompt_tokens,
            completion_tokens=progress.completion_tokens + progress.side_completion_tokens,
            reasoning_tokens=progress.reasoning_tokens,
        ),
        model_name=info.name,
        model_version=info.version,
        timings=Timings(
            queue_ms=progress.queue_s * 1000,
            time_to_first_token_ms=((progress.first_token_at or now) - progress.started) * 1000,
            total_ms=(now - progress.started) * 1000,
        ),
        seed=prepared.sampling.seed,
        stop_sequence=progress.stop_sequence,
        incomplete=progress.incomplete,
        thinking=prepared.thinking,
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
