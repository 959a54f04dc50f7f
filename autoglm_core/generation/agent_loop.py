"""The agent loop: turn after turn until the model answers without calling a tool.

Small models take tools through the router or a constrained choice by the model (one tool chosen
before generation, its result put in the prompt); others call tools themselves: each turn's calls
run in parallel, their results join the conversation and the next turn starts. A call of a client's
tool ends the generation and hands the call over.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator

from autoglm_core.generation.decoding import TurnDecoder
from autoglm_core.generation.offload import offload
from autoglm_core.generation.prepare import PreparedRequest, Preparer
from autoglm_core.generation.tool_choice import ChoiceUnavailable, ToolChooser
from autoglm_core.generation.turn import (
    Progress,
    TurnRunner,
    close_reasoning,
    finished_event,
)
from autoglm_core.generation.types import (
    ContentDelta,
    FinishReason,
    GenerationEvent,
    GenerationParams,
    ReasoningDelta,
    ToolCallFinished,
    ToolCallRecord,
    ToolCallStarted,
)
from autoglm_core.tools.agent import (
    PendingCall,
    ToolBox,
    assistant_message,
    call_parser,
    last_user_text,
    result_opening,
    tool_message,
    unrun_record,
    with_router_context,
)
from autoglm_core.tools.router import Route


class AgentLoop:
    """Runs a prepared request: the router or the model's own tool calls, turn after turn."""

    def __init__(self, tools: ToolBox | None, preparer: Preparer, turns: TurnRunner) -> None:
        self.tools = tools
        self.preparer = preparer
        self.turns = turns
        self.chooser = ToolChooser(preparer, turns)

    async def run(
        self, params: GenerationParams, prepared: PreparedRequest, started: float
    ) -> AsyncGenerator[GenerationEvent, None]:
        """The agent loop: route (small models) or let the model call tools, turn after turn."""
        progress = Progress(started, started + params.time_limit_s if params.time_limit_s else None)
        if prepared.tools and prepared.tool_mode in ("router", "choice"):
            async for event in self._route(params, prepared, progress):
                yield event
        async for event in self._turns(params, prepared, progress):
            yield event
        yield finished_event(prepared, progress)

    async def _route(
        self, params: GenerationParams, prepared: PreparedRequest, progress: Progress
    ) -> AsyncGenerator[GenerationEvent, None]:
        """One tool chosen before generation, by the router or by the model's constrained choice;
        the tool's result becomes context in the prompt."""
        route = await self._pick(params, prepared, progress)
        if route is None:
            return
        call = PendingCall(_call_id(progress), route.tool.name, route.arguments)
        yield ToolCallStarted(call.id, call.name, call.arguments)
        [record] = await self._execute([call], prepared, progress)
        yield ToolCallFinished(record)
        prepared.messages = with_router_context(prepared.messages, record)
        prepared.prompt_ids, prepared.starts_in_reasoning = await offload(self.preparer.render, prepared)
        opening = result_opening(record) if prepared.profile.answer_opens_with_tool_result else ""
        if opening:  # the answer starts with the result; the model continues after it
            prepared.prompt_ids = [*prepared.prompt_ids, *prepared.backend.tokenizer.encode(opening + "\n")]
            yield ContentDelta(opening + "\n")

    async def _pick(
        self, params: GenerationParams, prepared: PreparedRequest, progress: Progress
    ) -> Route | None:
        """The tool for this request: the model's constrained choice, else the router's."""
        query = last_user_text(prepared.messages)
        if prepared.tool_mode == "choice":
            try:
                return await self.chooser.choose(params, prepared, query, progress)
            except ChoiceUnavailable:
                pass  # logged by the chooser; the router (when there is one) still picks a tool
        router = self.tools.router if self.tools is not None else None
        if router is None:
            return None
        # Embeddings are blocking compute: a thread keeps the other streams flowing.
        return await asyncio.to_thread(router.route, query, prepared.tools)

    async def _turns(
        self, params: GenerationParams, prepared: PreparedRequest, progress: Progress
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Backend turns; after each turn that ends in tool calls, run them and continue."""
        native = bool(prepared.tools) and prepared.tool_mode == "native"
        max_iterations = self.tools.executor.limits.max_iterations if self.tools is not None else 0
        joiner = _TurnJoiner()
        for iteration in itertools.count():
            joiner.start_turn()
            decoder = self._decoder(params, prepared, native)
            prepared.call_opening = ""  # only the first turn is forced
            async for event in self.turns.run(params, prepared, decoder, progress):
                for joined in joiner.events(event):
                    yield joined
            if progress.reasoning_cut:
                close_reasoning(prepared, progress)
                continue
            calls, malformed = _calls_of(decoder, progress, params.parallel_tool_calls)
            # Only a turn the model ended itself asks for tools (not a stop string, limit or budget).
            if not (calls or malformed) or progress.reason != FinishReason.EOS:
                return
            if any(c.name in _client_tools(prepared) for c in calls):
                async for event in self._hand_over(calls, prepared, progress):
                    yield event
                return
            if iteration >= max_iterations:
                progress.reason = FinishReason.TOOL_CALLS
                for record in [unrun_record(c, max_iterations) for c in calls] + malformed:
                    yield ToolCallStarted(record.id, record.name, record.arguments)
                    yield ToolCallFinished(record)
                return
            async for event in self._act(calls, malformed, joiner.content, prepared, progress):
                yield event

    def _decoder(self, params: GenerationParams, prepared: PreparedRequest, native: bool) -> TurnDecoder:
        parser = call_parser(prepared.backend, prepared.tools) if native else None
        if parser is not None and prepared.call_opening:
            parser.feed(prepared.call_opening)  # the pre-filled start of the forced call
        return TurnDecoder(
            prepared.backend.tokenizer,
            params.stop,
            starts_in_reasoning=prepared.starts_in_reasoning,
            # Reasoning is returned only where it is real: native or a followed prompted format.
            emit_reasoning=prepared.thinking in ("native", "prompted"),
            tool_parser=parser,
        )

    async def _hand_over(
        self, calls: list[PendingCall], prepared: PreparedRequest, progress: Progress
    ) -> AsyncGenerator[GenerationEvent, None]:
        """A turn that calls a client tool ends the generation: every call is reported, and only
        the server's own tools among them are run (their results come with ToolCallFinished)."""
        client = _client_tools(prepared)
        for call in calls:
            yield ToolCallStarted(call.id, call.name, call.arguments)
        for record in await self._execute([c for c in calls if c.name not in client], prepared, progress):
            yield ToolCallFinished(record)
        progress.reason = FinishReason.TOOL_CALLS

    async def _act(
        self,
        calls: list[PendingCall],
        malformed: list[ToolCallRecord],
        content: str,
        prepared: PreparedRequest,
        progress: Progress,
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Runs a turn's calls and adds the turn and the results to the conversation."""
        for call in calls:
            yield ToolCallStarted(call.id, call.name, call.arguments)
        for record in malformed:
            yield ToolCallStarted(record.id, record.name, record.arguments)
        records = await self._execute(calls, prepared, progress) + malformed
        for record in records:
            yield ToolCallFinished(record)
        prepared.messages = [
            *prepared.messages,
            assistant_message(content, calls),
            *(tool_message(r) for r in records),
        ]
        prepared.prompt_ids, prepared.starts_in_reasoning = await offload(self.preparer.render, prepared)

    async def _execute(
        self, calls: list[PendingCall], prepared: PreparedRequest, progress: Progress
    ) -> list[ToolCallRecord]:
        """Runs one turn's calls in parallel, never past the request's time limit."""
        if not calls:
            return []
        assert self.tools is not None
        left = progress.limit_at - time.monotonic() if progress.limit_at is not None else None
        allowed = {spec.name: spec for spec in prepared.tools}
        return await self.tools.executor.run_all(calls, allowed, timeout_s=left)


class _TurnJoiner:
    """Keeps the text of successive turns apart (a blank line between the content of two turns, a
    newline between their reasoning) and collects the current turn's content."""

    def __init__(self) -> None:
        self._content: list[str] = []
        self._said = self._reasoned = self._thought = False

    @property
    def content(self) -> str:
        return "".join(self._content)

    def start_turn(self) -> None:
        self._said = self._said or bool(self._content)
        self._reasoned = self._reasoned or self._thought
        self._content, self._thought = [], False

    def events(self, event: GenerationEvent) -> list[GenerationEvent]:
        if isinstance(event, ContentDelta) and event.text:
            gap: list[GenerationEvent] = [ContentDelta("\n\n")] if self._said and not self._content else []
            self._content.append(event.text)
            return [*gap, event]
        if isinstance(event, ReasoningDelta) and event.text and not self._thought:
            self._thought = True
            return [ReasoningDelta("\n"), event] if self._reasoned else [event]
        return [event]


def _call_id(progress: Progress) -> str:
    """Call ids unique within a response (the parser numbers calls per turn only)."""
    progress.calls_made += 1
    return f"call_{progress.calls_made - 1}"


def _client_tools(prepared: PreparedRequest) -> set[str]:
    return {spec.name for spec in prepared.tools if spec.kind == "client"}


def _calls_of(
    decoder: TurnDecoder, progress: Progress, parallel: bool = True
) -> tuple[list[PendingCall], list[ToolCallRecord]]:
    """The turn's calls, and a failed record for each block that did not parse (fed back as errors)."""
    parsed = decoder.calls if parallel else decoder.calls[:1]
    calls = [PendingCall(_call_id(progress), c.name, c.arguments) for c in parsed]
    malformed = [ToolCallRecord(_call_id(progress), "", {}, error=e) for e in decoder.call_errors]
    return calls, malformed
