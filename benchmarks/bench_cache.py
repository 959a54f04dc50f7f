"""The response cache on the default model: hit latency against a miss in the same run, the LZ4
compression ratio on real answers, and the time to decompress one entry. Prints (and with --out
writes) JSON.

    python benchmarks/bench_cache.py [--prompts 16] [--hits 20] [--new-tokens 64]

A server (`autoglm serve`, the default model) runs in its own process. Each prompt is asked once
(a miss: the model runs and the answer is stored), then `--hits` times again (hits), all greedy over
unary gRPC. The compression ratio is the server's own (`/metrics`, over the entries it holds); the
decompression time is measured here on entries rebuilt from the streamed events with the server's
codec. `sqlite_lookup_us` is what reading an entry from a database table by key costs on this
machine (the floor of a cache shared through a database), for the shared-cache question.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoglm.v1 import common_pb2, generation_pb2
from autoglm_client import AutoGLMClient
from autoglm_core.cache.codec import compress, decode, decompress, encode
from autoglm_core.generation.types import (
    ContentDelta,
    Finished,
    FinishReason,
    GenerationEvent,
    ReasoningDelta,
    Timings,
    Usage,
)
from benchmarks.server_process import ServerProcess

QUESTIONS = Path(__file__).parent / "quality" / "questions.jsonl"


def percentiles(values: list[float], unit: float, suffix: str) -> dict[str, float]:
    ordered = sorted(values)
    pick: Callable[[float], float] = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {f"p50_{suffix}": pick(0.5) * unit, f"p99_{suffix}": pick(0.99) * unit, "n": len(values)}


def prompts(count: int) -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    single = [
        r["turns"][0]
        for r in rows
        if len(r["turns"]) == 1 and r["category"] in ("fact_en", "fact_zh", "arithmetic")
    ]
    # Spread over the categories: every k-th question.
    step = max(1, len(single) // count)
    return single[::step][:count]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


_REASONS = {
    v: FinishReason[k.removeprefix("FINISH_REASON_")]
    for k, v in common_pb2.FinishReason.items()
    if k not in ("FINISH_REASON_UNSPECIFIED",)
}


def engine_events(stream: list[generation_pb2.GenerateStreamResponse]) -> list[GenerationEvent]:
    """The engine events a streamed answer came from (no tools, no logprobs in this benchmark)."""
    out: list[GenerationEvent] = []
    for event in stream:
        if event.HasField("content_delta"):
            out.append(ContentDelta(event.content_delta.text))
        elif event.HasField("reasoning_delta"):
            out.append(ReasoningDelta(event.reasoning_delta.text))
        elif event.HasField("finished"):
            f = event.finished
            out.append(
                Finished(
                    finish_reason=_REASONS.get(f.finish_reason, FinishReason.LENGTH),
                    usage=Usage(f.usage.prompt_tokens, f.usage.completion_tokens, f.usage.reasoning_tokens),
                    model_name=f.model.name,
                    model_version=f.model.version,
                    timings=Timings(f.timings.queue_ms, f.timings.time_to_first_token_ms, f.timings.total_ms),
                    seed=f.seed,
                    prompt_template=f.prompt_template,
                )
            )
    return out


def decompression(entries: list[bytes], rounds: int) -> dict[str, float]:
    """Seconds per entry to decompress (LZ4 alone) and to decompress and decode into events."""
    lz4_only: list[float] = []
    with_decode: list[float] = []
    for packed in entries:
        started = time.perf_counter()
        for _ in range(rounds):
            decompress(packed)
        lz4_only.append((time.perf_counter() - started) / rounds)
        started = time.perf_counter()
        for _ in range(rounds):
            decode(decompress(packed))
        with_decode.append((time.perf_counter() - started) / rounds)
    return {
        **{f"lz4_{k}": v for k, v in percentiles(lz4_only, 1e6, "us").items()},
        **{f"lz4_and_decode_{k}": v for k, v in percentiles(with_decode, 1e6, "us").items()},
    }


def sqlite_lookup(entries: list[bytes], rounds: int) -> dict[str, float]:
    """Reading an entry by key from a SQLite file: the floor of a cache shared through a database."""
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(os.path.join(folder, "cache.db"))
        db.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB)")
        db.executemany("INSERT INTO entries VALUES (?, ?)", [(f"k{i}", e) for i, e in enumerate(entries)])
        db.commit()
        times = []
        for _ in range(rounds):
            for i in range(len(entries)):
                started = time.perf_counter()
                db.execute("SELECT value FROM entries WHERE key = ?", (f"k{i}",)).fetchone()
                times.append(time.perf_counter() - started)
        db.close()
    return percentiles(times, 1e6, "us")


def server_metrics(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    wanted = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("autoglm_response_cache_"):
                wanted[sample.name.removeprefix("autoglm_response_cache_")] = sample.value
    return wanted


def run(args: argparse.Namespace) -> dict[str, Any]:
    asked = prompts(args.prompts)
    metrics_port = free_port()
    flags = ["--metrics-port", str(metrics_port), "--response-cache-ttl-s", "86400", *args.server_flag]
    misses: list[float] = []
    hits: list[float] = []
    streams: list[list[generation_pb2.GenerateStreamResponse]] = []
    answers: list[str] = []
    with ServerProcess(flags) as server:
        client = AutoGLMClient(server.target, timeout=600)
        options = {"max_new_tokens": args.new_tokens, "temperature": 0.0}
        client.generate("warm-up", max_new_tokens=4, cache=False)
        for prompt in asked:
            seconds, reply = timed(lambda p=prompt: client.generate(p, **options))
            assert reply.usage.cached_completion_tokens == 0, "the first call must be a miss"
            misses.append(seconds)
            answers.append(reply.text)
            for _ in range(args.hits):  # right after the miss: a slow machine must not outlast the TTL
                seconds, reply = timed(lambda p=prompt: client.generate(p, **options))
                assert reply.usage.cached_completion_tokens == reply.usage.completion_tokens, "not a hit"
                hits.append(seconds)
        for prompt in asked:
            streams.append(list(client.stream(prompt, **options)))
        held = server_metrics(metrics_port)
        client.close()
    raw = [encode(engine_events(s)) for s in streams]
    packed = [compress(r) for r in raw]
    text = [a.encode() for a in answers]
    miss, hit = percentiles(misses, 1000, "ms"), percentiles(hits, 1000, "ms")
    return {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "settings": {"prompts": len(asked), "hits_per_prompt": args.hits, "new_tokens": args.new_tokens},
        "miss_latency": miss,
        "hit_latency": hit,
        "miss_over_hit_p50": miss["p50_ms"] / hit["p50_ms"],
        "server_cache": held,
        "entries": {
            "raw_bytes_mean": sum(map(len, raw)) / len(raw),
            "compressed_bytes_mean": sum(map(len, packed)) / len(packed),
            "ratio_entries": sum(map(len, raw)) / sum(map(len, packed)),
            "ratio_answer_text_only": sum(map(len, text)) / sum(len(compress(t)) for t in text),
        },
        "decompression_per_entry": decompression(packed, args.rounds),
        "sqlite_lookup_us": sqlite_lookup(packed, 50),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--hits", type=int, default=20, help="repeats of every prompt after its miss")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2000, help="decompressions timed per entry")
    parser.add_argument("--server-flag", action="append", default=[], help="extra `autoglm serve` flag")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = run(args)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
