"""Throughput of TransformersBackend vs plain `model.generate`, on chat prompts. Prints JSON.

    python benchmarks/bench_backend.py [--model PATH_OR_ALIAS] [--new-tokens 64] [--concurrency 1 16]

Every request generates exactly --new-tokens tokens (EOS ignored) so the runs are comparable.
tok/s counts generated tokens over the wall time of the whole run, prefill included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from typing import Any

import torch

from autoglm_core.backends.base import BackendRequest, SamplingConfig
from autoglm_core.backends.transformers_backend import TransformersBackend
from autoglm_core.models import resolve_model_source
from autoglm_core.runtime.scheduler import SchedulerConfig

QUESTIONS = [
    "What is the capital of France?",
    "Write a short poem about the sea.",
    "Explain how photosynthesis works.",
    "Give me three tips for learning Python.",
    "Why is the sky blue?",
    "Describe a good breakfast.",
    "What are the planets of the solar system?",
    "How do I boil an egg?",
]


def chat_prompts(backend: TransformersBackend, n: int) -> list[list[int]]:
    tok = backend.tokenizer
    return [
        tok.encode(
            tok.render_chat(
                [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}], enable_thinking=False
            )
        )
        for i in range(n)
    ]


async def run_backend(
    backend: TransformersBackend, prompts: list[list[int]], new_tokens: int
) -> dict[str, Any]:
    first_token: list[float] = []
    start = time.perf_counter()

    async def one(i: int, ids: list[int]) -> int:
        req = BackendRequest(f"bench-{i}", ids, SamplingConfig(max_new_tokens=new_tokens))
        count = 0
        async for chunk in backend.generate(req):
            if count == 0:
                first_token.append(time.perf_counter() - start)
            count += len(chunk.token_ids)
        return count

    counts = await asyncio.gather(*(one(i, ids) for i, ids in enumerate(prompts)))
    wall = time.perf_counter() - start
    return {
        "requests": len(prompts),
        "tokens": sum(counts),
        "wall_s": round(wall, 3),
        "tok_per_s": round(sum(counts) / wall, 1),
        "mean_ttft_s": round(sum(first_token) / len(first_token), 3),
    }


def run_generate(source: str, pad: int, prompts: list[list[int]], new_tokens: int) -> dict[str, Any]:
    """Plain transformers: a fresh fp32/SDPA model, left-padded static batch, greedy."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(source, attn_implementation="sdpa")
    model.eval()  # type: ignore[no-untyped-call]
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    with torch.inference_mode():
        model.generate(input_ids=ids[:, -4:], attention_mask=mask[:, -4:], max_new_tokens=2, do_sample=False)
        start = time.perf_counter()
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            pad_token_id=pad,
        )
        wall = time.perf_counter() - start
    tokens = (out.shape[1] - width) * len(prompts)
    return {
        "requests": len(prompts),
        "tokens": tokens,
        "wall_s": round(wall, 3),
        "tok_per_s": round(tokens / wall, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="openautoglm-base-v1")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all usable cores)")
    parser.add_argument("--dtype", default="auto", help="auto (fp32 on CPU), float32, bfloat16, float16")
    parser.add_argument("--quantization", default="auto", help="auto (the file's blocks), none (fp32), int4")
    parser.add_argument("--skip-generate", action="store_true", help="skip the model.generate baseline")
    args = parser.parse_args()

    source = str(resolve_model_source(args.model))
    backend = TransformersBackend(
        source,
        name="bench",
        scheduler=SchedulerConfig(max_running=max(args.concurrency)),
        ignore_eos=True,
        num_threads=args.threads,
        dtype=args.dtype,
        quantization=args.quantization,
    )
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    await backend.load()
    report: dict[str, Any] = {
        "model": args.model,
        "source": source,
        "device": backend.info.device,
        "torch": torch.__version__,
        "threads": backend.num_threads,
        "dtype": args.dtype,
        "quantization": args.quantization,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "new_tokens": args.new_tokens,
        "load_s": round(time.perf_counter() - t0, 2),
        # Other processes on the machine skew every figure: note how busy it was.
        "loadavg_before": load_before,
        "backend": {},
        "generate": {},
    }
    await run_backend(backend, chat_prompts(backend, 1), 4)  # warm-up
    prompts = {n: chat_prompts(backend, n) for n in args.concurrency}
    pad_id = backend.tokenizer.hf.pad_token_id or 0
    for n in args.concurrency:
        report["backend"][str(n)] = await run_backend(backend, prompts[n], args.new_tokens)
    # Closed first: its idle thread's OpenMP pool would slow the baseline down (see the backend's notes).
    await backend.close()
    if not args.skip_generate:
        torch.set_num_threads(backend.num_threads)
        for n in args.concurrency:
            report["generate"][str(n)] = run_generate(source, pad_id, prompts[n], args.new_tokens)
    report["loadavg_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
