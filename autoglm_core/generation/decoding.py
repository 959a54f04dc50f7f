"""Turns a backend's token stream into typed text events for one turn of generation.

Order of the pipeline: token ids -> whole characters (detokenizer) -> reasoning vs answer
(thinking parser) -> tool calls taken out of the answer (tool-call parser, when tools are on) ->
stop strings, on the answer only. Calls come before stops so that a stop string inside a call's
arguments cannot cut the call, and call markup never reaches the content.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoglm_core.backends.base import ChatTokenizer
from autoglm_core.generation.types import ContentDelta, ReasoningDelta
from autoglm_core.reasoning.think_parser import ThinkingStreamParser
from autoglm_core.text.detokenizer import IncrementalDetokenizer
from autoglm_core.text.stops import StopMatcher
from autoglm_core.tools.parsers import ParsedToolCall, ToolCallParser

TextEvent = ReasoningDelta | ContentDelta


class TurnDecoder:
    """Feed token ids; get reasoning and content deltas, with stop strings cut out."""

    def __init__(
        self,
        tokenizer: ChatTokenizer,
        stops: Sequence[str],
        *,
        starts_in_reasoning: bool,
        emit_reasoning: bool,
        tool_parser: ToolCallParser | None = None,
    ) -> None:
        self._tokenizer = tokenizer
        self._detokenizer = IncrementalDetokenizer(tokenizer.decode)
        self._thinking = ThinkingStreamParser(starts_in_reasoning=starts_in_reasoning)
        self._stops = StopMatcher(stops)
        self._emit_reasoning = emit_reasoning
        self._tool_parser = tool_parser
        self.reasoning_tokens = 0
        # Tool calls completed in this turn, and blocks that looked like calls but did not parse.
        self.calls: list[ParsedToolCall] = []
        self.call_errors: list[str] = []

    @property
    def in_reasoning(self) -> bool:
        return self._thinking.in_reasoning

    @property
    def stop_sequence(self) -> str | None:
        return self._stops.matched

    def feed(
        self,
        token_ids: Sequence[int],
        logprobs: Sequence[float] = (),
        top_logprobs: Sequence[Sequence[tuple[int, float]]] = (),
    ) -> list[TextEvent]:
        # A token counts as reasoning when the parser was inside reasoning before or after it.
        was_reasoning = self._thinking.in_reasoning
        text = self._detokenizer.feed(token_ids)
        events = self._split(self._thinking.feed(text) if text else [])
        if was_reasoning or self._thinking.in_reasoning:
            self.reasoning_tokens += len(token_ids)
        # With tools on, tokens that produced no content may be call markup: no logprobs for them.
        if logprobs and (events or self._tool_parser is None):
            events = self._attach_logprobs(events, token_ids, logprobs, top_logprobs)
        return events

    def finish(self) -> list[TextEvent]:
        pieces = self._thinking.feed(self._detokenizer.flush()) + self._thinking.finish()
        events = self._split(pieces)
        if self._tool_parser is not None:
            safe = self._stops.feed(self._take_calls("", final=True))
            if safe:
                events.append(ContentDelta(safe))
        tail = self._stops.flush()
        if tail:
            events.append(ContentDelta(tail))
        return events

    def _split(self, pieces: Sequence[tuple[str, str]]) -> list[TextEvent]:
        events: list[TextEvent] = []
        for kind, text in pieces:
            if kind == "reasoning":
                if self._emit_reasoning and text:
                    events.append(ReasoningDelta(text))
                continue
            safe = self._stops.feed(self._take_calls(text))
            if safe:
                events.append(ContentDelta(safe))
        return events

    def _take_calls(self, text: str, final: bool = False) -> str:
        """Moves tool calls out of content text into self.calls; returns the real content."""
        if self._tool_parser is None:
            return text
        result = self._tool_parser.finish() if final else self._tool_parser.feed(text)
        self.calls.extend(result.calls)
        self.call_errors.extend(result.errors)
        return result.content

    def _attach_logprobs(
        self,
        events: list[TextEvent],
        token_ids: Sequence[int],
        logprobs: Sequence[float],
        top_logprobs: Sequence[Sequence[tuple[int, float]]],
    ) -> list[TextEvent]:
        texts = self._tokenizer.token_texts(token_ids)
        entries = tuple(zip(token_ids, texts, logprobs, strict=False))
        top = tuple(self._named(alternatives) for alternatives in top_logprobs)
        if events and isinstance(events[-1], ContentDelta):
            last = events[-1]
            events[-1] = ContentDelta(last.text, last.logprobs + entries, last.top_logprobs + top)
        elif not self._thinking.in_reasoning:
            events.append(ContentDelta("", entries, top))
        return events

    def _named(self, alternatives: Sequence[tuple[int, float]]) -> tuple[tuple[int, str, float], ...]:
        ids = [token_id for token_id, _ in alternatives]
        texts = self._tokenizer.token_texts(ids)
        return tuple((i, t, lp) for (i, lp), t in zip(alternatives, texts, strict=True))
