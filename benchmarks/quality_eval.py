"""Answer quality: the server's path against the raw model, on the same questions in the same run.

Questions (benchmarks/quality/questions.jsonl): facts in English and Chinese, arithmetic, multi-turn
recall through sessions, knowledge-base questions and tool questions (expected tool and arguments;
some need no tool). Modes:

- raw: the model alone through transformers, its tokenizer's own chat template, only the user turns
  and its own earlier answers (no system message, no knowledge, no tools).
- raw_cot: raw plus the prompted <think> instruction (does the family follow a prompted format?).
- server: the engine in-process with its defaults (prompt profile, sessions, knowledge, router).
- server_thinking: the same with thinking on (fact and arithmetic questions).
- server_choice: the server with tool_modes {"*": "choice"} (tool questions): the model itself picks
  the tool and its arguments by constrained generation instead of the router.

Scoring is simple: an answer is right when, after NFKC, lower-casing and collapsing spaces, it
contains one of the expected strings, or the expected number (tool questions: the value the expected
tool returns). Greedy decoding, so runs repeat.

    python benchmarks/quality_eval.py [--limit-per-category N] [--modes raw,server] [--out report.json]

Prints a table of accuracy per category and mode with latency, then writes the JSON report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm_core.generation.engine import Engine
from autoglm_core.generation.types import GenerationParams, GenerationResult
from autoglm_core.reasoning.prompted import COT_SYSTEM_PROMPT, add_cot_instruction
from autoglm_core.reasoning.think_parser import ThinkingStreamParser
from autoglm_core.tools.builtin import calculate, convert_units, get_time
from autoglm_core.wiring.container import Container, build_container, load_configured_model
from autoglm_core.wiring.settings import Settings

QUESTIONS = Path(__file__).resolve().parent / "quality" / "questions.jsonl"
MODES = ("raw", "raw_cot", "server", "server_thinking", "server_choice")
THINKING_CATEGORIES = ("fact_en", "fact_zh", "arithmetic")
Message = dict[str, Any]


# ---- the eval's own tools: made-up, deterministic data (no model can know it) -------------------

Currency = Literal["USD", "EUR", "GBP", "JPY", "CNY"]
_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.3, "CNY": 7.24}
_CONDITIONS = ("sunny", "cloudy", "rain", "snow", "windy")


def get_weather(city: str) -> dict[str, Any]:
    """Current weather in a city: whether it is sunny, cloudy, raining, snowing or windy, and the
    temperature.

    Args:
        city: Name of the city.
    """
    code = sum(map(ord, city.lower()))
    return {"result": _CONDITIONS[code % 5], "temperature": f"{code % 30} celsius", "city": city}


def get_exchange_rate(base: Currency, quote: Currency) -> dict[str, Any]:
    """Exchange rate between two currencies: how much of the quote currency one unit of the base buys.

    Args:
        base: The currency to convert from.
        quote: The currency to convert to.
    """
    return {"result": round(_RATES[quote] / _RATES[base], 4), "unit": f"{quote} per {base}"}


def get_stock_price(symbol: str) -> dict[str, Any]:
    """Latest stock price of a company's shares, by ticker symbol.

    Args:
        symbol: Ticker symbol such as AAPL.
    """
    return {"result": round(50 + sum(map(ord, symbol.upper())) % 400 + 0.25, 2), "unit": "USD"}


EVAL_TOOLS: dict[str, Callable[..., Any]] = {
    "calculate": calculate,
    "convert_units": convert_units,
    "get_time": get_time,
    "get_weather": get_weather,
    "get_exchange_rate": get_exchange_rate,
    "get_stock_price": get_stock_price,
}


# ---- questions and scoring -----------------------------------------------------------------------


@dataclass
class Item:
    id: str
    category: str
    turns: list[str]
    expect: list[str] = field(default_factory=list)
    expect_number: float | None = None
    knowledge: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    expect_tool: str | None = None
    expect_arguments: dict[str, Any] = field(default_factory=dict)
    thinking: bool = False


def load_questions(
    path: Path = QUESTIONS, limit_per_category: int | None = None, categories: Sequence[str] = ()
) -> list[Item]:
    items = [Item(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    items = [item for item in items if not categories or item.category in categories]
    if limit_per_category is None:
        return items
    counts: dict[str, int] = defaultdict(int)
    kept = []
    for item in items:
        counts[item.category] += 1
        if counts[item.category] <= limit_per_category:
            kept.append(item)
    return kept


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    found = []
    for raw in _NUMBER.findall(normalise(text)):
        try:
            found.append(float(raw.replace(",", "")))
        except ValueError:
            continue
    return found


def has_number(text: str, want: float) -> bool:
    """The number, as written or rounded to two decimals (37.78 for 37.777778)."""
    return any(abs(got - want) <= max(0.006, abs(want) * 1e-4) for got in numbers_in(text))


def expected_value(item: Item) -> Any:
    """A tool question's right answer: the expected tool's result for the expected arguments."""
    if item.expect_tool is None:
        return None
    result = EVAL_TOOLS[item.expect_tool](**item.expect_arguments)
    return result.get("result") if isinstance(result, dict) else result


def contains_value(answer: str, value: Any) -> bool:
    if isinstance(value, int | float):
        return has_number(answer, float(value))
    if isinstance(value, str) and re.fullmatch(r"\d\d:\d\d", value):  # a time: within two minutes
        hours, minutes = map(int, value.split(":"))
        for h, m in re.findall(r"(\d{1,2}):(\d\d)", answer):
            if abs((int(h) * 60 + int(m)) - (hours * 60 + minutes)) <= 2:
                return True
        return False
    return normalise(str(value)) in normalise(answer)


def is_correct(item: Item, answer: str, tool_value: Any = None) -> bool | None:
    """None where a question has nothing to check (a tool question that needs no tool)."""
    if item.category == "tool":
        if item.expect_tool is None:
            return None
        if item.expect_tool == "get_time" and tool_value is not None:
            return contains_value(answer, tool_value)  # the time when the server's call ran
        return contains_value(answer, expected_value(item))
    if item.expect_number is not None:
        return has_number(answer, item.expect_number)
    text = normalise(answer)
    return any(normalise(e) in text for e in item.expect)


def same_arguments(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if set(got) != set(want):
        return False
    for key, value in want.items():
        other = got[key]
        if isinstance(value, int | float) and isinstance(other, int | float):
            if float(value) != float(other):
                return False
        elif normalise(str(value)) != normalise(str(other)):
            return False
    return True


INSTRUCTION_LINES = [line.strip() for line in COT_SYSTEM_PROMPT.split(".") if len(line.strip()) > 20]
# The example lines the earlier prompt carried, which a small model copied back as its answer.
OLD_EXAMPLE_LINES = ["Identify what is being asked", "Work out the result"]


def leaks_instruction(answer: str) -> bool:
    return any(line.lower() in answer.lower() for line in [*INSTRUCTION_LINES, *OLD_EXAMPLE_LINES])


# ---- the raw model -------------------------------------------------------------------------------


@dataclass
class Answer:
    text: str
    latency_ms: float
    reasoning: str = ""
    tool_name: str | None = None
    tool_arguments: dict[str, Any] = field(default_factory=dict)
    tool_value: Any = None
    thinking: str = "off"


class RawModel:
    """The model alone: transformers, its own chat template, greedy decoding in batches."""

    def __init__(self, model: str, max_new_tokens: int, batch_size: int = 8) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from autoglm_core.models.default_model import is_default_alias, resolve_model_source

        source = resolve_model_source(model) if is_default_alias(model) else Path(model)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(source, local_files_only=True).eval()
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size

    def answer(self, conversations: Sequence[list[Message]]) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for start in range(0, len(conversations), self.batch_size):
            batch = conversations[start : start + self.batch_size]
            texts = [
                self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False)
                for m in batch
            ]
            encoded = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            started = time.perf_counter()
            with self.torch.inference_mode():
                generated = self.model.generate(
                    **encoded,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            latency_ms = (time.perf_counter() - started) * 1000
            width = encoded["input_ids"].shape[1]
            for row in generated:
                out.append((self.tokenizer.decode(row[width:], skip_special_tokens=True).strip(), latency_ms))
        return out


def run_raw(raw: RawModel, items: Sequence[Item], cot: bool = False) -> dict[str, Answer]:
    """Multi-turn items go turn by turn: each turn sees the model's own earlier answers."""
    histories: dict[str, list[Message]] = {item.id: [] for item in items}
    answers: dict[str, Answer] = {}
    for turn in range(max(len(item.turns) for item in items)):
        active = [item for item in items if turn < len(item.turns)]
        conversations = []
        for item in active:
            histories[item.id].append({"role": "user", "content": item.turns[turn]})
            messages = histories[item.id]
            conversations.append(add_cot_instruction(messages) if cot else list(messages))
        for item, (text, latency_ms) in zip(active, raw.answer(conversations), strict=True):
            reasoning, content = split_think(text) if cot else ("", text)
            histories[item.id].append({"role": "assistant", "content": content})
            previous = answers.get(item.id)
            total = latency_ms + (previous.latency_ms if previous else 0.0)
            answers[item.id] = Answer(content, total, reasoning, thinking="prompted" if cot else "off")
    return answers


