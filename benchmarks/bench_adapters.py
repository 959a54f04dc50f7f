"""The cost of per-row LoRA adapters: tok/s at 16 streams with 0, 1 and 4 distinct adapters. Prints JSON.

    python benchmarks/bench_adapters.py [--streams 16] [--new-tokens 64] [--rank 8] [--rounds 2]

One process, one loaded default model: the cases run back to back, interleaved round by round, so
their ratios are comparable on a busy machine (absolute figures are not). Adapters are random peft
LoRA adapters on every projection (q, k, v, o, gate, up, down), made in a temporary directory.
Every request generates exactly --new-tokens tokens (EOS ignored); tok/s counts generated tokens
over the wall time of the whole batch, prefill included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.adapter_support

from autoglm_core.backends.base import BackendRequest, SamplingConfig
from autoglm_core.backends.transformers_backend import TransformersBackend
from autoglm_core.models import resolve_model_source
from autoglm_core.runtime.scheduler import SchedulerConfig
from benchmarks.bench_backend import chat_prompts
from tests.adapter_support import make_lora


async def run_case(
    backend: TransformersBackend, prompts: list[list[int]], adapters: list[str], new_tokens: int
) -> float:
    """tok/s of one batch: request i uses adapters[i % len(adapters)] ("" = base)."""

    async def one(i: int, ids: list[int]) -> int:
        adapter = adapters[i % len(adapters)]
        request = BackendRequest(
            f"bench-{i}", ids, SamplingConfig(max_new_tokens=new_tokens), adapter=adapter
        )
        return sum([len(chunk.token_ids) async for chunk in backend.generate(request)])

    start = time.perf_counter()
    counts = await asyncio.gather(*(one(i, ids) for i, ids in enumerate(prompts)))
    return sum(counts) / (time.perf_counter() - start)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    source = resolve_model_source(args.model)
    root = Path(tempfile.mkdtemp(prefix="bench-adapters-"))
    for k in range(4):
        make_lora(source, root / f"a{k}", seed=k + 1, rank=args.rank, scale_b=0.1)
    backend = TransformersBackend(
        str(source), name="bench", scheduler=SchedulerConfig(max_running=args.streams), ignore_eos=True
    )
    await backend.load()
    assert backend.adapters is not None
    for k in range(4):
        await backend.adapters.load(f"a{k}", str(root / f"a{k}"))
    prompts = chat_prompts(backend, args.streams)
    cases = {"0 adapters (base)": [""], "1 adapter": ["a0"], "4 adapters": ["a0", "a1", "a2", "a3"]}
    cases["half base, half 1 adapter"] = ["", "a0"]
    await run_case(backend, prompts[:2], [""], 4)  # warm-up
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, adapters in cases.items():
            figures[name].append(await run_case(backend, prompts, adapters, args.new_tokens))
    await backend.close()
    base = statistics.median(figures["0 adapters (base)"])
    return {
        "model": args.model,
        "streams": args.streams,
        "new_tokens": args.new_tokens,
        "rank": args.rank,
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "tok_s": {
            name: {"median": round(statistics.median(v), 1), "runs": [round(x, 1) for x in v]}
            for name, v in figures.items()
        },
        "ratio_to_base": {name: round(statistics.median(v) / base, 3) for name, v in figures.items()},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="openautoglm-base-v1")
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
