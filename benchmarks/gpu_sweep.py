"""The paged runner beside plain transformers, on a Qwen3-0.6B-shaped model with random weights. JSON out.

    PYTHONPATH=. python benchmarks/gpu_sweep.py                      # on a GPU: bf16, the full sweep
    PYTHONPATH=. python benchmarks/gpu_sweep.py --tiny --device cpu  # a small model: proves it runs

Needs only torch and transformers, and downloads nothing: the model is built from its config with
random weights. Every request has a prompt of --prompt-tokens random ids and generates exactly
--new-tokens tokens (no EOS), so all runs do the same work. tok/s counts generated tokens over the
wall time of the whole run, prefill included. In one run, for each concurrency:
- `generate`: plain `model.generate`, one request at a time (concurrency 1 only: it does not batch);
- `generate_batch`: transformers' continuous batching (its ContinuousBatchingManager), default config;
- `paged_runner`: the runtime's scheduler driving the paged runner (CUDA graphs on a GPU), after one
  warm-up run of the same work (graph capture and allocator warm-up are not counted).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
import transformers
from transformers import GenerationConfig, PreTrainedModel, Qwen3Config, Qwen3ForCausalLM

from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.runners.paged.runner import PagedRunner
from autoglm_core.runtime.scheduler import Scheduler, SchedulerConfig
from autoglm_core.runtime.types import BackendRequest, SamplingConfig

BLOCK_TOKENS = 16

# Qwen/Qwen3-0.6B's config.json (the shapes that matter for speed).
QWEN3_0_6B = dict(
    vocab_size=151936,
    hidden_size=1024,
    intermediate_size=3072,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=128,
    max_position_embeddings=40960,
    rope_theta=1_000_000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=True,
)
TINY = dict(QWEN3_0_6B, vocab_size=4096, hidden_size=64, intermediate_size=128, num_hidden_layers=2)
TINY.update(num_attention_heads=4, num_key_value_heads=2, head_dim=16)


def build_model(tiny: bool, device: torch.device, dtype: torch.dtype) -> PreTrainedModel:
    torch.manual_seed(0)
    config = Qwen3Config(**(TINY if tiny else QWEN3_0_6B), eos_token_id=None, pad_token_id=0)
    config._attn_implementation = "sdpa"
    with torch.device(device):
        model = Qwen3ForCausalLM(config)
    return model.to(dtype).eval()


def make_prompts(count: int, length: int, vocab: int) -> list[list[int]]:
    rng = random.Random(1)
    return [[rng.randrange(1, vocab) for _ in range(length)] for _ in range(count)]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(
    device: torch.device, work: Callable[..., list[list[int]]], *args: Any
) -> tuple[float, list[list[int]]]:
    sync(device)
    start = time.perf_counter()
    outputs = work(*args)
    sync(device)
    return time.perf_counter() - start, outputs


def generate_one_by_one(model: PreTrainedModel, prompts: list[list[int]], new: int) -> list[list[int]]:
    device = next(model.parameters()).device
    outputs = []
    with torch.inference_mode():
        for prompt in prompts:
            ids = torch.tensor([prompt], device=device)
            out = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, do_sample=False, pad_token_id=0
            )
            outputs.append(out[0, len(prompt) :].tolist())
    return outputs


def generate_batch(model: PreTrainedModel, prompts: list[list[int]], new: int) -> list[list[int]]:
    config = GenerationConfig(max_new_tokens=new, do_sample=False, pad_token_id=0, eos_token_id=None)
    with torch.inference_mode():
        results = model.generate_batch(inputs=prompts, generation_config=config, progress_bar=False)
    return [list(r.generated_tokens) for r in results.values()]


def paged_run(runner: PagedRunner, prompts: list[list[int]], new: int, blocks: int) -> list[list[int]]:
    """The step loop's cycle, synchronously: schedule, free the preempted, execute, record."""
    config = SchedulerConfig(
        max_running=len(prompts), max_queue=len(prompts), max_step_tokens=8192, chunk_tokens=2048
    )
    scheduler = Scheduler(config, KVCacheManager(blocks, BLOCK_TOKENS))
    seqs = []
    for i, prompt in enumerate(prompts):
        request = BackendRequest(f"r{i}", prompt, SamplingConfig(max_new_tokens=new))
        seq = scheduler.new_sequence(request, time.monotonic(), new, ())
        scheduler.add(seq)
        seqs.append(seq)
    while scheduler.has_work:
        plan = scheduler.schedule(time.monotonic())
        for seq in plan.preempted:
            runner.free(seq)
        output = runner.execute(plan, lambda: False)
        for outcome in scheduler.update(plan, output):
            if outcome.finished:
                runner.free(outcome.seq)
    return [list(seq.output_ids) for seq in seqs]