def split_think(text: str) -> tuple[str, str]:
    parser = ThinkingStreamParser()
    pieces = parser.feed(text) + parser.finish()
    reasoning = "".join(t for kind, t in pieces if kind == "reasoning")
    return reasoning.strip(), "".join(t for kind, t in pieces if kind == "content").strip()


# ---- the server's path ---------------------------------------------------------------------------


async def start_engine(model: str, data_dir: Path, **settings: Any) -> tuple[Container, Engine]:
    """The server's container and engine in-process, with the eval's tools registered."""
    config = Settings(model=model, data_dir=data_dir, **settings)
    container = build_container(config)
    registry = container.tools().registry
    for name, function in EVAL_TOOLS.items():
        if name not in {spec.name for spec in registry.specs()}:
            registry.add(function, name)
    await load_configured_model(container, config)
    engine: Engine = container.engine()
    return container, engine


async def run_server(
    container: Container,
    engine: Engine,
    items: Sequence[Item],
    *,
    thinking: bool,
    max_new_tokens: int,
    concurrency: int,
    tag: str,
) -> dict[str, Answer]:
    knowledge = container.knowledge()
    for item in items:
        for text in item.knowledge:
            await knowledge.add(f"{tag}-{item.id}", text)
    limit = asyncio.Semaphore(concurrency)

    async def ask(item: Item) -> tuple[str, Answer]:
        async with limit:
            started = time.perf_counter()
            result: GenerationResult | None = None
            for text in item.turns:  # multi-turn items continue one session
                params = GenerationParams(
                    prompt=text,
                    temperature=0.0,
                    max_new_tokens=max_new_tokens,
                    thinking=thinking,
                    allowed_tools=list(item.tools),
                    session_id=f"{tag}-{item.id}" if len(item.turns) > 1 else "",
                    user_id=f"{tag}-{item.id}",
                )
                result = await engine.generate(params)
            assert result is not None
            answer = Answer(
                result.text,
                (time.perf_counter() - started) * 1000,
                result.reasoning,
                thinking=result.finished.thinking,
            )
            if result.tool_calls:
                call = result.tool_calls[0]
                answer.tool_name, answer.tool_arguments = call.name, call.arguments
                if not call.error and isinstance(call.result, dict):
                    answer.tool_value = call.result.get("result")
            return item.id, answer

    return dict(await asyncio.gather(*(ask(item) for item in items)))


