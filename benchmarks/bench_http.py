"""Streaming throughput over the OpenAI-compatible HTTP API vs over gRPC, on one server in one run.

    python benchmarks/bench_http.py                       # the default model, 16 streams
    python benchmarks/bench_http.py --backend mock        # protocol cost only

The same requests (chat prompts, greedy, exactly --max-new-tokens each) go to the same `autoglm serve`
process through both protocols, in alternating rounds so that drift in the machine's speed falls on
both alike. The HTTP client reads the server-sent events with httpx and json, as lean as the gRPC
client is; tokens are counted from each stream's usage. Writes one JSON report (stdout, --out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm_client import AsyncAutoGLMClient
from benchmarks.loadgen import PROMPTS, StreamStats, one_stream, summarise
from benchmarks.server_process import ServerProcess


async def http_stream(client: httpx.AsyncClient, prompt: str, max_new_tokens: int) -> StreamStats:
    stats = StreamStats()
    body = {
        "model": "",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_new_tokens,
        "min_tokens": max_new_tokens,  # extension: exactly max_new_tokens, as over gRPC
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = last = time.perf_counter()
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                now = time.perf_counter()
                if chunk.get("usage"):
                    stats.tokens = chunk["usage"]["completion_tokens"]
                elif chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    if stats.ttft_s == 0.0:
                        stats.ttft_s = now - started
                    else:
                        stats.gaps_s.append(now - last)
                    last = now
    except (httpx.HTTPError, KeyError, json.JSONDecodeError):
        stats.ok = False
    return stats


async def run_round(
    protocol: str, target: str, concurrency: int, requests: int, tokens: int
) -> dict[str, Any]:
    results: list[StreamStats] = []
    queue = list(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        AsyncAutoGLMClient(target.split(" ")[0], timeout=600) as grpc_client,
        httpx.AsyncClient(
            base_url=f"http://{target.split(' ')[-1]}", timeout=600, limits=limits
        ) as http_client,
    ):

        async def worker() -> None:
            while queue:
                prompt = PROMPTS[queue.pop() % len(PROMPTS)]
                if protocol == "grpc":
                    results.append(await one_stream(grpc_client, prompt, tokens, fixed_length=True))
                else:
                    results.append(await http_stream(http_client, prompt, tokens))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"protocol": protocol, **summarise(results, time.perf_counter() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="transformers", choices=["transformers", "mock"])
    parser.add_argument("--model", default="")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=32, help="requests per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per protocol, alternating")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    flags = ["--backend", args.backend, "--http-port", "0", "--max-running", str(args.concurrency)]
    flags += ["--max-batch-size", str(args.concurrency)]
    if args.backend == "mock":
        flags += ["--mock-token-latency-ms", "5"]
    if args.model:
        flags += ["--model", args.model]
    report: dict[str, Any] = {
        "benchmark": "http_vs_grpc",
        "machine": platform.processor() or platform.machine(),
        **vars(args),
    }
    rounds: list[dict[str, Any]] = []
    with ServerProcess(flags) as server:
        assert server.http_target, "the server printed no HTTP API address"
        both = f"{server.target} {server.http_target}"
        asyncio.run(run_round("grpc", both, 2, 2, 4))  # warm-up of both paths
        asyncio.run(run_round("http", both, 2, 2, 4))
        for _ in range(args.rounds):
            for protocol in ("grpc", "http"):
                result = asyncio.run(
                    run_round(protocol, both, args.concurrency, args.requests, args.max_new_tokens)
                )
                rounds.append(result)
                print(json.dumps(result), file=sys.stderr)
    for protocol in ("grpc", "http"):
        mine = [r for r in rounds if r["protocol"] == protocol]
        report[f"{protocol}_tokens_per_s"] = round(sum(r["tokens_per_s"] for r in mine) / len(mine), 1)
        report[f"{protocol}_errors"] = sum(r["errors"] for r in mine)
    report["http_to_grpc"] = round(report["http_tokens_per_s"] / report["grpc_tokens_per_s"], 3)
    report["rounds"] = rounds
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
