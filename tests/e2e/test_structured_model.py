"""Structured output on the real default model's logits: every constrained output is a valid document.

The constraints are driven the way a batched greedy sampler drives them (tests/structured_support.py),
so these tests hold whatever runtime serves the model.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import jsonschema
import pytest

from autoglm_core.backends.transformers_backend import HFChatTokenizer
from autoglm_core.structured import FormatKind, GrammarCompiler, GrammarConstraint, ResponseFormat
from autoglm_core.structured.compiler import CompiledFormat
from autoglm_core.structured.tools import ToolCallConstraint, hermes_call_format
from autoglm_core.tools.parsers import HermesToolCallParser, parse_text
from tests.structured_support import Row, default_model, greedy_batch

pytestmark = pytest.mark.model

SUBJECTS = ["Paris", "a cat named Tom", "the planet Mars", "an old bicycle", "北京", "a pizza restaurant"]
# Prompts per format: small on CPU (about two minutes in all); raise it where an accelerator serves.
PER_FORMAT = int(os.environ.get("AUTOGLM_STRUCTURED_PROMPTS", "2"))
NAME = {"type": "string", "minLength": 1, "maxLength": 24}
SCHEMAS: dict[str, dict[str, Any]] = {
    "flat": {
        "type": "object",
        "properties": {"name": NAME, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    "nested": {
        "type": "object",
        "properties": {
            "place": {
                "type": "object",
                "properties": {"city": NAME, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                "required": ["city", "zip"],
                "additionalProperties": False,
            },
            "tags": {"type": "array", "items": NAME, "minItems": 1, "maxItems": 3},
        },
        "required": ["place", "tags"],
        "additionalProperties": False,
    },
    "enums": {
        "type": "object",
        "properties": {
            "color": {"enum": ["red", "green", "blue"]},
            "size": {"type": "string", "enum": ["small", "large"]},
            "count": {"type": "integer", "minimum": 1, "maximum": 9},
        },
        "required": ["color", "size", "count"],
        "additionalProperties": False,
    },
    "numbers": {
        "type": "object",
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 60},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
        },
        "required": ["temperature", "ratio", "year"],
        "additionalProperties": False,
    },
    "unicode": {
        "type": "object",
        "properties": {"名称": NAME, "描述": {"type": "string", "maxLength": 30}, "ok": {"type": "boolean"}},
        "required": ["名称", "描述", "ok"],
        "additionalProperties": False,
    },
    "array_of_objects": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"item": NAME, "price": {"type": "number", "minimum": 0, "maximum": 1000}},
            "required": ["item", "price"],
            "additionalProperties": False,
        },
        "minItems": 1,
        "maxItems": 2,
    },
    "nullable": {
        "type": "object",
        "properties": {
            "answer": {"anyOf": [NAME, {"type": "null"}]},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
        },
        "required": ["answer", "confidence"],
        "additionalProperties": False,
    },
}


def _subjects() -> list[str]:
    n = len(SUBJECTS)
    return [SUBJECTS[i % n] + (f" (version {i // n + 1})" if i >= n else "") for i in range(PER_FORMAT)]


@pytest.fixture(scope="module")
def tokenizer() -> HFChatTokenizer:
    return HFChatTokenizer(default_model()[1])


@pytest.fixture(scope="module")
def compiler() -> GrammarCompiler:
    return GrammarCompiler()


def _eos(tokenizer: HFChatTokenizer) -> list[int]:
    return [int(tokenizer.hf.eos_token_id)]


def _compile(compiler: GrammarCompiler, fmt: ResponseFormat, tokenizer: HFChatTokenizer) -> CompiledFormat:
    return compiler.compile_sync(fmt, tokenizer, _eos(tokenizer))


def _prompt(tokenizer: HFChatTokenizer, question: str) -> list[int]:
    text = tokenizer.render_chat([{"role": "user", "content": question}], enable_thinking=False)
    return tokenizer.encode(text)


def _run(rows: list[Row], tokenizer: HFChatTokenizer, max_new_tokens: int) -> list[str]:
    greedy_batch(rows, max_new_tokens=max_new_tokens, eos_ids=_eos(tokenizer))
    return [tokenizer.decode(r.output_ids) for r in rows]


def test_every_json_output_parses_and_validates(
    compiler: GrammarCompiler, tokenizer: HFChatTokenizer
) -> None:
    rows, expected = [], []
    for name, schema in SCHEMAS.items():
        compiled = _compile(compiler, ResponseFormat.json_schema(schema), tokenizer)
        for subject in _subjects():
            question = f"Describe {subject} as JSON with the fields {list(schema.get('properties', {}))}."
            rows.append(Row(_prompt(tokenizer, question), compiled.constraint()))
            expected.append((name, schema))
    outputs = _run(rows, tokenizer, max_new_tokens=96)
    for row, text, (name, schema) in zip(rows, outputs, expected, strict=True):
        assert isinstance(row.constraint, GrammarConstraint)
        assert row.constraint.is_complete(), f"{name}: cut at {text!r} ({row.constraint.error})"
        jsonschema.validate(json.loads(text), schema)  # raises on any invalid document
    # The model is free inside the schema: the answers are not all the same.
    assert len(set(outputs)) > len(SCHEMAS)


def test_regex_choice_and_grammar_outputs_match(
    compiler: GrammarCompiler, tokenizer: HFChatTokenizer
) -> None:
    pattern = r"[0-9]{3}-[0-9]{4}"
    choices = ("positive", "negative", "neutral")
    # Bounded: an open-ended (OP NUM)* lets a small model count on until max_new_tokens.
    lark = 'start: expr\nexpr: NUM OP NUM\nNUM: /[1-9][0-9]?/\nOP: " + " | " - " | " * "'
    formats = [
        (ResponseFormat(FormatKind.REGEX, pattern=pattern), "Give me a phone number.", re.compile(pattern)),
        (ResponseFormat(FormatKind.CHOICE, choices=choices), "Is 'I love it' positive or negative?", None),
        (ResponseFormat(FormatKind.GRAMMAR, grammar=lark), "Write a sum of two numbers.", None),
    ]
    rows, checks = [], []
    for fmt, question, check in formats:
        compiled = _compile(compiler, fmt, tokenizer)
        for subject in _subjects():
            rows.append(Row(_prompt(tokenizer, f"{question} ({subject})"), compiled.constraint()))
            checks.append((fmt, check))
    outputs = _run(rows, tokenizer, max_new_tokens=24)
    for text, (fmt, check) in zip(outputs, checks, strict=True):
        if fmt.kind == FormatKind.REGEX:
            assert check is not None and check.fullmatch(text), text
        elif fmt.kind == FormatKind.CHOICE:
            assert text in choices
        else:
            assert re.fullmatch(r"[1-9][0-9]? [-+*] [1-9][0-9]?", text), text


def test_json_starts_after_reasoning_split_across_tokens(
    compiler: GrammarCompiler, tokenizer: HFChatTokenizer
) -> None:
    """A prompt that opens <think>: the reasoning (with JSON-like text in it) passes untouched, the
    closing tag arrives as several tokens, and the answer after it is a valid document."""
    schema = SCHEMAS["enums"]
    compiled = _compile(compiler, ResponseFormat.json_schema(schema), tokenizer)
    reasoning = tokenizer.encode('The user wants {"color": ...}; blue is nice.\n')
    tag = tokenizer.encode("</think>")
    assert len(tag) > 1  # the tag is not one token for this model
    forced = reasoning + tag + tokenizer.encode("\n\n")
    rows = []
    for subject in _subjects():
        constraint = compiled.constraint("open")
        for token in reasoning + tag[:-1]:  # what the model "wrote" while reasoning: no mask applies
            constraint.accept(token)
            assert not constraint.active
        for token in forced[len(reasoning) + len(tag) - 1 :]:
            constraint.accept(token)
        assert constraint.active
        prompt = _prompt(tokenizer, f"Describe {subject} as JSON.") + tokenizer.encode("<think>\n")
        rows.append(Row(prompt + forced, constraint))
    for row, text in zip(rows, _run(rows, tokenizer, max_new_tokens=48), strict=True):
        assert isinstance(row.constraint, GrammarConstraint) and row.constraint.is_complete(), text
        jsonschema.validate(json.loads(text), schema)


def test_a_cut_document_reports_incomplete(compiler: GrammarCompiler, tokenizer: HFChatTokenizer) -> None:
    compiled = _compile(compiler, ResponseFormat.json_schema(SCHEMAS["nested"]), tokenizer)
    row = Row(_prompt(tokenizer, "Describe Paris as JSON."), compiled.constraint())
    [text] = _run([row], tokenizer, max_new_tokens=6)
    assert isinstance(row.constraint, GrammarConstraint)
    assert len(row.output_ids) == 6 and not row.constraint.is_complete()
    assert text.startswith('{"place": {')  # a prefix of a valid document


def test_constrained_and_free_requests_share_a_batch(
    compiler: GrammarCompiler, tokenizer: HFChatTokenizer
) -> None:
    """Masks are per request: free rows decode exactly as they do alone, constrained rows stay valid."""
    compiled = _compile(compiler, ResponseFormat.json_schema(SCHEMAS["flat"]), tokenizer)
    question = _prompt(tokenizer, "Who was Ada Lovelace?")
    alone = Row(question, None)
    _run([alone], tokenizer, max_new_tokens=12)
    mixed = [Row(question, compiled.constraint()), Row(question, None), Row(question, compiled.constraint())]
    _run(mixed, tokenizer, max_new_tokens=12)
    # (The first tokens: batched float sums may differ in the last bits from a batch of one.)
    assert mixed[1].output_ids[:4] == alone.output_ids[:4]
    assert not tokenizer.decode(mixed[1].output_ids).startswith("{")
    for row in (mixed[0], mixed[2]):
        assert tokenizer.decode(row.output_ids).startswith('{"name": "')


def test_a_tool_call_block_is_a_valid_call(compiler: GrammarCompiler, tokenizer: HFChatTokenizer) -> None:
    """Once the model opens <tool_call>, the name is an allowed tool and the arguments valid."""
    tools = {
        "get_weather": {
            "type": "object",
            "properties": {"city": NAME, "unit": {"enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "convert": {
            "type": "object",
            "properties": {
                "value": {"type": "number", "minimum": 0, "maximum": 1000},
                "to": {"enum": ["km", "mi"]},
            },
            "required": ["value", "to"],
            "additionalProperties": False,
        },
    }
    compiled = _compile(compiler, hermes_call_format(tools), tokenizer)
    opened = tokenizer.encode("<tool_call>\n")
    rows = []
    for question in ["What is the weather in Paris?", "Convert 5 km to miles."]:
        constraint = ToolCallConstraint(compiled)
        for token in opened:
            constraint.accept(token)
        assert constraint.in_call
        rows.append(Row(_prompt(tokenizer, question) + opened, constraint))
    for row, text in zip(rows, _run(rows, tokenizer, max_new_tokens=40), strict=True):
        assert isinstance(row.constraint, ToolCallConstraint) and row.constraint.calls_completed == 1, text
        [call] = parse_text(HermesToolCallParser(tools), "<tool_call>\n" + text).calls
        jsonschema.validate(call.arguments, tools[call.name])
