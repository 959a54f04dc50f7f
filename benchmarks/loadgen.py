"""Load generator: drives a real server over gRPC and reports throughput and latency as JSON.

    python benchmarks/loadgen.py sweep --backend transformers --concurrency 1,4,16,64
    python benchmarks/loadgen.py overhead          # mock backend, zero latency: server cost only,
                                                   # next to an empty grpc.aio servicer (the ceiling)
    python benchmarks/loadgen.py priority          # high-priority TTFT under low-priority load
    python benchmarks/loadgen.py soak --backend mock --requests 10000 --cancel-fraction 0.3
    python benchmarks/loadgen.py longprompt --concurrency 4   # running streams' gaps while a long
                                                   # prompt is prefilled (chunked vs whole)

Each run writes one JSON report (stdout, and --out if given). The `sweep` also measures plain
transformers `generate` and llama.cpp (llamacpp_baseline.py, when llama-cpp-python is installed:
`pip install -e '.[bench]'`) on the same prompts in the same run (after the server has stopped, so
they never share the CPU), and reports the ratios and each side's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm_client import AsyncAutoGLMClient
from benchmarks.server_process import ServerProcess

PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for writing clear code.",
    "Explain what a gRPC stream is in one paragraph.",
    "Write a short poem about the sea.",
    "How many legs does a spider have?",
    "Summarise the benefits of unit tests.",
    "What is 12 times 7?",
    "Name three planets of the solar system.",
]


@dataclass
class StreamStats:
    ttft_s: float = 0.0
    gaps_s: list[float] = field(default_factory=list)
    tokens: int = 0
    ok: bool = True


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def one_stream(
    client: AsyncAutoGLMClient,
    prompt: str,
    max_new_tokens: int,
    priority: int = 5,
    cancel_after: int | None = None,
    fixed_length: bool = False,
) -> StreamStats:
    stats = StreamStats()
    started = last = time.perf_counter()
    call = client.stream(
        prompt,
        max_new_tokens=max_new_tokens,
        min_new_tokens=max_new_tokens if fixed_length else None,
        priority=priority,
        temperature=0.0,
    )
    try:
        async for event in call:
            now = time.perf_counter()
            if event.HasField("content_delta") or event.HasField("reasoning_delta"):
                if stats.ttft_s == 0.0:
                    stats.ttft_s = now - started
                else:
                    stats.gaps_s.append(now - last)
                last = now
                if cancel_after is not None and len(stats.gaps_s) >= cancel_after:
                    call.cancel()
                    break
            elif event.HasField("finished"):
                stats.tokens = event.finished.usage.completion_tokens
    except Exception:
        stats.ok = False
    return stats


def summarise(results: list[StreamStats], wall_s: float) -> dict[str, Any]:
    ok = [r for r in results if r.ok]
    tokens = sum(r.tokens for r in ok)
    ttfts = [r.ttft_s * 1000 for r in ok]
    gaps = [g * 1000 for r in ok for g in r.gaps_s]
    return {
        "requests": len(results),
        "errors": len(results) - len(ok),
        "completion_tokens": tokens,
        "wall_s": round(wall_s, 3),
        "tokens_per_s": round(tokens / wall_s, 1) if wall_s else 0.0,
        "ttft_ms_p50": round(percentile(ttfts, 50), 1),
        "ttft_ms_p99": round(percentile(ttfts, 99), 1),
        "itl_ms_p50": round(percentile(gaps, 50), 2),
        "itl_ms_p99": round(percentile(gaps, 99), 2),
    }


async def run_level(target: str, concurrency: int, requests: int, max_new_tokens: int) -> dict[str, Any]:
    async with AsyncAutoGLMClient(target, timeout=600) as client:
        await one_stream(client, PROMPTS[0], 4)  # warm-up
        queue = list(range(requests))
        results: list[StreamStats] = []

        async def worker() -> None:
            while queue:
                i = queue.pop()
                # Exactly max_new_tokens each, as the baseline's static batch generates.
                prompt = PROMPTS[i % len(PROMPTS)]
                results.append(await one_stream(client, prompt, max_new_tokens, fixed_length=True))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"concurrency": concurrency, **summarise(results, time.perf_counter() - started)}


def baseline_generate(model_dir: str, concurrency: int, max_new_tokens: int) -> dict[str, Any]:
    """Plain transformers: the same chat prompts as one static batch, greedy, fixed length."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    texts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for i in range(concurrency)
    ]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    kwargs = {"max_new_tokens": max_new_tokens, "min_new_tokens": max_new_tokens, "do_sample": False}
    with torch.inference_mode():
        model.generate(**batch, max_new_tokens=4, do_sample=False)  # warm-up
        started = time.perf_counter()
        model.generate(**batch, **kwargs)
        wall = time.perf_counter() - started
    return {"concurrency": concurrency, "tokens_per_s": round(concurrency * max_new_tokens / wall, 1)}


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(c) for c in args.concurrency.split(",")]
    flags = [
        "--backend",
        args.backend,
        "--max-running",
        str(max(levels)),
    ]
    if args.model:
        flags += ["--model", args.model]
    if args.backend == "transformers":
        flags += ["--quantization", args.quantization]
    report: dict[str, Any] = {
        "benchmark": "sweep",
        "backend": args.backend,
        "quantization": args.quantization,
        "max_new_tokens": args.max_new_tokens,
        "levels": [],
    }
    with ServerProcess(flags) as server:
        for level in levels:
            requests = max(level * args.rounds, level)
            result = asyncio.run(run_level(server.target, level, requests, args.max_new_tokens))
            result.update(server.memory_mb())
            report["levels"].append(result)
            print(json.dumps(result), file=sys.stderr)
    if args.baseline and args.backend == "transformers":
        from autoglm_core.models.default_model import resolve_model_source

        model_dir = str(resolve_model_source(args.model or "openautoglm-base-v1"))
        for entry in report["levels"]:
            base = baseline_generate(model_dir, entry["concurrency"], args.max_new_tokens)
            entry["baseline_generate_tokens_per_s"] = base["tokens_per_s"]
            entry["ratio_to_baseline"] = round(entry["tokens_per_s"] / base["tokens_per_s"], 2)
            llama = baseline_llamacpp(entry["concurrency"], args.max_new_tokens)
            if llama:
                entry["llamacpp"] = llama
                entry["ratio_to_llamacpp"] = round(entry["tokens_per_s"] / llama["tokens_per_s"], 2)
                entry["memory_ratio_to_llamacpp"] = round(entry["peak_rss_mb"] / llama["peak_rss_mb"], 2)
    return report


