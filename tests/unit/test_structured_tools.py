"""Tool calls as constrained generation: arguments always valid for the tool's schema."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest
import torch

from autoglm_core.backends.mock import EOS_ID, VOCAB_SIZE, ByteTokenizer
from autoglm_core.structured import GrammarCompiler, ResponseFormat
from autoglm_core.structured.compiler import CompiledFormat
from autoglm_core.structured.tools import (
    ToolCallConstraint,
    close_tag_for,
    hermes_call_format,
    tool_choice_format,
)
from autoglm_core.tools.parsers import HermesToolCallParser, parse_text

TOKENIZER = ByteTokenizer()
TOOLS = {
    "get_weather": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "add": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "minimum": 0}},
        "required": ["a", "b"],
    },
}


def compile_now(fmt: ResponseFormat) -> CompiledFormat:
    return asyncio.run(GrammarCompiler().compile(fmt, TOKENIZER, [EOS_ID]))


def allowed(constraint: ToolCallConstraint) -> set[int]:
    logits = torch.zeros(VOCAB_SIZE)
    constraint.mask_logits(logits)
    return set(torch.nonzero(logits == 0).flatten().tolist())


def feed(constraint: ToolCallConstraint, text: str) -> None:
    for token in TOKENIZER.encode(text):
        assert token in allowed(constraint), f"{chr(token - 3)!r} masked in {text!r}"
        constraint.accept(token)


def test_text_is_free_and_each_call_block_is_a_valid_call() -> None:
    constraint = ToolCallConstraint(compile_now(hermes_call_format(TOOLS)))
    turn = (
        "Let me check <b>both</b>.<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "巴黎", "unit": "c"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "add", "arguments": {"a": -2, "b": 3}}\n</tool_call>'
    )
    feed(constraint, turn)
    assert constraint.calls_completed == 2 and not constraint.in_call
    assert allowed(constraint) == set(range(VOCAB_SIZE))  # free again after the block
    parsed = parse_text(HermesToolCallParser(TOOLS), turn)
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("get_weather", {"city": "巴黎", "unit": "c"}),
        ("add", {"a": -2, "b": 3}),
    ]


@pytest.mark.parametrize(
    ("prefix", "forbidden"),
    [
        ('<tool_call>\n{"name": "', "x"),  # not an allowed tool's name
        ('<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": ', "-"),  # minimum 0
        ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "x", "unit": "c"', ","),  # no extra keys
    ],
)
def test_what_breaks_a_call_is_masked(prefix: str, forbidden: str) -> None:
    constraint = ToolCallConstraint(compile_now(hermes_call_format(TOOLS)))
    feed(constraint, prefix)
    assert constraint.in_call
    assert ord(forbidden) + 3 not in allowed(constraint)


def test_the_special_token_closing_tag_is_used_where_the_model_has_one() -> None:
    vocabulary = compile_now(ResponseFormat.json_schema({"type": "object"})).vocabulary
    assert close_tag_for(vocabulary) == '"</tool_call>"'  # bytes only in the mock's vocabulary


def test_tool_choice_is_one_allowed_tool_with_valid_arguments_or_none() -> None:
    fmt = tool_choice_format(TOOLS)
    schema = json.loads(fmt.schema_json)
    compiled = compile_now(fmt)
    for document in ['{"tool": "add", "arguments": {"a": 1, "b": 2}}', '{"tool": "none", "arguments": {}}']:
        constraint = compiled.constraint()
        for token in TOKENIZER.encode(document):
            constraint.accept(token)
        assert constraint.is_complete()
        jsonschema.validate(json.loads(document), schema)
    wrong = compiled.constraint()
    for token in TOKENIZER.encode('{"tool": "add", "arguments": {"city": '):
        wrong.accept(token)
    assert wrong.error  # "city" is not an argument of add: the mask would never offer it
