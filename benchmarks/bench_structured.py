"""Structured output costs on the default model's tokenizer. Prints (and with --out writes) JSON.

    python benchmarks/bench_structured.py compile [--schemas 200]      compile time per format, p50/p99
    python benchmarks/bench_structured.py mask                         mask cost per token, p50/p99
    python benchmarks/bench_structured.py throughput [--concurrency 1 16] [--new-tokens 64] [--rounds 5]

`compile` compiles distinct JSON Schemas (and regexes, choices, grammars) with an empty cache each
time. `mask` walks valid documents token by token as a sampler does: compute the mask, apply it to a
vocabulary-sized logits row, accept the token. `throughput` runs the transformers backend with and
without a JSON Schema constraint in the same run; it needs a runtime whose sampler applies
BackendRequest.constraint, and says so in its report (`constraint_applied`) when outputs show it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
from collections.abc import Callable
from typing import Any

import torch

from autoglm_core.backends.transformers_backend import HFChatTokenizer
from autoglm_core.structured import FormatKind, GrammarCompiler, GrammarConstraint, ResponseFormat
from autoglm_core.structured.vocabulary import vocabulary_for

LONG_ANSWER = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 40},
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"step": {"type": "integer"}, "text": {"type": "string", "maxLength": 60}},
                "required": ["step", "text"],
                "additionalProperties": False,
            },
            "minItems": 6,
        },
    },
    "required": ["title", "steps"],
    "additionalProperties": False,
}


def tokenizer() -> HFChatTokenizer:
    from transformers import AutoTokenizer

    from autoglm_core.models.default_model import ensure_default_model

    return HFChatTokenizer(AutoTokenizer.from_pretrained(ensure_default_model(progress=False)))


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick: Callable[[float], float] = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": pick(0.5) * 1000,
        "p99_ms": pick(0.99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "n": len(values),
    }


def random_schema(rng: random.Random, i: int) -> dict[str, Any]:
    """A schema of the kinds agents send: a few typed fields, an enum, bounds, a nested list."""
    fields: dict[str, Any] = {}
    for j in range(rng.randint(2, 8)):
        kind = rng.choice(["string", "integer", "number", "boolean", "enum", "array", "object"])
        name = f"field_{i}_{j}"
        if kind == "enum":
            fields[name] = {"enum": [f"v{k}" for k in range(rng.randint(2, 6))]}
        elif kind == "array":
            fields[name] = {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 5}
        elif kind == "object":
            fields[name] = {
                "type": "object",
                "properties": {"x": {"type": "number", "minimum": 0}},
                "required": ["x"],
            }
        elif kind == "integer":
            fields[name] = {
                "type": "integer",
                "minimum": -rng.randint(0, 100),
                "maximum": rng.randint(1, 10_000),
            }
        else:
            fields[name] = {"type": kind}
    return {
        "type": "object",
        "properties": fields,
        "required": list(fields)[:2],
        "additionalProperties": False,
    }


def bench_compile(args: argparse.Namespace) -> dict[str, Any]:
    tok = tokenizer()
    eos = [int(tok.hf.eos_token_id)]
    started = time.perf_counter()
    vocabulary_for(tok, eos)
    vocabulary_s = time.perf_counter() - started
    rng = random.Random(0)
    formats = {
        "json_schema": [ResponseFormat.json_schema(random_schema(rng, i)) for i in range(args.schemas)],
        "regex": [
            ResponseFormat(FormatKind.REGEX, pattern=f"[a-z]{{{i % 9 + 1}}}-[0-9]+") for i in range(50)
        ],
        "choice": [
            ResponseFormat(FormatKind.CHOICE, choices=tuple(f"c{i}_{k}" for k in range(8))) for i in range(50)
        ],
        "grammar": [
            ResponseFormat(FormatKind.GRAMMAR, grammar=f'start: "n{i}" expr\nexpr: /[0-9]+/ ("+" expr)?')
            for i in range(50)
        ],
    }
    report: dict[str, Any] = {"vocabulary_build_s": vocabulary_s}
    for kind, items in formats.items():
        times = []
        for fmt in items:
            compiler = GrammarCompiler()  # an empty cache: every compile is a real one
            t0 = time.perf_counter()
            compiler.compile_sync(fmt, tok, eos)
            times.append(time.perf_counter() - t0)
        report[kind] = percentiles(times)
    # A cache hit, for comparison.
    compiler = GrammarCompiler()
    compiler.compile_sync(formats["json_schema"][0], tok, eos)
    t0 = time.perf_counter()
    for _ in range(1000):
        compiler.compile_sync(formats["json_schema"][0], tok, eos)
    report["cache_hit_us"] = (time.perf_counter() - t0) / 1000 * 1e6
    return report


DOCUMENTS = [
    (
        LONG_ANSWER,
        json.dumps(
            {"title": "Boil an egg", "steps": [{"step": i, "text": f"do thing {i}"} for i in range(8)]}
        ),
    ),
    (
        {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
        '{"name": "Ada Lovelace", "age": 36}',
    ),
    ({"type": "array", "items": {"type": "number"}}, json.dumps([1.5, -2, 3e4, 0.25] * 5)),
]


def bench_mask(args: argparse.Namespace) -> dict[str, Any]:
    tok = tokenizer()
    eos = [int(tok.hf.eos_token_id)]
    compiler = GrammarCompiler()
    vocab = len(tok.hf)
    mask_times: list[float] = []
    first_times: list[float] = []  # the first mask of a request (the lexer builds states lazily)
    accept_times: list[float] = []
    for _ in range(args.rounds):
        for schema, document in DOCUMENTS:
            constraint = compiler.compile_sync(ResponseFormat.json_schema(schema), tok, eos).constraint()
            for position, token in enumerate(tok.encode(document)):
                logits = torch.randn(vocab)
                t0 = time.perf_counter()
                constraint.mask_logits(logits)
                t1 = time.perf_counter()
                assert logits[token] != float("-inf"), "a valid document's token was masked"
                constraint.accept(token)
                accept_times.append(time.perf_counter() - t1)
                (mask_times if position else first_times).append(t1 - t0)
            assert constraint.is_complete()
    return {
        "mask_and_apply": percentiles(mask_times),
        "first_mask": percentiles(first_times),
        "accept": percentiles(accept_times),
        "vocab": vocab,
    }


async def bench_throughput(args: argparse.Namespace) -> dict[str, Any]:
    from autoglm_core.backends.base import BackendRequest, SamplingConfig
    from autoglm_core.backends.transformers_backend import TransformersBackend
    from autoglm_core.models import resolve_model_source

    backend = TransformersBackend(str(resolve_model_source(args.model)), name="bench")
    await backend.load()
    tok = backend.tokenizer
    compiled = await GrammarCompiler().compile(
        ResponseFormat.json_schema(LONG_ANSWER), tok, backend.info.eos_token_ids
    )
    prompt = tok.encode(
        tok.render_chat(
            [{"role": "user", "content": "How do I boil an egg? Answer in JSON steps."}],
            enable_thinking=False,
        )
    )

    async def run(streams: int, constrained: bool) -> dict[str, Any]:
        constraints = [compiled.constraint() if constrained else None for _ in range(streams)]

        async def one(i: int) -> tuple[int, str]:
            request = BackendRequest(
                f"s{i}", prompt, SamplingConfig(max_new_tokens=args.new_tokens), constraint=constraints[i]
            )
            ids: list[int] = []
            async for chunk in backend.generate(request):
                ids.extend(chunk.token_ids)
            return len(ids), tok.decode(ids)

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(streams)))
        elapsed = time.perf_counter() - t0
        tokens = sum(n for n, _ in results)
        applied = (
            all(isinstance(c, GrammarConstraint) and c.tokens_accepted > 0 for c in constraints)
            if constrained
            else None
        )
        return {
            "streams": streams,
            "tokens": tokens,
            "tok_s": tokens / elapsed,
            "constraint_applied": applied,
        }

    runs = []
    for streams in args.concurrency:
        await run(streams, False)  # warm-up at this batch size
        # Alternating rounds, so load from elsewhere on the machine falls on both sides alike.
        rounds = [(await run(streams, False), await run(streams, True)) for _ in range(args.rounds)]
        free, constrained = _total([f for f, _ in rounds]), _total([c for _, c in rounds])
        # Without a sampler that applies the constraint, both runs are free: no cost to report.
        cost = 1 - constrained["tok_s"] / free["tok_s"] if constrained["constraint_applied"] else None
        runs.append({"free": free, "constrained": constrained, "cost": cost, "rounds": rounds})
    await backend.close()
    return {"runs": runs, "new_tokens": args.new_tokens}


def _total(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one kind added up: tokens over the time they took together."""
    tokens = sum(r["tokens"] for r in rounds)
    seconds = sum(r["tokens"] / r["tok_s"] for r in rounds)
    applied = [r["constraint_applied"] for r in rounds]
    return {
        "streams": rounds[0]["streams"],
        "tokens": tokens,
        "tok_s": tokens / seconds,
        "constraint_applied": None if None in applied else all(applied),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["compile", "mask", "throughput"])
    parser.add_argument("--schemas", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="openautoglm-base-v1")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.what == "compile":
        report = bench_compile(args)
    elif args.what == "mask":
        report = bench_mask(args)
    else:
        report = asyncio.run(bench_throughput(args))
    report = {
        "benchmark": f"structured.{args.what}",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
        },
        **report,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
