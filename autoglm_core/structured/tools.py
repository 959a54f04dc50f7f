"""Tool calls as constrained generation.

- `hermes_call_format`: the inside of one Hermes call block (`<tool_call>` ... `</tool_call>`, the
  format of Qwen2.5/Qwen3 and most fine-tunes): `{"name": <an allowed tool>, "arguments": <valid
  under that tool's JSON Schema>}`. `ToolCallConstraint` leaves the model's text free and applies it
  inside each block the model opens, so every call it makes parses and validates.
- `tool_choice_format`: for models too small to call tools natively, the whole answer is a choice
  `{"tool": <name or "none">, "arguments": {...}}` constrained like any JSON Schema.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import llguidance

from autoglm_core.backends.base import ChatTokenizer
from autoglm_core.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from autoglm_core.structured.compiler import CompiledFormat, GrammarCompiler
from autoglm_core.structured.constraint import GrammarConstraint
from autoglm_core.structured.formats import JSON_LAYOUT, FormatKind, ResponseFormat
from autoglm_core.structured.vocabulary import vocabulary_for

log = logging.getLogger(__name__)

CALL_OPEN = b"<tool_call>"
NO_TOOL = "none"
_WS = "/[ \\t\\r\\n]*/"


def hermes_call_format(
    tools: Mapping[str, dict[str, Any]], close_tag: str = '"</tool_call>"'
) -> ResponseFormat:
    """The grammar of what follows `<tool_call>` up to and including the closing tag; `tools` maps
    names to parameter schemas. `close_tag` is a Lark string, or `<name>` for a special token."""
    if not tools:
        raise ValueError("at least one tool is required")
    rules = [
        f"start: {_WS} call {_WS} {close_tag}",
        "call: " + " | ".join(f"call_{i}" for i in range(len(tools))),
    ]
    for i, (name, schema) in enumerate(tools.items()):
        head = json.dumps(f'{{"name": {json.dumps(name)}, "arguments": ')
        rules.append(f'call_{i}: {head} args_{i} "}}"')
        # Lenient: a keyword the library cannot enforce in a tool's schema must not stop its calls.
        options = {"lenient": True, **JSON_LAYOUT}
        rules.append(f"args_{i}: %json {json.dumps({**_object_schema(schema), 'x-guidance': options})}")
    return ResponseFormat(FormatKind.GRAMMAR, grammar="\n".join(rules))


async def compile_tool_calls(
    compiler: GrammarCompiler,
    tools: Mapping[str, dict[str, Any]],
    tokenizer: ChatTokenizer,
    eos_ids: Sequence[int],
) -> CompiledFormat | None:
    """The compiled call-block grammar of a request's tools; None when a schema cannot be compiled
    (the calls are then parsed and checked after the fact, as without constraints)."""
    try:
        vocabulary = await asyncio.to_thread(vocabulary_for, tokenizer, eos_ids)
        fmt = hermes_call_format(tools, close_tag_for(vocabulary))
        return await compiler.compile(fmt, tokenizer, eos_ids)
    except (InvalidArgument, ResourceExhausted, FailedPrecondition) as error:
        log.warning("tool calls stay unconstrained: %s", error)
        return None


def close_tag_for(vocabulary: llguidance.LLTokenizer, tag: str = "</tool_call>") -> str:
    """How the grammar names the closing tag: the special token when the model has one (Qwen),
    else the text."""
    ids = vocabulary.tokenize_str(tag, parse_special=True)
    if len(ids) == 1 and vocabulary.is_special_token(ids[0]):
        return tag
    return json.dumps(tag)


def tool_choice_format(tools: Mapping[str, dict[str, Any]]) -> ResponseFormat:
    """A JSON Schema for `{"tool": name, "arguments": {...}}` (arguments valid for that tool), or
    `{"tool": "none", "arguments": {}}` when no tool fits."""
    options = [_choice(name, schema) for name, schema in tools.items()]
    options.append(_choice(NO_TOOL, {"type": "object", "properties": {}, "additionalProperties": False}))
    return ResponseFormat.json_schema({"anyOf": options})


def _choice(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    # Only the tool's own parameters: a small model otherwise invents arguments the tool refuses.
    arguments = {"additionalProperties": False, **_object_schema(schema)}
    return {
        "type": "object",
        "properties": {"tool": {"const": name}, "arguments": arguments},
        "required": ["tool", "arguments"],
        "additionalProperties": False,
    }


def _object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameters schema; arguments are always an object."""
    return schema if schema.get("type") == "object" else {**schema, "type": "object"}


class ToolCallConstraint:
    """TokenConstraint for a turn with native tool calls: text is free; inside each `<tool_call>`
    block the call's grammar applies until its closing tag, then text is free again."""

    def __init__(self, call: CompiledFormat) -> None:
        self._call = call
        self._vocabulary = call.vocabulary
        self._block: GrammarConstraint | None = None  # the open call block's constraint
        self._tail = b""  # the end of the free text, to see an opening tag split across tokens
        self.calls_completed = 0

    @property
    def in_call(self) -> bool:
        return self._block is not None

    def mask_logits(self, logits: Any) -> None:
        if self._block is not None:
            self._block.mask_logits(logits)

    def accept(self, token_id: int) -> None:
        if self._block is not None:
            self._block.accept(token_id)
            if self._block.is_finished():
                self._block = None
                self.calls_completed += 1
            return
        text = self._tail + self._vocabulary.decode_bytes([token_id])
        start = text.find(CALL_OPEN)
        if start < 0:
            self._tail = text[-(len(CALL_OPEN) - 1) :]
            return
        self._tail = b""
        self._block = self._call.constraint()
        rest = text[start + len(CALL_OPEN) :]
        if rest:  # the same token went on past the tag
            self._block.accept_bytes(rest)

    def is_finished(self) -> bool:
        return False  # the model ends its turn itself
