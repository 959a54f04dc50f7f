"""The engine: one streaming generation path that both the gRPC server and AutoGLM use.

Unary generation collects the stream, so the two can never disagree.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry import trace

from autoglm_core.backends.base import Backend, BackendRequest, ModelInfo, SamplingConfig, TokenChunk
from autoglm_core.errors import BackendFailure, FieldViolation, InvalidArgument, NotReady
from autoglm_core.generation.conversation import Conversation, ConversationBuilder, Recalled
from autoglm_core.generation.decoding import TurnDecoder
from autoglm_core.generation.offload import offload
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
    ToolCallRecord,
    ToolCallStarted,
    Usage,
)
from autoglm_core.generation.validation import check_against_model, check_params, check_tokenize_input
from autoglm_core.health.monitor import GenerationMonitor
from autoglm_core.prompts.profiles import GENERIC, PromptProfile, ThinkingMode, thinking_mode
from autoglm_core.reasoning.prompted import add_cot_instruction
from autoglm_core.reasoning.think_parser import prompt_opens_reasoning, split_reasoning_steps
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.runtime.constraint import TokenConstraint
from autoglm_core.structured.compiler import CompiledFormat, GrammarCompiler
from autoglm_core.structured.constraint import ReasoningMode
from autoglm_core.structured.tools import ToolCallConstraint, compile_tool_calls
from autoglm_core.structured.turns import document_complete, reasoning_mode
from autoglm_core.telemetry import ATTR_MODEL_REQUESTED, ATTR_PRIORITY, SPAN_GENERATE, traced_stream
from autoglm_core.tools.agent import (
    PendingCall,
    ToolBox,
    ToolMode,
    assistant_message,
    call_parser,
    client_specs,
    last_user_text,
    result_opening,
    tool_message,
    unrun_record,
    with_router_context,
)
from autoglm_core.tools.parsers import HermesToolCallParser, call_opening
from autoglm_core.tools.registry import ToolSpec


@dataclass
class _Prepared:
    backend: Backend
    prompt_ids: list[int]
    sampling: SamplingConfig
    starts_in_reasoning: bool
    # What the prompt was rendered from: the agent loop adds tool turns and renders it again.
    messages: list[dict[str, Any]] = field(default_factory=list)
    enable_thinking: bool = False
    tools: list[ToolSpec] = field(default_factory=list)
    tool_mode: ToolMode = "native"
    # A forced tool choice: the call's opening, pre-filled in the first turn's prompt ("" for none).
    call_opening: str = ""
    # The built conversation (template, memory): its turn is stored in the session at the end.
    conversation: Conversation | None = None
    # The caller's user: keys their prompt in the model's prefix cache past the server-written head.
    cache_salt: str = ""
    shared_prefix_tokens: int = 0
    # The request's response_format compiled for this model; None: free text.
    response: CompiledFormat | None = None
    # The call-block grammar of the request's tools (native Hermes calls); None: calls unconstrained.
    tool_calls: CompiledFormat | None = None
    # How thinking was served: off, native, prompted, or unsupported (asked; the model cannot).
    thinking: ThinkingMode = "off"
    profile: PromptProfile = GENERIC


REASONING_END = "\n</think>\n\n"
# Longest wait for a restarting backend's replacement before a queued call is told to retry.
RESTART_WAIT_S = 10.0


@dataclass
class _Progress:
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


class Engine:
    """Generates text for GenerationParams on the models of a registry."""

    def __init__(
        self,
        registry: ModelRegistry,
        monitor: GenerationMonitor | None = None,
        tools: ToolBox | None = None,
        conversation: ConversationBuilder | None = None,
        structured: GrammarCompiler | None = None,
    ) -> None:
        self.registry = registry
        # Prompt templates, session history and knowledge; the default passes messages through.
        self.conversation = conversation or ConversationBuilder()
        # The tools requests may allow, with how each model takes them; None: no tools at all.
        self.tools = tools
        # Counts, times and traces every request (metrics, watchdog and unload draining read it).
        self.monitor = monitor or GenerationMonitor()
        # Per model and tool set: the prompt head the server writes (see _server_head).
        self._heads: dict[tuple[int, bool, tuple[str, ...], str], list[int]] = {}
        # Compiles response formats once per (format, tokenizer), off the event loop.
        self.structured = structured or GrammarCompiler()

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
        # The pipeline: validate -> admit -> prepare (memory, template, tools) -> run -> remember.
        check_params(params)
        # The model first: an unknown one is refused before memory is searched.
        backend = self.registry.resolve(params.model, routing_key=params.session_id or params.user_id)
        backend.admit()  # a full queue refuses before memory is searched or a prompt is built
        recalled = await self.conversation.recall(params)
        prepared = await offload(self._prepare, params, recalled, backend)
        prepared.response = await self._compile_format(params, prepared)
        prepared.tool_calls = await self._compile_tool_calls(prepared)
        # From here the chosen version counts this call as in flight: an unload waits for it.
        with self.monitor.request(prepared.backend, params.call_id, started) as watch:
            async with aclosing(self._run(params, prepared, started)) as events:
                answer: list[str] = []
                async for event in events:
                    if isinstance(event, ContentDelta):
                        answer.append(event.text)
                    elif isinstance(event, Finished):
                        event = await self._end_turn(params, prepared, "".join(answer), event)
                    self.monitor.saw(watch, event)
                    yield event

    async def _end_turn(
        self, params: GenerationParams, prepared: _Prepared, answer: str, finished: Finished
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

    def _prepare(self, params: GenerationParams, recalled: Recalled, backend: Backend) -> _Prepared:
        """Template, memory and tokenizing: CPU work, run off the event loop (see `offload`)."""
        info = backend.info
        profile = self.conversation.profile_for(info)
        thinking = thinking_mode(params.thinking, info, profile)
        enable_thinking = thinking == "native"
        # Template system message, knowledge and session history around the request's messages.
        conversation = self.conversation.build(
            params,
            recalled,
            backend.tokenizer,
            info,
            enable_thinking=enable_thinking,
            profile=profile,
        )
        messages = conversation.messages
        if thinking == "prompted":
            # No native thinking mode, but the family follows a prompted <think> layout.
            messages = add_cot_instruction(messages)
        tools, tool_mode = self._tools_for(params, backend)
        opening = _forced_opening(params, backend, tools)
        # A forced call starts the turn at once: no reasoning block before it.
        enable_thinking = enable_thinking and not opening
        prompt_text = (
            backend.tokenizer.render_chat(
                messages, enable_thinking=enable_thinking, tools=_template_tools(tools, tool_mode)
            )
            + opening
        )
        prompt_ids = backend.tokenizer.encode(prompt_text)
        check_against_model(params, len(prompt_ids), info.context_length)
        shared = len(prompt_ids)
        if params.user_id:  # a user's own text is cached under their name alone
            shared = _common_prefix(prompt_ids, self._server_head(backend, enable_thinking, tools, tool_mode))
        return _Prepared(
            backend=backend,
            prompt_ids=prompt_ids,
            sampling=_resolve_sampling(params, info, len(prompt_ids)),
            starts_in_reasoning=prompt_opens_reasoning(prompt_text),
            messages=messages,
            enable_thinking=enable_thinking,
            tools=tools,
            tool_mode=tool_mode,
            call_opening=opening,
            conversation=conversation,
            thinking=thinking,
            profile=profile,
            cache_salt=params.user_id,
            shared_prefix_tokens=shared,
        )

    def _server_head(
        self, backend: Backend, enable_thinking: bool, tools: list[ToolSpec], tool_mode: ToolMode
    ) -> list[int]:
        """The prompt of an empty user turn and nothing else: what the template writes before any
        caller-provided text (its own system prompt, the tool schemas, the turn's opening tags)."""
        key = (id(backend), enable_thinking, tuple(t.name for t in tools), tool_mode)
        head = self._heads.get(key)
        if head is None:
            empty = [{"role": "user", "content": ""}]
            text = backend.tokenizer.render_chat(
                empty, enable_thinking=enable_thinking, tools=_template_tools(tools, tool_mode)
            )
            if len(self._heads) >= 256:
                self._heads.clear()
            head = self._heads[key] = backend.tokenizer.encode(text)
        return head

    async def _compile_format(self, params: GenerationParams, prepared: _Prepared) -> CompiledFormat | None:
        fmt, backend = params.response_format, prepared.backend
        if fmt is None or not fmt.constrained:
            return None
        if prepared.tools and prepared.tool_mode == "native":
            # The document's grammar would forbid the model's own call markup.
            raise InvalidArgument.one(
                "response_format", "cannot be combined with allowed_tools on a model that calls tools itself"
            )
        try:
            eos_ids = backend.info.eos_token_ids
            return await self.structured.compile(fmt, backend.tokenizer, eos_ids, reasoning=params.thinking)
        except InvalidArgument as error:
            raise InvalidArgument(
                [FieldViolation(f"response_format.{v.field}", v.description) for v in error.violations]
            ) from None

    async def _compile_tool_calls(self, prepared: _Prepared) -> CompiledFormat | None:
        """Native calls in the Hermes format get their arguments constrained to each tool's schema."""
        if not prepared.tools or prepared.tool_mode != "native" or self.tools is None:
            return None
        if not isinstance(self.tools.parser_for(prepared.backend, prepared.tools), HermesToolCallParser):
            return None
        schemas = {spec.name: spec.parameters for spec in prepared.tools}
        backend = prepared.backend
        return await compile_tool_calls(
            self.structured, schemas, backend.tokenizer, backend.info.eos_token_ids
        )

    def _tools_for(self, params: GenerationParams, backend: Backend) -> tuple[list[ToolSpec], ToolMode]:
        """The request's allowed and client tools (unknown names are InvalidArgument) and how the
        model takes them. Client tools are always shown to the model: the router runs tools itself."""
        if params.tool_choice == "none":
            return [], "native"
        client = client_specs(params.client_tools)
        server: list[ToolSpec] = []
        mode: ToolMode = "native"
        if params.allowed_tools:
            if self.tools is None:
                raise InvalidArgument.one("allowed_tools", "this server has no tools")
            server = self.tools.resolve(params.allowed_tools)
            mode = "native" if client else self.tools.mode_for(backend)
        return [*server, *client], mode

    async def _run(
        self, params: GenerationParams, prepared: _Prepared, started: float
    ) -> AsyncGenerator[GenerationEvent, None]:
        """The agent loop: route (small models) or let the model call tools, turn after turn."""
        progress = _Progress(started, started + params.time_limit_s if params.time_limit_s else None)
        if prepared.tools and prepared.tool_mode == "router":
            async for event in self._route(prepared, progress):
                yield event
        async for event in self._turns(params, prepared, progress):
            yield event
        yield _finished(prepared, progress)

    async def _route(self, prepared: _Prepared, progress: _Progress) -> AsyncGenerator[GenerationEvent, None]:
        """Router mode: one tool chosen before generation; its result becomes context in the prompt."""
        assert self.tools is not None and self.tools.router is not None
        query = last_user_text(prepared.messages)
        # Embeddings are blocking compute: a thread keeps the other streams flowing.
        route = await asyncio.to_thread(self.tools.router.route, query, prepared.tools)
        if route is None:
            return
        call = PendingCall(_call_id(progress), route.tool.name, route.arguments)
        yield ToolCallStarted(call.id, call.name, call.arguments)
        [record] = await self._execute([call], prepared, progress)
        yield ToolCallFinished(record)
        prepared.messages = with_router_context(prepared.messages, record)
        prepared.prompt_ids, prepared.starts_in_reasoning = await offload(self._render, prepared)
        opening = result_opening(record) if prepared.profile.answer_opens_with_tool_result else ""
        if opening:  # the answer starts with the result; the model continues after it
            prepared.prompt_ids = [*prepared.prompt_ids, *prepared.backend.tokenizer.encode(opening + "\n")]
            yield ContentDelta(opening + "\n")

    async def _turns(
        self, params: GenerationParams, prepared: _Prepared, progress: _Progress
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Backend turns; after each turn that ends in tool calls, run them and continue."""
        native = bool(prepared.tools) and prepared.tool_mode == "native"
        max_iterations = self.tools.executor.limits.max_iterations if self.tools is not None else 0
        joiner = _TurnJoiner()
        for iteration in itertools.count():
            joiner.start_turn()
            decoder = self._decoder(params, prepared, native)
            prepared.call_opening = ""  # only the first turn is forced
            async for event in self._turn(params, prepared, decoder, progress):
                for joined in joiner.events(event):
                    yield joined
            if progress.reasoning_cut:
                _close_reasoning(prepared, progress)
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

    def _decoder(self, params: GenerationParams, prepared: _Prepared, native: bool) -> TurnDecoder:
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
        self, calls: list[PendingCall], prepared: _Prepared, progress: _Progress
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
        prepared: _Prepared,
        progress: _Progress,
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
        prepared.prompt_ids, prepared.starts_in_reasoning = await offload(self._render, prepared)

    async def _turn(
        self, params: GenerationParams, prepared: _Prepared, decoder: TurnDecoder, progress: _Progress
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
                progress.completion_tokens += len(chunk.token_ids)
                progress.turn_ids.extend(chunk.token_ids)
                for event in decoder.feed(chunk.token_ids, chunk.logprobs, chunk.top_logprobs):
                    yield event
                if _over_thinking_budget(params, decoder, progress):
                    progress.reasoning_cut = True
                    break
                if decoder.stop_sequence is not None:
                    progress.reason = FinishReason.STOP_SEQUENCE
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
        self, params: GenerationParams, prepared: _Prepared, request: BackendRequest, progress: _Progress
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

    async def _execute(
        self, calls: list[PendingCall], prepared: _Prepared, progress: _Progress
    ) -> list[ToolCallRecord]:
        """Runs one turn's calls in parallel, never past the request's time limit."""
        if not calls:
            return []
        assert self.tools is not None
        left = progress.limit_at - time.monotonic() if progress.limit_at is not None else None
        allowed = {spec.name: spec for spec in prepared.tools}
        return await self.tools.executor.run_all(calls, allowed, timeout_s=left)

    def _render(self, prepared: _Prepared) -> tuple[list[int], bool]:
        """Prompt ids for the conversation so far, and whether the prompt opens a reasoning block."""
        text = prepared.backend.tokenizer.render_chat(
            prepared.messages,
            enable_thinking=prepared.enable_thinking,
            tools=_template_tools(prepared.tools, prepared.tool_mode),
        )
        return prepared.backend.tokenizer.encode(text), prompt_opens_reasoning(text)


def _constraint(prepared: _Prepared, mode: ReasoningMode) -> TokenConstraint | None:
    """What limits the turn's tokens: the response format, else the tools' call blocks, else nothing."""
    if prepared.response is not None:
        return prepared.response.constraint(mode)
    return ToolCallConstraint(prepared.tool_calls) if prepared.tool_calls is not None else None


def _over_thinking_budget(params: GenerationParams, decoder: TurnDecoder, progress: _Progress) -> bool:
    if params.thinking_budget is None or not decoder.in_reasoning:
        return False
    return progress.reasoning_tokens + decoder.reasoning_tokens >= params.thinking_budget


def _close_reasoning(prepared: _Prepared, progress: _Progress) -> None:
    """Continues a turn whose reasoning hit the budget: its tokens plus a closing tag become the
    prompt of the next turn, so the model goes straight to the answer (the budget forcing of s1)."""
    tokenizer = prepared.backend.tokenizer
    prepared.prompt_ids = [*prepared.prompt_ids, *progress.turn_ids, *tokenizer.encode(REASONING_END)]
    prepared.starts_in_reasoning = False


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


def _template_tools(tools: list[ToolSpec], mode: ToolMode) -> list[dict[str, Any]] | None:
    """Tool schemas for the chat template; a router-mode model never sees them."""
    if not tools or mode == "router":
        return None
    return [spec.openai_schema() for spec in tools]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _call_id(progress: _Progress) -> str:
    """Call ids unique within a response (the parser numbers calls per turn only)."""
    progress.calls_made += 1
    return f"call_{progress.calls_made - 1}"


def _client_tools(prepared: _Prepared) -> set[str]:
    return {spec.name for spec in prepared.tools if spec.kind == "client"}


def _forced_opening(params: GenerationParams, backend: Backend, tools: list[ToolSpec]) -> str:
    """The opening of the call a tool_choice of "required" or a tool's name forces ("" for none)."""
    if params.tool_choice in ("auto", "none"):
        return ""
    if not tools:
        raise InvalidArgument.one("tool_choice", f"{params.tool_choice!r} needs tools")
    if params.tool_choice == "required":
        return call_opening(call_parser(backend, tools), None)
    if params.tool_choice not in {spec.name for spec in tools}:
        raise InvalidArgument.one("tool_choice", f"names no tool of the request: {params.tool_choice!r}")
    return call_opening(call_parser(backend, tools), params.tool_choice)


def _calls_of(
    decoder: TurnDecoder, progress: _Progress, parallel: bool = True
) -> tuple[list[PendingCall], list[ToolCallRecord]]:
    """The turn's calls, and a failed record for each block that did not parse (fed back as errors)."""
    parsed = decoder.calls if parallel else decoder.calls[:1]
    calls = [PendingCall(_call_id(progress), c.name, c.arguments) for c in parsed]
    malformed = [ToolCallRecord(_call_id(progress), "", {}, error=e) for e in decoder.call_errors]
    return calls, malformed


def _finished(prepared: _Prepared, progress: _Progress) -> Finished:
    info = prepared.backend.info
    now = time.monotonic()
    return Finished(
        finish_reason=progress.reason,
        usage=Usage(
            prompt_tokens=progress.prompt_tokens,
            completion_tokens=progress.completion_tokens,
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
        min_new_tokens=min(params.min_new_tokens or 0, max_new, room),
        seed=seed,
        repetition_penalty=params.repetition_penalty or defaults.repetition_penalty,
    )


def _parsed(params: GenerationParams, answer: str, finished: Finished) -> Any:
    """The answer of a complete JSON response_format as a Python value."""
    fmt = params.response_format
    if fmt is None or not fmt.is_json or finished.incomplete:
        return None
    try:
        return json.loads(answer)
    except json.JSONDecodeError:  # the runtime did not apply the constraint
        return None
