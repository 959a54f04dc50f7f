"""The tool registry: schemas from Python functions, HTTP tool validation, what may be deleted."""

from __future__ import annotations

from typing import Literal

import pytest

from autoglm_core.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from autoglm_core.tools.builtin import calculate, convert_units, get_time, register_builtins
from autoglm_core.tools.registry import HttpSpec, ToolRegistry, ToolSpec, tool

CITY_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def http_tool(
    name: str = "weather", url: str = "https://api.example.com/weather/{city}", **kw: object
) -> ToolSpec:
    spec = HttpSpec(method=kw.pop("method", "GET"), url_template=url, **kw)  # type: ignore[arg-type]
    return ToolSpec(name, "Weather for a city.", dict(CITY_SCHEMA), "http", http=spec)


def test_decorator_derives_the_schema_from_hints_and_docstring() -> None:
    @tool
    def book_table(restaurant: str, people: int, time: Literal["lunch", "dinner"] = "dinner") -> str:
        """Book a table at a restaurant.

        Args:
            restaurant: Name of the restaurant.
            people: How many guests.
            time: Which meal.
        """
        return "ok"

    registry = ToolRegistry()
    spec = registry.add(book_table)
    assert spec.name == "book_table" and spec.kind == "python"
    assert spec.description == "Book a table at a restaurant."
    assert spec.parameters["required"] == ["restaurant", "people"]
    props = spec.parameters["properties"]
    assert props["people"] == {"type": "integer", "description": "How many guests."}
    assert props["time"]["enum"] == ["lunch", "dinner"]
    assert spec.openai_schema()["function"]["name"] == "book_table"


def test_registry_tool_decorator_and_undocumented_function() -> None:
    registry = ToolRegistry()

    @registry.tool
    def ping(host: str) -> str:
        """Ping a host.

        Args:
            host: The host.
        """
        return host

    assert registry.get("ping").function is ping

    def undocumented(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="undocumented"):
        registry.add(undocumented)


def test_builtins_are_python_tools_that_cannot_be_deleted() -> None:
    registry = ToolRegistry()
    register_builtins(registry)
    assert [s.name for s in registry.specs()] == ["calculate", "convert_units", "get_time"]
    with pytest.raises(FailedPrecondition):
        registry.delete("convert_units")
    with pytest.raises(NotFound):
        registry.delete("nope")
    assert convert_units(100, "celsius", "fahrenheit")["result"] == pytest.approx(212)
    assert convert_units(5, "km", "mile")["result"] == pytest.approx(3.106856, rel=1e-5)
    with pytest.raises(ValueError, match="cannot convert"):
        convert_units(1, "kg", "km")
    assert get_time("Asia/Shanghai")["datetime"].endswith("+08:00")
    assert calculate(1250, "divide", 25) == {"result": 50, "a": 1250, "operation": "divide", "b": 25}
    assert calculate(2, "power", 0.5)["result"] == pytest.approx(1.414214)
    with pytest.raises(ValueError, match="by zero"):
        calculate(1, "divide", 0)


def test_http_tool_register_get_delete() -> None:
    registry = ToolRegistry(secret_names=["weather_key"])
    registry.register_http(http_tool(secret_headers={"X-Api-Key": "weather_key"}))
    assert registry.get("weather").http is not None
    with pytest.raises(AlreadyExists):
        registry.register_http(http_tool())
    registry.delete("weather")
    with pytest.raises(NotFound):
        registry.get("weather")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (http_tool(name="bad name!"), "name"),
        (http_tool(name="x" * 65), "name"),
        (http_tool(url="ftp://example.com/{city}"), "http.url_template"),
        (http_tool(url="/relative/{city}"), "http.url_template"),
        (http_tool(url="https://{city}.example.com/"), "http.url_template"),
        (http_tool(url="https://example.com/{town}"), "http.url_template"),
        (http_tool(url="https://user:pw@example.com/{city}"), "http.url_template"),
        (http_tool(url="https://example.com/{city"), "http.url_template"),
        (http_tool(method="DELETE"), "http.method"),
        (http_tool(secret_headers={"X-Key": "missing_secret"}), "http.secret_headers['X-Key']"),
        (http_tool(secret_headers={"Bad Header": "weather_key"}), "http.secret_headers['Bad Header']"),
        (http_tool(timeout_s=0), "http.timeout_ms"),
        (
            ToolSpec("t", "", {"type": "array"}, "http", http=HttpSpec("GET", "https://e.com/")),
            "parameters_json_schema",
        ),
        (
            ToolSpec(
                "t", "", {"type": "object", "properties": 3}, "http", http=HttpSpec("GET", "https://e.com/")
            ),
            "parameters_json_schema",
        ),
    ],
)
def test_invalid_http_tools_are_refused_with_the_field(spec: ToolSpec, field: str) -> None:
    registry = ToolRegistry(secret_names=["weather_key"])
    with pytest.raises(InvalidArgument) as caught:
        registry.register_http(spec)
    assert field in [v.field for v in caught.value.violations]
    assert registry.specs() == []


def test_http_tool_cannot_take_a_python_tool_name_and_vice_versa() -> None:
    registry = ToolRegistry()
    registry.add(get_time)
    with pytest.raises(AlreadyExists):
        registry.register_http(http_tool(name="get_time"))
    registry.register_http(http_tool(name="convert_units"))
    with pytest.raises(AlreadyExists):
        registry.add(convert_units)