def entry(seconds: float, outputs: list[list[int]], **extra: Any) -> dict[str, Any]:
    tokens = sum(len(o) for o in outputs)
    return {"seconds": round(seconds, 3), "tokens": tokens, "tok_s": round(tokens / seconds, 1), **extra}


def measure(
    model: PreTrainedModel, args: argparse.Namespace, concurrency: int, first_greedy: dict[str, list[int]]
) -> dict[str, Any]:
    """One concurrency: plain generate (at 1), generate_batch, then the paged runner."""
    device = next(model.parameters()).device
    prompts = make_prompts(concurrency, args.prompt_tokens, int(model.config.vocab_size))
    row: dict[str, Any] = {"concurrency": concurrency}
    if concurrency == 1:
        seconds, out = timed(device, generate_one_by_one, model, prompts, args.new_tokens)
        row["generate"] = entry(seconds, out)
        first_greedy["generate"] = out[0]
    if not args.skip_generate_batch:
        try:
            seconds, out = timed(device, generate_batch, model, prompts, args.new_tokens)
            row["generate_batch"] = entry(seconds, out)
        except Exception as exc:  # report, and still measure the rest
            row["generate_batch"] = {"error": f"{type(exc).__name__}: {exc}"}
    blocks = concurrency * -(-(args.prompt_tokens + args.new_tokens) // BLOCK_TOKENS)
    runner = PagedRunner(model, blocks, BLOCK_TOKENS)
    paged_run(runner, prompts, args.new_tokens, blocks)  # warm-up: graph capture
    seconds, out = timed(device, paged_run, runner, prompts, args.new_tokens, blocks)
    row["paged_runner"] = entry(seconds, out, cuda_graphs=runner.use_graphs, graphs=runner.graphs.captured)
    if concurrency == 1:
        first_greedy["paged_runner"] = out[0]
    for baseline in ("generate", "generate_batch"):
        base = row.get(baseline, {}).get("tok_s")
        if base:
            row[f"paged_vs_{baseline}"] = round(row["paged_runner"]["tok_s"] / base, 2)
    return row


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    model = build_model(args.tiny, device, dtype)
    report: dict[str, Any] = {
        "model": "tiny Qwen3" if args.tiny else "Qwen3-0.6B shape, random weights",
        "device": (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
        ),
        "dtype": args.dtype,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "prompt_tokens": args.prompt_tokens,
        "new_tokens": args.new_tokens,
        "results": [],
    }
    first_greedy: dict[str, list[int]] = {}
    for concurrency in args.concurrency:
        row = measure(model, args, concurrency, first_greedy)
        report["results"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()  # the runner's KV pool goes before the next concurrency's
    if len(first_greedy) == 2:  # agreement of greedy tokens with generate (bf16 may drift late)
        a, b = first_greedy["generate"], first_greedy["paged_runner"]
        same = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        report["greedy_tokens_equal_to_generate"] = same
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model, short prompts: a quick check")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default=None, help="bfloat16 on CUDA, float32 on CPU by default")
    parser.add_argument("--prompt-tokens", type=int, default=None)
    parser.add_argument("--new-tokens", type=int, default=None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=None)
    parser.add_argument("--skip-generate-batch", action="store_true")
    parser.add_argument("--out", default="", help="also write the JSON report to this file")
    args = parser.parse_args()
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    args.prompt_tokens = args.prompt_tokens or (32 if args.tiny else 256)
    args.new_tokens = args.new_tokens or (32 if args.tiny else 256)
    args.concurrency = args.concurrency or ([1, 8, 32] if args.tiny else [1, 64, 256])
    started = time.perf_counter()
    report = sweep(args)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
