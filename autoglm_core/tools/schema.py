"""The JSON schema of a Python tool: types from its hints (pydantic), texts from its docstring.

Pydantic derives the types, so building the built-in tools imports neither transformers nor torch
(transformers' `get_json_schema` imports torch to map `torch.Tensor`), and a mock server stays light.
Docstrings are Google style: a summary, then an `Args:` section with one `name: description` each.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from typing import Any, NotRequired, Required

from pydantic import PydanticUserError, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

_SECTION = re.compile(r"^(Args|Arguments|Returns?|Raises|Yields?|Examples?|Notes?):[ \t]*$", re.MULTILINE)
_ARGUMENT = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?:\s*(.*)$")
# Schema keywords whose values are data, not schemas: never rewritten.
_DATA_KEYWORDS = frozenset({"default", "enum", "const", "examples"})
_NO_DEFAULT = object()


def parse_docstring(docstring: str) -> tuple[str, dict[str, str]]:
    """The summary of a Google-style docstring and the description of each argument in `Args:`."""
    parts = _SECTION.split(inspect.cleandoc(docstring))
    summary = parts[0].strip()
    described: dict[str, str] = {}
    for section, body in zip(parts[1::2], parts[2::2], strict=True):
        if section in ("Args", "Arguments"):
            described = _arguments(body)
    return summary, described


def _arguments(body: str) -> dict[str, str]:
    """`name: text` lines; deeper-indented lines continue the previous argument's text."""
    found: dict[str, str] = {}
    current = ""
    indent: int | None = None
    for line in body.splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        match = _ARGUMENT.match(line.strip())
        if match and (indent is None or depth <= indent):
            indent, current = depth, match.group(1)
            found[current] = match.group(2).strip()
        elif current:
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found


def function_schema(fn: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """A function's description and the JSON schema of its parameters.

    Raises TypeError when the docstring or an argument's type hint or description is missing, or
    when a type has no JSON schema: the model could not call such a tool correctly.
    """
    summary, described = parse_docstring(inspect.getdoc(fn) or "")
    if not summary:
        raise TypeError("it has no docstring")
    try:
        hints = typing.get_type_hints(fn)
    except NameError as error:  # a hint naming a type that does not exist where fn was defined
        raise TypeError(str(error)) from error
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for parameter in _parameters(fn):
        if parameter.name not in hints:
            raise TypeError(f"argument {parameter.name!r} has no type hint")
        if parameter.name not in described:
            raise TypeError(f"the docstring's Args section does not describe argument {parameter.name!r}")
        if parameter.default is inspect.Parameter.empty:
            fields[parameter.name] = Required[hints[parameter.name]]
        else:
            fields[parameter.name] = NotRequired[hints[parameter.name]]
            defaults[parameter.name] = parameter.default
    # A TypedDict rather than a model: any argument name is allowed (a model's would clash with
    # BaseModel attributes such as `schema`).
    arguments = TypedDict("Arguments", fields)  # type: ignore[misc]
    try:
        schema = _without_titles(TypeAdapter(typing.cast(Any, arguments)).json_schema())
    except PydanticUserError as error:  # a type with no JSON schema
        raise TypeError(str(error)) from error
    # Extra arguments are ignored when the tool runs (no additionalProperties: false from pydantic).
    properties = {
        name: _described(prop, described[name], defaults.get(name, _NO_DEFAULT))
        for name, prop in schema.get("properties", {}).items()
    }
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        parameters["required"] = schema["required"]
    if "$defs" in schema:
        parameters["$defs"] = schema["$defs"]
    return summary, parameters


def _described(prop: dict[str, Any], description: str, default: Any) -> dict[str, Any]:
    """The property with its type first, its default when JSON has one, and its description."""
    typed = {"type": prop["type"]} if "type" in prop else {}
    shown = {"default": default} if _is_json(default) else {}
    return typed | prop | shown | {"description": description}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return value is not _NO_DEFAULT


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p for p in inspect.signature(fn).parameters.values() if p.kind not in variadic]


def _without_titles(schema: Any) -> Any:
    """Pydantic's generated titles ("Time" for `time`) only cost the model prompt tokens."""
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: value if key in _DATA_KEYWORDS else _without_titles(value)
        for key, value in schema.items()
        if not (key == "title" and isinstance(value, str))
    }
