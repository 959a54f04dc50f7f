"""response_format from Python values: a JSON Schema dict, a pydantic model class, or a dict naming
the kind ({"type": "regex", "pattern": ...}, like OpenAI's response_format)."""

from __future__ import annotations

import json
from typing import Any

from autoglm.v1 import generation_pb2

_KINDS = ("text", "json_object", "json_schema", "regex", "choice", "grammar")
_SYNTAX = {"lark": generation_pb2.GRAMMAR_SYNTAX_LARK, "gbnf": generation_pb2.GRAMMAR_SYNTAX_GBNF}

ResponseFormatLike = generation_pb2.ResponseFormat | dict[str, Any] | type


def build_response_format(value: ResponseFormatLike) -> generation_pb2.ResponseFormat:
    """The ResponseFormat message for `value`:

    - a pydantic model class: a JSON Schema of it (`model_json_schema()`);
    - a dict whose "type" is a kind: {"type": "json_object"}, {"type": "json_schema", "json_schema":
      {"schema": {...}, "strict": True}}, {"type": "regex", "pattern": "..."}, {"type": "choice",
      "choices": [...]}, {"type": "grammar", "grammar": "...", "syntax": "lark" | "gbnf"};
    - any other dict: a JSON Schema.
    """
    if isinstance(value, generation_pb2.ResponseFormat):
        return value
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return _schema(value.model_json_schema(), strict=True)
    if not isinstance(value, dict):
        raise TypeError("response_format must be a dict, a pydantic model class or a ResponseFormat")
    kind = value.get("type")
    if kind not in _KINDS:
        return _schema(value, strict=True)
    if kind == "text":
        return generation_pb2.ResponseFormat(text=generation_pb2.TextFormat())
    if kind == "json_object":
        return generation_pb2.ResponseFormat(json_object=generation_pb2.JsonObjectFormat())
    if kind == "json_schema":
        spec = value.get("json_schema") or {}
        return _schema(spec.get("schema", {}), strict=spec.get("strict", True))
    if kind == "regex":
        return generation_pb2.ResponseFormat(regex=generation_pb2.RegexFormat(pattern=value["pattern"]))
    if kind == "choice":
        return generation_pb2.ResponseFormat(choice=generation_pb2.ChoiceFormat(choices=value["choices"]))
    syntax = _SYNTAX[value.get("syntax", "lark")]
    return generation_pb2.ResponseFormat(
        grammar=generation_pb2.GrammarFormat(text=value["grammar"], syntax=syntax)
    )


def _schema(schema: dict[str, Any] | str, *, strict: bool) -> generation_pb2.ResponseFormat:
    text = schema if isinstance(schema, str) else json.dumps(schema, ensure_ascii=False)
    return generation_pb2.ResponseFormat(
        json_schema=generation_pb2.JsonSchemaFormat(schema=text, strict=strict)
    )
