"""What a caller may ask the output to be: a response format, checked and turned into a grammar.

A format is plain data (hashable, so compiled grammars can be cached by it). `grammar_text` turns it
into the grammar text llguidance reads; nothing here needs a tokenizer, so bad input is caught before
any compiling.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import llguidance

if TYPE_CHECKING:  # a TypedDict only in the library's stubs
    from llguidance._lib import JsonCompileOptions

from autoglm_core.errors import InvalidArgument

# Bigger inputs are refused as too large (RESOURCE_EXHAUSTED) before any compiling.
MAX_FORMAT_CHARS = 64_000
MAX_CHOICES = 256

# One canonical JSON layout: small models left free to put whitespace anywhere may never stop.
JSON_LAYOUT: JsonCompileOptions = {
    "whitespace_flexible": False,
    "item_separator": ", ",
    "key_separator": ": ",
}


class FormatKind(enum.Enum):
    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"
    REGEX = "regex"
    CHOICE = "choice"
    GRAMMAR = "grammar"


class GrammarSyntax(enum.Enum):
    LARK = "lark"
    # llama.cpp's GBNF; llguidance converts it to Lark.
    GBNF = "gbnf"


@dataclass(frozen=True)
class ResponseFormat:
    """One response format. Only the fields of its kind are set; `text` constrains nothing."""

    kind: FormatKind = FormatKind.TEXT
    # JSON_SCHEMA: the schema as compact JSON text, so equal schemas share a cache entry (key order is
    # kept: properties are generated in the schema's order).
    schema_json: str = ""
    # JSON_SCHEMA: reject keywords the library cannot enforce (else they are ignored).
    strict: bool = True
    # REGEX: the pattern the whole output must match.
    pattern: str = ""
    # CHOICE: the output is exactly one of these strings.
    choices: tuple[str, ...] = ()
    # GRAMMAR: the grammar text and its syntax.
    grammar: str = ""
    syntax: GrammarSyntax = GrammarSyntax.LARK

    @property
    def constrained(self) -> bool:
        return self.kind != FormatKind.TEXT

    @property
    def is_json(self) -> bool:
        return self.kind in (FormatKind.JSON_OBJECT, FormatKind.JSON_SCHEMA)

    @property
    def size(self) -> int:
        """Characters of user input in this format (what MAX_FORMAT_CHARS limits)."""
        return len(self.schema_json) + len(self.pattern) + len(self.grammar) + sum(map(len, self.choices))

    @staticmethod
    def json_schema(schema: dict[str, Any] | str, *, strict: bool = True) -> ResponseFormat:
        """A JSON Schema format; `schema` is a dict or JSON text."""
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError as error:
                raise InvalidArgument.one("json_schema.schema", f"not valid JSON: {error}") from None
        if not isinstance(schema, dict):
            raise InvalidArgument.one("json_schema.schema", "must be a JSON object")
        text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
        return ResponseFormat(FormatKind.JSON_SCHEMA, schema_json=text, strict=strict)


def response_format_from_python(value: Any) -> ResponseFormat | None:
    """The format a Python caller means (the in-process API, the OpenAI-style dicts):

    - a pydantic model class: its JSON Schema (`model_json_schema()`);
    - a dict whose "type" is a kind: {"type": "json_object"}, {"type": "json_schema", "json_schema":
      {"schema": {...}, "strict": True}}, {"type": "regex", "pattern": "..."}, {"type": "choice",
      "choices": [...]}, {"type": "grammar", "grammar": "...", "syntax": "lark" | "gbnf"};
    - any other dict: a JSON Schema. None and {"type": "text"} constrain nothing.
    """
    if value is None:
        return None
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return ResponseFormat.json_schema(value.model_json_schema())
    if not isinstance(value, dict):
        raise InvalidArgument.one("response_format", "must be a dict or a pydantic model class")
    kinds = {kind.value: kind for kind in FormatKind}
    kind = kinds.get(str(value.get("type")))
    if kind is None:
        return ResponseFormat.json_schema(value)
    if kind is FormatKind.TEXT:
        return None
    if kind is FormatKind.JSON_SCHEMA:
        spec = value.get("json_schema") or {}
        return ResponseFormat.json_schema(spec.get("schema", {}), strict=bool(spec.get("strict", True)))
    if kind is FormatKind.REGEX:
        return ResponseFormat(kind, pattern=str(value.get("pattern", "")))
    if kind is FormatKind.CHOICE:
        return ResponseFormat(kind, choices=tuple(str(c) for c in value.get("choices", ())))
    if kind is FormatKind.GRAMMAR:
        syntax = GrammarSyntax(str(value.get("syntax", "lark")))
        return ResponseFormat(kind, grammar=str(value.get("grammar", "")), syntax=syntax)
    return ResponseFormat(kind)


def grammar_text(fmt: ResponseFormat) -> str:
    """The llguidance grammar for a constrained format. InvalidArgument names the field, relative to
    the response format (`regex.pattern`, `choice.choices[2]`), that cannot be used."""
    if fmt.kind == FormatKind.JSON_OBJECT:
        return llguidance.LLMatcher.grammar_from_json_schema({"type": "object"}, defaults=JSON_LAYOUT)
    if fmt.kind == FormatKind.JSON_SCHEMA:
        options: JsonCompileOptions = {**JSON_LAYOUT, "lenient": not fmt.strict}
        return llguidance.LLMatcher.grammar_from_json_schema(fmt.schema_json, overrides=options)
    if fmt.kind == FormatKind.REGEX:
        if not fmt.pattern:
            raise InvalidArgument.one("regex.pattern", "must not be empty")
        return llguidance.LLMatcher.grammar_from_regex(fmt.pattern)
    if fmt.kind == FormatKind.CHOICE:
        return llguidance.LLMatcher.grammar_from_lark(_choice_lark(fmt.choices))
    if fmt.kind == FormatKind.GRAMMAR:
        return _grammar_from(fmt)
    raise ValueError(f"{fmt.kind} constrains nothing")


def format_field(fmt: ResponseFormat) -> str:
    """The field of a format that its grammar comes from, for error paths."""
    return {
        FormatKind.JSON_OBJECT: "json_object",
        FormatKind.JSON_SCHEMA: "json_schema.schema",
        FormatKind.REGEX: "regex.pattern",
        FormatKind.CHOICE: "choice.choices",
        FormatKind.GRAMMAR: "grammar.text",
    }.get(fmt.kind, "")


def _choice_lark(choices: tuple[str, ...]) -> str:
    if not choices:
        raise InvalidArgument.one("choice.choices", "at least one choice is required")
    if len(choices) > MAX_CHOICES:
        raise InvalidArgument.one("choice.choices", f"at most {MAX_CHOICES} choices")
    for i, choice in enumerate(choices):
        if not choice:
            raise InvalidArgument.one(f"choice.choices[{i}]", "must not be empty")
    if len(set(choices)) != len(choices):
        raise InvalidArgument.one("choice.choices", "must not repeat a choice")
    # JSON string literals are valid Lark string literals (same escapes).
    return "start: " + " | ".join(json.dumps(c, ensure_ascii=False) for c in choices)


def _grammar_from(fmt: ResponseFormat) -> str:
    if not fmt.grammar.strip():
        raise InvalidArgument.one("grammar.text", "must not be empty")
    if fmt.syntax == GrammarSyntax.LARK:
        return llguidance.LLMatcher.grammar_from_lark(fmt.grammar)
    try:
        return llguidance.grammar_from("gbnf", fmt.grammar)
    except ValueError as error:  # the GBNF -> Lark conversion failed
        raise InvalidArgument.one("grammar.text", str(error)) from None