def baseline_llamacpp(concurrency: int, max_new_tokens: int) -> dict[str, Any] | None:
    """llama.cpp on the same GGUF file, the same prompts decoded together (llamacpp_baseline.py runs
    in its own process, so its memory is its own); None when llama-cpp-python is not installed."""
    script = Path(__file__).resolve().parent / "llamacpp_baseline.py"
    command = [sys.executable, str(script), "--concurrency", str(concurrency)]
    command += ["--max-new-tokens", str(max_new_tokens)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"llama.cpp baseline skipped: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def overhead_run(
    server: ServerProcess, calls: int, concurrency: int, stream_tokens: int
) -> dict[str, Any]:
    """Calls per second, and the server's CPU time per call: on a shared machine the throughput
    moves with the neighbours' load, the CPU cost of a call much less."""
    target = server.target
    async with AsyncAutoGLMClient(target, timeout=60) as client:
        await client.generate("warm", max_new_tokens=1)

        async def unary_calls_per_s(**options: Any) -> tuple[float, float]:
            """(calls per second, server CPU ms per call)."""
            remaining = [calls]

            async def unary_worker() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    await client.generate("hi", max_new_tokens=1, **options)

            started, cpu = time.perf_counter(), server.cpu_s()
            await asyncio.gather(*(unary_worker() for _ in range(concurrency)))
            per_s = calls / (time.perf_counter() - started)
            return round(per_s, 1), round((server.cpu_s() - cpu) * 1000 / calls, 3)

        # The same request again and again: after the first, the server answers from its response
        # cache. With the cache off, each call goes through the scheduler and the (fake) model.
        cached, cached_cpu = await unary_calls_per_s()
        uncached, uncached_cpu = await unary_calls_per_s(cache=False)

        events, tokens = [0], [0]

        async def stream_worker() -> None:
            deltas = 0
            async for event in client.stream("hi", max_new_tokens=stream_tokens):
                events[0] += 1
                deltas += event.HasField("content_delta")
                if event.HasField("finished"):
                    # A delta may carry several tokens (a writer that falls behind gets them merged);
                    # the empty servicer reports no usage and sends one token per delta.
                    tokens[0] += event.finished.usage.completion_tokens or deltas

        started = time.perf_counter()
        await asyncio.gather(*(stream_worker() for _ in range(concurrency)))
        stream_s = time.perf_counter() - started
    return {
        "unary_calls": calls,
        "unary_calls_per_s": cached,
        "unary_server_cpu_ms_per_call": cached_cpu,
        "unary_uncached_calls_per_s": uncached,
        "unary_uncached_server_cpu_ms_per_call": uncached_cpu,
        "stream_events": events[0],
        "stream_events_per_s": round(events[0] / stream_s, 1),
        "stream_tokens_per_s": round(tokens[0] / stream_s, 1),
        "concurrency": concurrency,
    }


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    flags = ["--backend", "mock", "--max-running", "1024", "--max-queue", "10000"]
    with ServerProcess(flags) as server:
        result = asyncio.run(overhead_run(server, args.requests, args.concurrency, args.stream_tokens))
    # The same client against grpc.aio with nothing behind it: what Python gRPC itself allows here.
    raw_server = Path(__file__).resolve().parent / "raw_grpc_server.py"
    with ServerProcess([], command=[sys.executable, str(raw_server)]) as raw:
        ceiling = asyncio.run(overhead_run(raw, args.requests, args.concurrency, args.stream_tokens))
    return {
        "benchmark": "overhead",
        **result,
        "empty_grpc_servicer": ceiling,
        "share_of_ceiling_unary": round(result["unary_calls_per_s"] / ceiling["unary_calls_per_s"], 2),
        "share_of_ceiling_unary_uncached": round(
            result["unary_uncached_calls_per_s"] / ceiling["unary_calls_per_s"], 2
        ),
        "share_of_ceiling_stream": round(result["stream_tokens_per_s"] / ceiling["stream_tokens_per_s"], 2),
        # How many times the empty servicer's CPU time a call costs the server.
        "cpu_per_call_vs_ceiling": round(
            result["unary_server_cpu_ms_per_call"] / max(ceiling["unary_server_cpu_ms_per_call"], 1e-9), 2
        ),
        "cpu_per_uncached_call_vs_ceiling": round(
            result["unary_uncached_server_cpu_ms_per_call"]
            / max(ceiling["unary_server_cpu_ms_per_call"], 1e-9),
            2,
        ),
    }


