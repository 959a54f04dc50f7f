"""Tool choice as constrained generation: the model itself picks the tool, for models too small to
call tools natively (the alternative to the embedding/lexical router, per model: tool_modes "choice").

One short greedy turn answers a selection prompt with `{"tool": <name or "none">, "arguments": ...}`,
constrained so that it always parses and the arguments validate against that tool's schema
(structured/tools.py). The chosen call then runs like the router's: its result goes into the prompt.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from autoglm_core.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from autoglm_core.generation.decoding import TurnDecoder
from autoglm_core.generation.offload import offload
from autoglm_core.generation.prepare import PreparedRequest, Preparer
from autoglm_core.generation.turn import Progress, TurnRunner
from autoglm_core.generation.types import ContentDelta, GenerationParams
from autoglm_core.structured.tools import NO_TOOL, tool_choice_format
from autoglm_core.tools.registry import ToolSpec
from autoglm_core.tools.router import Route

# Enough for a name and a few short arguments; the grammar closes the object well before.
CHOICE_MAX_TOKENS = 96
SELECTION_INSTRUCTION = (
    "Pick the tool that answers the user's question, with its arguments taken from the question, "
    'or "none" if no tool fits. Answer with JSON only.'
)

log = logging.getLogger(__name__)


class ChoiceUnavailable(Exception):
    """The request's tools cannot form a choice grammar (an admin-registered schema the compiler
    refuses); the caller falls back to the router, or to no tool."""


class ToolChooser:
    """Runs the selection turn for a request and returns the model's choice (None: no tool)."""

    def __init__(self, preparer: Preparer, turns: TurnRunner) -> None:
        self.preparer = preparer
        self.turns = turns

    async def choose(
        self, params: GenerationParams, prepared: PreparedRequest, query: str, progress: Progress
    ) -> Route | None:
        """The model's choice among the request's tools; its turn's tokens count in the usage."""
        tools = {spec.name: spec for spec in prepared.tools}
        backend = prepared.backend
        try:
            compiled = await self.preparer.structured.compile(
                tool_choice_format({name: spec.parameters for name, spec in tools.items()}),
                backend.tokenizer,
                backend.info.eos_token_ids,
            )
        except (InvalidArgument, ResourceExhausted, FailedPrecondition) as error:
            log.warning("tool choice unavailable for this request's tools: %s", error)
            raise ChoiceUnavailable(str(error)) from error
        selection = replace(
            prepared,
            messages=selection_messages(query, list(tools.values())),
            response=compiled,
            tool_calls=None,
            tools=[],
            tool_mode="native",
            call_opening="",
            starts_in_reasoning=False,
            enable_thinking=False,
            shared_prefix_tokens=0,
            sampling=replace(
                prepared.sampling, temperature=0.0, max_new_tokens=CHOICE_MAX_TOKENS, min_new_tokens=0
            ),
        )
        selection.prompt_ids, _ = await offload(self.preparer.render, selection)
        plain = replace(params, thinking=False, stop=[], want_logprobs=False)
        spent = Progress(progress.started, progress.limit_at)
        decoder = TurnDecoder(backend.tokenizer, [], starts_in_reasoning=False, emit_reasoning=False)
        text = "".join(
            [
                e.text
                async for e in self.turns.run(plain, selection, decoder, spent)
                if isinstance(e, ContentDelta)
            ]
        )
        progress.side_prompt_tokens += spent.prompt_tokens
        progress.side_completion_tokens += spent.completion_tokens
        return parse_choice(text, tools)


def selection_messages(query: str, tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """A system message listing the tools (name, parameters, description) and the user's question."""
    lines = [SELECTION_INSTRUCTION, "", "Tools:"]
    for spec in tools:
        properties = spec.parameters.get("properties") or {}
        arguments = ", ".join(f"{name}: {schema.get('type', 'any')}" for name, schema in properties.items())
        summary = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        lines.append(f"- {spec.name}({arguments}): {summary}")
    return [{"role": "system", "content": "\n".join(lines)}, {"role": "user", "content": query}]


def parse_choice(text: str, tools: dict[str, ToolSpec]) -> Route | None:
    """The constrained document as a Route; None for "none" or a document the token limit cut."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    name = document.get("tool") if isinstance(document, dict) else None
    spec = tools.get(name) if isinstance(name, str) and name != NO_TOOL else None
    if spec is None:
        return None
    arguments = document.get("arguments")
    return Route(spec, arguments if isinstance(arguments, dict) else {}, 1.0)
