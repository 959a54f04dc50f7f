"""Prepare: a request becomes a prompt the runtime can run.

The chat template with the conversation's memory, the tools the request may use and how the model
takes them, a forced tool call's opening, sampling settings, the prefix-cache salt, and the response
format compiled into a token constraint. Template rendering and tokenizing are CPU work: they run off
the event loop (see offload.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from autoglm_core.backends.base import Backend, ModelInfo, SamplingConfig
from autoglm_core.errors import FieldViolation, InvalidArgument
from autoglm_core.generation.conversation import Conversation, ConversationBuilder, Recalled
from autoglm_core.generation.offload import SMALL_WORK_CHARS, offload_unless_small
from autoglm_core.generation.types import GenerationParams
from autoglm_core.generation.validation import check_against_model
from autoglm_core.prompts.profiles import GENERIC, PromptProfile, ThinkingMode, thinking_mode
from autoglm_core.reasoning.prompted import add_cot_instruction
from autoglm_core.reasoning.think_parser import prompt_opens_reasoning
from autoglm_core.structured.compiler import CompiledFormat, GrammarCompiler
from autoglm_core.structured.tools import compile_tool_calls
from autoglm_core.tools.agent import ToolBox, ToolMode, call_parser, client_specs
from autoglm_core.tools.parsers import HermesToolCallParser, call_opening
from autoglm_core.tools.registry import ToolSpec


@dataclass
class PreparedRequest:
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
    # The adapter of the chosen version that generates ("" for the base model).
    adapter: str = ""


class Preparer:
    """Builds a PreparedRequest: (params, recalled memory, backend) -> prompt, sampling, constraints."""

    def __init__(
        self,
        conversation: ConversationBuilder,
        tools: ToolBox | None,
        structured: GrammarCompiler,
    ) -> None:
        self.conversation = conversation
        self.tools = tools
        self.structured = structured
        # Per model and tool set: the prompt head the server writes (see _server_head).
        self._heads: dict[tuple[int, bool, tuple[str, ...], str], list[int]] = {}

    async def prepare(
        self, params: GenerationParams, recalled: Recalled, backend: Backend, adapter: str = ""
    ) -> PreparedRequest:
        size = _text_size(params, recalled)
        built = await offload_unless_small(size, self._build, params, recalled, backend, adapter)
        response = await self._compile_format(params, built)
        tool_calls = await self._compile_tool_calls(built)
        if response is None and tool_calls is None:
            return built  # free text, the common case: no copy
        return replace(built, response=response, tool_calls=tool_calls)

    def _build(
        self, params: GenerationParams, recalled: Recalled, backend: Backend, adapter: str
    ) -> PreparedRequest:
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
                messages, enable_thinking=enable_thinking, tools=template_tools(tools, tool_mode)
            )
            + opening
        )
        prompt_ids = backend.tokenizer.encode(prompt_text)
        check_against_model(params, len(prompt_ids), info.context_length)
        shared = len(prompt_ids)
        if params.user_id:  # a user's own text is cached under their name alone
            shared = _common_prefix(prompt_ids, self._server_head(backend, enable_thinking, tools, tool_mode))
        return PreparedRequest(
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
            adapter=adapter,
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
                empty, enable_thinking=enable_thinking, tools=template_tools(tools, tool_mode)
            )
            if len(self._heads) >= 256:
                self._heads.clear()
            head = self._heads[key] = backend.tokenizer.encode(text)
        return head

    async def _compile_format(
        self, params: GenerationParams, prepared: PreparedRequest
    ) -> CompiledFormat | None:
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

    async def _compile_tool_calls(self, prepared: PreparedRequest) -> CompiledFormat | None:
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

    def render(self, prepared: PreparedRequest) -> tuple[list[int], bool]:
        """Prompt ids for the conversation so far, and whether the prompt opens a reasoning block."""
        text = prepared.backend.tokenizer.render_chat(
            prepared.messages,
            enable_thinking=prepared.enable_thinking,
            tools=template_tools(prepared.tools, prepared.tool_mode),
        )
        return prepared.backend.tokenizer.encode(text), prompt_opens_reasoning(text)


def template_tools(tools: list[ToolSpec], mode: ToolMode) -> list[dict[str, Any]] | None:
    """Tool schemas for the chat template; a model whose tool is chosen before generation (the
    router or a constrained choice) never sees them."""
    if not tools or mode in ("router", "choice"):
        return None
    return [spec.openai_schema() for spec in tools]


def _text_size(params: GenerationParams, recalled: Recalled) -> int:
    """About how much text a request's prompt is built from (its cost to render and tokenize)."""
    if params.allowed_tools:  # the tools' schemas go into the template too, and can be large
        return SMALL_WORK_CHARS + 1
    messages = [*(params.messages or []), *recalled.history]
    size = len(params.prompt or "") + sum(len(str(m.get("content") or "")) for m in messages)
    size += sum(len(text) for text in recalled.knowledge)
    return size + sum(len(str(tool)) for tool in params.client_tools)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


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


def _resolve_sampling(params: GenerationParams, info: ModelInfo, prompt_tokens: int) -> SamplingConfig:
    defaults = info.default_sampling
    room = info.context_length - prompt_tokens
    max_new = params.max_new_tokens if params.max_new_tokens is not None else defaults.max_new_tokens
    temperature = params.temperature if params.temperature is not None else defaults.temperature
    seed = params.seed if params.seed is not None else random.randrange(2**31)
    return SamplingConfig(
        temperature=temperature,
        top_p=params.top_p if params.top_p is not None else defaults.top_p,
        top_k=params.top_k if params.top_k is not None else defaults.top_k,
        max_new_tokens=min(max_new, room),
        min_new_tokens=min(params.min_new_tokens or 0, max_new, room),
        seed=seed,
        repetition_penalty=params.repetition_penalty or defaults.repetition_penalty,
    )