async def priority_run(target: str, load: int, probes: int, max_new_tokens: int) -> dict[str, Any]:
    async with AsyncAutoGLMClient(target, timeout=600) as client:
        await one_stream(client, PROMPTS[0], 4)
        idle = [await one_stream(client, PROMPTS[1], max_new_tokens, priority=0) for _ in range(probes)]
        stop = asyncio.Event()

        async def background() -> None:
            while not stop.is_set():
                await one_stream(client, PROMPTS[2], max_new_tokens, priority=9)

        workers = [asyncio.create_task(background()) for _ in range(load)]
        await asyncio.sleep(2.0)
        loaded = [await one_stream(client, PROMPTS[1], max_new_tokens, priority=0) for _ in range(probes)]
        stop.set()
        await asyncio.gather(*workers)
    idle_ms = statistics.median(r.ttft_s for r in idle) * 1000
    loaded_ms = statistics.median(r.ttft_s for r in loaded) * 1000
    return {
        "ttft_ms_unloaded_p50": round(idle_ms, 1),
        "ttft_ms_loaded_p50": round(loaded_ms, 1),
        "ratio": round(loaded_ms / idle_ms, 2),
        "low_priority_streams": load,
    }


def priority(args: argparse.Namespace) -> dict[str, Any]:
    flags = ["--backend", args.backend, "--max-running", str(args.max_running), "--max-queue", "10000"]
    if args.backend == "mock":
        flags += ["--mock-token-latency-ms", "5"]
    else:
        flags += ["--quantization", args.quantization]
    with ServerProcess(flags) as server:
        result = asyncio.run(priority_run(server.target, args.concurrency, args.probes, args.max_new_tokens))
    return {
        "benchmark": "priority",
        "backend": args.backend,
        "max_running": args.max_running,
        **result,
    }


