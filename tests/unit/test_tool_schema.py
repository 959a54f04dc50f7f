"""Tool schemas from Python functions: Google docstrings, type hints, and what is refused."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest

from autoglm_core.tools.schema import function_schema, parse_docstring


def test_docstring_summary_and_arguments_with_continuations_and_types() -> None:
    summary, described = parse_docstring(
        """Search the catalogue.

        Looks in every shelf.

        Args:
            query (str): Words to look for,
                several allowed.
            limit: How many results.

        Returns:
            The matches.
        """
    )
    assert summary == "Search the catalogue.\n\nLooks in every shelf."
    assert described == {"query": "Words to look for, several allowed.", "limit": "How many results."}


def test_schema_types_defaults_and_optional_values() -> None:
    def search(
        query: str,
        title: str | None = None,
        kind: Literal["book", "film"] = "book",
        tags: list[str] | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = 10,
    ) -> list[str]:
        """Search the catalogue.

        Args:
            query: Words to look for.
            title: Only this title.
            kind: What to look for.
            tags: Tags every match has.
            filters: More conditions.
            limit: How many results.
        """
        return []

    description, schema = function_schema(search)
    assert description == "Search the catalogue."
    assert schema["required"] == ["query"]
    props = schema["properties"]
    assert props["query"] == {"type": "string", "description": "Words to look for."}
    assert props["kind"] == {
        "type": "string",
        "enum": ["book", "film"],
        "default": "book",
        "description": "What to look for.",
    }
    assert props["limit"] == {"type": "integer", "default": 10, "description": "How many results."}
    # A parameter named "title" is kept; pydantic's generated titles are not.
    assert props["title"]["description"] == "Only this title."
    assert "title" not in props["query"]
    validator = jsonschema.Draft202012Validator(schema)
    assert (
        list(validator.iter_errors({"query": "x", "tags": ["a"], "title": None, "filters": {"y": 1}})) == []
    )
    assert list(validator.iter_errors({"query": "x", "kind": "song"}))
    assert list(validator.iter_errors({"limit": 3}))  # query is required


def test_a_function_without_arguments_has_an_empty_object_schema() -> None:
    def now() -> str:
        """The current time."""
        return ""

    assert function_schema(now) == ("The current time.", {"type": "object", "properties": {}})


DOC = '    """Do.\n\n    Args:\n        x: A value.\n    """\n'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x: int) -> int:\n    return x\n", "no docstring"),
        ("def f(x) -> int:\n" + DOC, "no type hint"),
        ("def f(x: int, y: int) -> int:\n" + DOC, "'y'"),
        ("class Opaque: ...\ndef f(x: Opaque) -> int:\n" + DOC, "Opaque"),
        ("def f(x: 'Missing') -> int:\n" + DOC, "Missing"),
    ],
)
def test_functions_the_model_could_not_call_are_refused(source: str, message: str) -> None:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    with pytest.raises(TypeError, match=message):
        function_schema(namespace["f"])