# ---- the report ----------------------------------------------------------------------------------


def summarise(items: Sequence[Item], answers: dict[str, dict[str, Answer]]) -> dict[str, Any]:
    by_category: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_category[item.category].append(item)
    table: dict[str, dict[str, Any]] = {}
    for category, members in by_category.items():
        row: dict[str, Any] = {}
        for mode, got in answers.items():
            scored = [
                (is_correct(i, got[i.id].text, got[i.id].tool_value), got[i.id])
                for i in members
                if i.id in got
            ]
            checked = [(ok, a) for ok, a in scored if ok is not None]
            if not checked:
                continue
            latencies = [a.latency_ms for _, a in scored]
            row[mode] = {
                "accuracy": round(sum(ok for ok, _ in checked) / len(checked), 3),
                "n": len(checked),
                "latency_ms_p50": round(statistics.median(latencies), 1),
                "reasoning_nonempty": round(sum(bool(a.reasoning) for _, a in scored) / len(scored), 3),
                "instruction_leaks": sum(leaks_instruction(a.text) for _, a in scored),
            }
        table[category] = row
    tools = {
        mode: metrics
        for mode in ("server", "server_choice")
        if (metrics := tool_metrics(items, answers.get(mode, {})))
    }
    return {"categories": table, "tools": tools}


