"""OpenAI's response formats -> the engine's ResponseFormat.

Chat completions send `response_format`: {"type": "json_object"} or {"type": "json_schema",
"json_schema": {"name", "schema", "strict"}}. The Responses API sends the same inside `text.format`,
flat: {"type": "json_schema", "name", "schema", "strict"}. `strict` is false unless sent, as OpenAI
defines it: the output is constrained either way, and strict only refuses schema keywords that
cannot be enforced (rather than ignoring them). Our other kinds (regex, choice, grammar) are taken
as extensions in the shapes the in-process API reads.
"""

from __future__ import annotations

from typing import Any

from autoglm_core.errors import FieldViolation, InvalidArgument
from autoglm_core.structured.formats import ResponseFormat, response_format_from_python


def format_renames(field: str, *, nested_schema: bool) -> dict[str, str]:
    """Engine field paths of a format (`response_format.regex.pattern`) -> the request's, for a format
    sent in `field`; `nested_schema` when the schema sits in a "json_schema" object (chat)."""
    return {
        "response_format.json_schema": f"{field}.json_schema" if nested_schema else field,
        "response_format.json_object": field,
        "response_format.regex": field,
        "response_format.choice": field,
        "response_format.grammar.text": f"{field}.grammar",
        "response_format": field,
    }


CHAT_RENAMES = format_renames("response_format", nested_schema=True)
RESPONSES_RENAMES = format_renames("text.format", nested_schema=False)


# Errors name fields as the engine does (`response_format.json_schema.schema`); each route's renames
# (CHAT_RENAMES, RESPONSES_RENAMES) turn them into the request's own paths.


def chat_response_format(given: dict[str, Any] | None) -> ResponseFormat | None:
    """The format of a chat completion's `response_format`; None for text (or none sent)."""
    if not given:
        return None
    kind = given.get("type")
    if kind is None:
        raise InvalidArgument.one("response_format.type", "is required")
    if kind == "json_schema":
        spec = given.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise InvalidArgument.one("response_format.json_schema.schema", "is required")
        given = {
            "type": kind,
            "json_schema": {"schema": spec["schema"], "strict": spec.get("strict") is True},
        }
    return _known(given)


def responses_text_format(given: dict[str, Any] | None) -> ResponseFormat | None:
    """The format of a Responses request's `text.format`; None for text (or none sent)."""
    if not given:
        return None
    if given.get("type") == "json_schema":
        if "schema" not in given:
            raise InvalidArgument.one("response_format.json_schema.schema", "is required")
        spec = {"schema": given["schema"], "strict": given.get("strict") is True}
        given = {"type": "json_schema", "json_schema": spec}
    return _known(given)


def _known(given: dict[str, Any]) -> ResponseFormat | None:
    # A dict without a known "type" is a schema to response_format_from_python; here it is a mistake.
    kinds = ("text", "json_object", "json_schema", "regex", "choice", "grammar")
    if given.get("type") not in kinds:
        raise InvalidArgument.one("response_format.type", f"must be one of {', '.join(kinds)}")
    try:
        return response_format_from_python(given)
    except InvalidArgument as error:  # fields relative to the format: named as the engine names them
        raise InvalidArgument(
            [FieldViolation(f"response_format.{v.field}", v.description) for v in error.violations]
        ) from None
    except ValueError as error:  # an unknown grammar syntax
        raise InvalidArgument.one("response_format.syntax", str(error)) from None