async def soak_run(server: ServerProcess, requests: int, cancel_fraction: float) -> dict[str, Any]:
    rng = random.Random(0)
    samples = []
    async with AsyncAutoGLMClient(server.target, timeout=60) as client:
        for batch_start in range(0, requests, 100):
            tasks = []
            for _ in range(min(100, requests - batch_start)):
                cancel = 3 if rng.random() < cancel_fraction else None
                tasks.append(one_stream(client, "soak", 32, cancel_after=cancel))
            await asyncio.gather(*tasks)
            done = min(batch_start + 100, requests)
            every = max(100, requests // 10 // 100 * 100)
            if done % every == 0 or done == requests:
                samples.append((done, server.memory_mb()["rss_mb"]))
    # The first tenth warms up (allocator pools, caches); growth is measured from there to the end.
    after_warmup = samples[1][1] if len(samples) > 1 else samples[0][1]
    final = samples[-1][1]
    return {
        "requests": requests,
        "cancel_fraction": cancel_fraction,
        "rss_mb_samples": samples,
        "growth_after_warmup_pct": round((final - after_warmup) / after_warmup * 100, 2),
        **rss_trend(samples[1:]),
    }


def rss_trend(samples: list[tuple[int, float]]) -> dict[str, float]:
    """The least-squares line through the samples: RSS that goes up and down with the batch (the real
    model's KV caches and prefill activations) but does not grow shows as a trend near 0, where two
    samples alone may differ by several percent."""
    if len(samples) < 3:
        return {}
    done, rss = [float(d) for d, _ in samples], [r for _, r in samples]
    slope, intercept = statistics.linear_regression(done, rss)
    start = intercept + slope * done[0]
    return {
        "trend_growth_pct": round(slope * (done[-1] - done[0]) / start * 100, 2),
        "rss_mb_min_after_warmup": round(min(rss), 1),
        "rss_mb_max_after_warmup": round(max(rss), 1),
    }


def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Mock backend by default (fast: 10,000 requests in minutes); --backend transformers soaks the
    real model's KV caches, paused requests and prefix cache (use fewer --requests on a CPU)."""
    flags = ["--backend", args.backend, "--max-running", "256", "--max-queue", "10000"]
    if args.backend == "mock":
        flags += ["--mock-token-latency-ms", "1"]
    else:
        flags += ["--max-running", "64", "--quantization", args.quantization]
    with ServerProcess(flags) as server:
        result = asyncio.run(soak_run(server, args.requests, args.cancel_fraction))
    return {"benchmark": "soak", "backend": args.backend, **result}


LONG_PARAGRAPH = (
    "The history of the harbour town is told in its stones: the old customs house, the rope walk, "
    "the chapel the fishermen built after the great storm, and the lighthouse that was moved twice "
    "as the coast gave way. Each generation added a street and lost another to the sea. "
)


async def long_prompt_run(target: str, streams: int, prompt_chars: int) -> dict[str, Any]:
    """`streams` streams decode; once they run, one long prompt arrives. Reports the streams' longest
    gap while it is prefilled, next to their usual gap.

    Two gaps: between tokens (the streams ask for logprobs, so every token arrives as an event even
    when its text is held back) and between pieces of visible text. The server holds trailing
    whitespace until text follows it (a clean answer's edges), so a text gap spans a newline's tokens
    too: that part is the text's, not the scheduler's."""
    async with AsyncAutoGLMClient(target, timeout=600) as client:
        await one_stream(client, PROMPTS[0], 4)  # warm-up
        tokens: list[list[float]] = [[] for _ in range(streams)]
        texts: list[list[float]] = [[] for _ in range(streams)]
        stop = asyncio.Event()

        async def stream(index: int) -> None:
            call = client.stream(
                PROMPTS[index % len(PROMPTS)], max_new_tokens=2000, min_new_tokens=2000, logprobs=True
            )
            async for event in call:
                if event.HasField("content_delta"):
                    now = time.perf_counter()
                    tokens[index].extend([now] * len(event.content_delta.logprobs))
                    if event.content_delta.text:
                        texts[index].append(now)
                if stop.is_set():
                    call.cancel()
                    return

        tasks = [asyncio.create_task(stream(i)) for i in range(streams)]
        while min(len(s) for s in tokens) < 20:
            await asyncio.sleep(0.05)
        document = (LONG_PARAGRAPH * (prompt_chars // len(LONG_PARAGRAPH) + 1))[:prompt_chars]
        sent = time.perf_counter()
        reply = await client.generate(document + "\n\nSummarise this in one sentence.", max_new_tokens=8)
        answered = time.perf_counter()
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    def gaps(stamps: list[list[float]], during: bool) -> list[float]:
        pairs = [(a, b) for s in stamps for a, b in itertools.pairwise(s)]
        if during:
            return [b - a for a, b in pairs if b >= sent and a <= answered]
        return [b - a for a, b in pairs if b < sent]

    return {
        "streams": streams,
        "long_prompt_tokens": reply.usage.prompt_tokens,
        "long_prompt_ttft_ms": round((answered - sent) * 1000, 1),
        "max_token_gap_ms_during_long_prefill": round(max(gaps(tokens, True), default=0.0) * 1000, 1),
        "max_text_gap_ms_during_long_prefill": round(max(gaps(texts, True), default=0.0) * 1000, 1),
        "token_gap_ms_p50_before": round(percentile(gaps(tokens, False), 50) * 1000, 1),
    }


def long_prompt(args: argparse.Namespace) -> dict[str, Any]:
    """Head-of-line blocking: chunked prefill (the default) against one whole-prompt prefill step."""
    report: dict[str, Any] = {"benchmark": "longprompt", "quantization": args.quantization}
    for name, chunk in (("chunked", None), ("whole_prompt", "1000000")):
        flags = ["--max-running", "8", "--quantization", args.quantization]
        if chunk is not None:
            flags += ["--chunk-tokens", chunk, "--max-step-tokens", chunk]
        with ServerProcess(flags) as server:
            report[name] = asyncio.run(long_prompt_run(server.target, args.concurrency, args.prompt_chars))
        print(json.dumps({name: report[name]}), file=sys.stderr)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("benchmark", choices=["sweep", "overhead", "priority", "soak", "longprompt"])
    parser.add_argument("--backend", default="transformers", choices=["transformers", "mock"])
    parser.add_argument("--model", default="", help="model alias or path (default: the embedded default)")
    parser.add_argument("--concurrency", default="1,4,16,64")
    parser.add_argument("--rounds", type=int, default=4, help="requests per stream slot in a sweep level")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--stream-tokens", type=int, default=200)
    parser.add_argument("--cancel-fraction", type=float, default=0.3)
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--prompt-chars", type=int, default=16000, help="longprompt: the long prompt's size")
    parser.add_argument("--max-running", type=int, default=16)
    parser.add_argument("--quantization", default="auto", choices=["auto", "none", "int4"])
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.benchmark != "sweep":
        args.concurrency = args.concurrency.split(",")[-1] if "," in args.concurrency else args.concurrency
        args.concurrency = int(args.concurrency)
    runners = {
        "sweep": sweep,
        "overhead": overhead,
        "priority": priority,
        "soak": soak,
        "longprompt": long_prompt,
    }
    report = runners[args.benchmark](args)
    report["machine"] = {
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "platform": platform.platform(),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