def tool_metrics(items: Sequence[Item], got: dict[str, Answer]) -> dict[str, Any]:
    """Router recall/precision, right arguments, and whether a tool's result reached the answer."""
    questions = [i for i in items if i.category == "tool" and i.id in got]
    if not questions:
        return {}
    needing = [i for i in questions if i.expect_tool is not None]
    routed = [i for i in questions if got[i.id].tool_name is not None]
    right_tool = [i for i in needing if got[i.id].tool_name == i.expect_tool]
    right_args = [i for i in right_tool if same_arguments(got[i.id].tool_arguments, i.expect_arguments)]
    ran = [i for i in questions if got[i.id].tool_value is not None]
    in_answer = [i for i in ran if contains_value(got[i.id].text, got[i.id].tool_value)]
    return {
        "router_recall": round(len(right_tool) / max(len(needing), 1), 3),
        "router_precision": round(
            sum(got[i.id].tool_name == i.expect_tool for i in routed) / max(len(routed), 1), 3
        ),
        "right_tool_and_arguments": round(len(right_args) / max(len(needing), 1), 3),
        "result_in_answer_when_run": round(len(in_answer) / max(len(ran), 1), 3),
        "misses": [
            {
                "id": i.id,
                "question": i.turns[-1],
                "tool": got[i.id].tool_name,
                "arguments": got[i.id].tool_arguments,
            }
            for i in needing
            if i not in right_args
        ],
        "result_not_in_answer": [
            {"id": i.id, "value": got[i.id].tool_value, "answer": got[i.id].text}
            for i in ran
            if i not in in_answer
        ],
    }


def render_table(summary: dict[str, Any], modes: Sequence[str]) -> str:
    head = "| category | " + " | ".join(f"{m} acc | {m} p50 ms" for m in modes) + " |"
    lines = [head, "|" + " --- |" * (1 + 2 * len(modes))]
    for category, row in summary["categories"].items():
        cells = [category]
        for mode in modes:
            r = row.get(mode)
            cells += [f"{r['accuracy']:.0%} ({r['n']})", f"{r['latency_ms_p50']:.0f}"] if r else ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    for mode, tools in summary["tools"].items():
        lines.append(
            f"\ntools ({mode}): recall {tools['router_recall']:.0%}, precision "
            f"{tools['router_precision']:.0%}, right tool and arguments "
            f"{tools['right_tool_and_arguments']:.0%}, result in the answer when the tool ran "
            f"{tools['result_in_answer_when_run']:.0%}"
        )
    leaks = {
        m: sum(r.get(m, {}).get("instruction_leaks", 0) for r in summary["categories"].values())
        for m in modes
    }
    reasoning = {
        m: [r[m]["reasoning_nonempty"] for r in summary["categories"].values() if m in r] for m in modes
    }
    lines.append(f"instruction lines in answers: {leaks}")
    lines.append(
        "reasoning non-empty: "
        + ", ".join(f"{m} {statistics.fmean(v):.0%}" for m, v in reasoning.items() if v)
    )
    return "\n".join(lines)


