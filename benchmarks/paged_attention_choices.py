"""Decode attention over a paged KV cache, the ways torch ships it: which the paged runner uses, and why.

    PYTHONPATH=. python benchmarks/paged_attention_choices.py [--device cuda] [--rows 16]

One decode token per row, rows of ragged lengths (100-400 tokens) in 16-token blocks, Qwen3-0.6B's
heads (16 query heads, 8 KV heads, dim 128). Prints each option's median time and its largest
difference from per-row SDPA. The options:
- gather + SDPA (the paged runner's): each row's blocks gathered into a padded [rows, kv_heads, width *
  block, dim] tensor, one SDPA call with a boolean mask; fixed shapes per (rows, width) bucket, so a
  CUDA graph can capture it;
- per-row SDPA: a call per row over exactly its keys (what runners/ragged.py does on CPU);
- nested (jagged) SDPA: one call over nested tensors (no GQA broadcasting: KV heads repeated);
- flex_attention with a block mask over the padded keys (eager here; it is meant to be compiled).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import torch
from torch.nn import functional
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

HEADS, KV_HEADS, DIM, BLOCK = 16, 8, 128, 16


class Case:
    def __init__(self, rows: int, device: torch.device) -> None:
        rng = random.Random(0)
        torch.manual_seed(0)
        self.lens = [rng.randint(100, 400) for _ in range(rows)]
        self.tables: list[list[int]] = []
        block = 1  # block 0: padding
        for n in self.lens:
            count = -(-n // BLOCK)
            self.tables.append(list(range(block, block + count)))
            block += count
        self.width = max(len(t) for t in self.tables)
        self.keys = torch.randn(block, BLOCK, KV_HEADS, DIM, device=device)
        self.values = torch.randn(block, BLOCK, KV_HEADS, DIM, device=device)
        padded = [t + [0] * (self.width - len(t)) for t in self.tables]
        self.table = torch.tensor(padded, device=device)
        self.query = torch.randn(rows, HEADS, 1, DIM, device=device)
        self.last = torch.tensor(self.lens, device=device) - 1

    def row_kv(self, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Row b's keys and values, [kv_heads, n, dim]."""
        n, table = self.lens[b], self.tables[b]
        keys = self.keys[table].view(-1, KV_HEADS, DIM)[:n].transpose(0, 1)
        return keys, self.values[table].view(-1, KV_HEADS, DIM)[:n].transpose(0, 1)

    def padded_kv(self) -> tuple[torch.Tensor, torch.Tensor]:
        rows = len(self.lens)
        keys = self.keys[self.table].view(rows, -1, KV_HEADS, DIM).transpose(1, 2)
        return keys, self.values[self.table].view(rows, -1, KV_HEADS, DIM).transpose(1, 2)


def gather_sdpa(c: Case) -> torch.Tensor:
    keys, values = c.padded_kv()
    mask = (torch.arange(keys.shape[2], device=keys.device)[None, :] <= c.last[:, None])[:, None, None]
    grouped = c.query.reshape(len(c.lens), KV_HEADS, HEADS // KV_HEADS, DIM)
    return functional.scaled_dot_product_attention(grouped, keys, values, attn_mask=mask).reshape(
        -1, HEADS, DIM
    )


def per_row_sdpa(c: Case) -> torch.Tensor:
    outputs = []
    for b in range(len(c.lens)):
        keys, values = c.row_kv(b)
        grouped = c.query[b].reshape(KV_HEADS, HEADS // KV_HEADS, DIM)
        outputs.append(functional.scaled_dot_product_attention(grouped, keys, values).reshape(HEADS, DIM))
    return torch.stack(outputs)


def nested_sdpa(c: Case) -> torch.Tensor:
    repeat = HEADS // KV_HEADS
    kv = [c.row_kv(b) for b in range(len(c.lens))]
    keys = [k.repeat_interleave(repeat, dim=0).transpose(0, 1) for k, _ in kv]
    values = [v.repeat_interleave(repeat, dim=0).transpose(0, 1) for _, v in kv]
    queries = [c.query[b, :, 0][None] for b in range(len(c.lens))]

    def nest(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.nested.nested_tensor(parts, layout=torch.jagged).transpose(1, 2)

    out = functional.scaled_dot_product_attention(nest(queries), nest(keys), nest(values))
    return torch.stack([row.reshape(HEADS, DIM) for row in out.unbind()])


def flex(c: Case) -> torch.Tensor:
    keys, values = c.padded_kv()
    last = c.last

    def visible(b: torch.Tensor, h: torch.Tensor, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return k <= last[b]

    mask = create_block_mask(visible, len(c.lens), None, 1, keys.shape[2], device=str(keys.device))
    out = flex_attention(c.query, keys, values, block_mask=mask, enable_gqa=True)
    assert isinstance(out, torch.Tensor)
    return out.reshape(-1, HEADS, DIM)


def median_ms(fn: Callable[[Case], torch.Tensor], case: Case, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        if case.query.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn(case)
        if case.query.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    case = Case(args.rows, torch.device(args.device))
    with torch.inference_mode():
        reference = per_row_sdpa(case)
        options = [gather_sdpa, per_row_sdpa, nested_sdpa, flex]
        for fn in options:
            try:
                error = float((fn(case) - reference).abs().max())
                ms = median_ms(fn, case, args.repeats)
                print(f"{fn.__name__:14s} median {ms:9.2f} ms  max diff {error:.1e}")
            except Exception as exc:  # an option this torch cannot run here: say so, measure the rest
                print(f"{fn.__name__:14s} failed: {type(exc).__name__}: {str(exc)[:120]}")


if __name__ == "__main__":
    main()