async def run_engine_modes(
    model: str,
    settings: dict[str, Any],
    runs: Sequence[tuple[str, bool, Sequence[Item]]],
    answers: dict[str, dict[str, Answer]],
    timings: dict[str, float],
    max_new_tokens: int,
    concurrency: int,
) -> None:
    """One in-process engine with `settings` answers each (mode, thinking, items) run in turn."""
    with tempfile.TemporaryDirectory() as data_dir:
        container, engine = await start_engine(model, Path(data_dir), **settings)
        try:
            for mode, thinking, subset in runs:
                started = time.perf_counter()
                answers[mode] = await run_server(
                    container,
                    engine,
                    subset,
                    thinking=thinking,
                    max_new_tokens=max_new_tokens,
                    concurrency=concurrency,
                    tag=mode,
                )
                timings[mode] = round(time.perf_counter() - started, 1)
        finally:
            for backend in engine.registry.backends():
                await backend.close()


async def evaluate(
    items: Sequence[Item],
    modes: Sequence[str],
    *,
    model: str = "openautoglm-base-v1",
    max_new_tokens: int = 48,
    concurrency: int = 8,
    cot_items: int = 30,
    torch_threads: int = 0,
    **settings: Any,
) -> dict[str, Any]:
    if torch_threads:
        # On a busy shared CPU one thread is many times faster than two that wait on each other.
        import torch

        torch.set_num_threads(torch_threads)
    answers: dict[str, dict[str, Answer]] = {}
    timings: dict[str, float] = {}
    thinking_items = [i for i in items if i.category in THINKING_CATEGORIES]
    if "raw" in modes or "raw_cot" in modes:
        raw = RawModel(model, max_new_tokens)
        # The prompted format is a measurement for the profile, on an even sample of the questions.
        cot_sample = thinking_items[:: max(1, len(thinking_items) // cot_items)][:cot_items]
        for mode, cot, subset in (("raw", False, items), ("raw_cot", True, cot_sample)):
            if mode in modes and subset:
                started = time.perf_counter()
                answers[mode] = run_raw(raw, subset, cot=cot)
                timings[mode] = round(time.perf_counter() - started, 1)
        del raw
    tool_items = [i for i in items if i.category == "tool"]
    runs = [
        (mode, thinking, subset)
        for mode, thinking, subset in (("server", False, items), ("server_thinking", True, thinking_items))
        if mode in modes and subset
    ]
    # The model's constrained tool choice needs an engine of its own (a server-wide setting).
    choice_runs = [("server_choice", False, tool_items)] if "server_choice" in modes and tool_items else []
    for engine_runs, engine_settings in (
        (runs, settings),
        (choice_runs, {**settings, "tool_modes": {"*": "choice"}}),
    ):
        if engine_runs:
            await run_engine_modes(
                model, engine_settings, engine_runs, answers, timings, max_new_tokens, concurrency
            )
    summary = summarise(items, answers)
    summary["wall_s"] = timings
    summary["answers"] = {mode: {key: vars(a) for key, a in got.items()} for mode, got in answers.items()}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--limit-per-category", type=int, default=None)
    parser.add_argument("--categories", default="", help="comma-separated; empty: all")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--model", default="openautoglm-base-v1")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cot-items", type=int, default=30, help="questions for raw_cot")
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/quality.json"))
    args = parser.parse_args()
    categories = [c for c in args.categories.split(",") if c]
    items = load_questions(args.questions, args.limit_per_category, categories)
    modes = [m for m in args.modes.split(",") if m]
    summary = asyncio.run(
        evaluate(
            items,
            modes,
            model=args.model,
            max_new_tokens=args.max_new_tokens,
            concurrency=args.concurrency,
            cot_items=args.cot_items,
            torch_threads=args.torch_threads,
        )
    )
    print(render_table(summary, modes))
    print(f"wall seconds per mode: {summary['wall_s']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
