"""The paged KV cache's tensors, one step's addressing into them, and the view transformers' model
code writes and reads through.

Every layer's keys and values live in [num_blocks, block_size, kv_heads, head_dim] tensors shared by
all sequences. A step is a padded batch [rows, query_len]: each token has a slot (block * block_size +
offset) where its key and value are written, each row a block table (its blocks in order, padded with
the scratch block) through which its keys are gathered for attention, and a boolean mask lets a query
at position p see the row's keys at positions <= p. Everything is a tensor of fixed shape, so a decode
step can be captured once as a CUDA graph and replayed with new contents (graphs.py).

Attention is transformers' own "sdpa" function over the gathered keys with that mask: one batched call
per layer for prefill chunks of different lengths and for decodes alike (for one query token it packs
the query heads that share a KV head, so no key is repeated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import Cache


@dataclass(frozen=True)
class KVShape:
    layers: int
    kv_heads: int
    head_dim: int


class PagedKV:
    """Keys and values of every layer, in blocks."""

    def __init__(
        self, shape: KVShape, num_blocks: int, block_size: int, dtype: torch.dtype, device: torch.device
    ) -> None:
        self.block_size = block_size
        size = (num_blocks, block_size, shape.kv_heads, shape.head_dim)
        # Zeros, not empty: padded rows read the scratch block, and garbage there could be NaN.
        self.keys = [torch.zeros(size, dtype=dtype, device=device) for _ in range(shape.layers)]
        self.values = [torch.zeros(size, dtype=dtype, device=device) for _ in range(shape.layers)]

    def write(self, layer: int, key: torch.Tensor, value: torch.Tensor, slots: torch.Tensor) -> None:
        """Stores key/value [rows, kv_heads, q, dim] at `slots` [rows * q]."""
        heads, dim = key.shape[1], key.shape[3]
        flat_keys = self.keys[layer].view(-1, heads, dim)
        flat_values = self.values[layer].view(-1, heads, dim)
        flat_keys.index_copy_(0, slots, key.transpose(1, 2).reshape(-1, heads, dim))
        flat_values.index_copy_(0, slots, value.transpose(1, 2).reshape(-1, heads, dim))

    def gather(self, layer: int, tables: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's keys and values through its block table [rows, width]: [rows, kv_heads, width *
        block_size, dim] (positions past the row's length hold whatever; the mask hides them)."""
        rows, width = tables.shape
        keys = self.keys[layer][tables].view(rows, width * self.block_size, *self.keys[layer].shape[2:])
        values = self.values[layer][tables].view(rows, width * self.block_size, *self.values[layer].shape[2:])
        return keys.transpose(1, 2), values.transpose(1, 2)


@dataclass
class StepTensors:
    """One forward pass's inputs and addressing; fixed shapes for a given (rows, query_len, width)."""

    input_ids: torch.Tensor  # [rows, q]
    positions: torch.Tensor  # [rows, q]
    slots: torch.Tensor  # [rows * q]
    tables: torch.Tensor  # [rows, width]
    last: torch.Tensor  # [rows]: index in q of each row's last real token

    def copy_(self, other: StepTensors) -> None:
        """Copies `other`'s contents into these (static) tensors of the same shapes."""
        for name in ("input_ids", "positions", "slots", "tables", "last"):
            getattr(self, name).copy_(getattr(other, name))

    def mask(self, block_size: int) -> torch.Tensor:
        """[rows, 1, q, width * block_size]: a query at position p sees its row's keys at positions <= p
        (built from tensors only, so a captured graph rebuilds it on every replay)."""
        key_pos = torch.arange(self.tables.shape[1] * block_size, device=self.positions.device)
        return (key_pos[None, None, :] <= self.positions[:, :, None])[:, None]


@dataclass(frozen=True)
class RowWork:
    """One row of a step: `tokens` at positions start.., in a sequence holding `blocks`."""

    tokens: list[int]
    start: int
    blocks: list[int]


def step_tensors(
    rows: list[RowWork], block_size: int, device: torch.device, num_rows: int = 0, width: int = 0
) -> StepTensors:
    """Builds a step's tensors, padded to `num_rows` rows and `width` blocks when those are larger
    (padding rows and tokens write to and read from the scratch block 0)."""
    num_rows = max(num_rows, len(rows))
    q = max(len(r.tokens) for r in rows)
    width = max(width, max(len(r.blocks) for r in rows))
    ids, positions, slots, tables, last = [], [], [], [], []
    for row in rows:
        pad = q - len(row.tokens)
        pos = list(range(row.start, row.start + len(row.tokens)))
        ids.append(row.tokens + [0] * pad)
        positions.append(pos + [0] * pad)
        slots.extend([row.blocks[p // block_size] * block_size + p % block_size for p in pos] + [0] * pad)
        tables.append(row.blocks + [0] * (width - len(row.blocks)))
        last.append(len(row.tokens) - 1)
    for _ in range(num_rows - len(rows)):
        ids.append([0] * q)
        positions.append([0] * q)
        slots.extend([0] * q)
        tables.append([0] * width)
        last.append(0)

    def tensor(data: list[int] | list[list[int]]) -> torch.Tensor:
        return torch.tensor(data, dtype=torch.long).to(device, non_blocking=True)

    return StepTensors(tensor(ids), tensor(positions), tensor(slots), tensor(tables), tensor(last))


class PagedCache(Cache):
    """What transformers' attention layers see as the cache: `update` writes the step's keys and values
    into their slots and returns each row's keys and values gathered through its block table."""

    is_compileable = False

    def __init__(self, kv: PagedKV, step: StepTensors) -> None:
        super().__init__(layers=[])
        self.kv = kv
        self.step = step

    def update(  # type: ignore[override]
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self.kv.write(layer_idx, key_states, value_states, self.step.slots)
        return self.kv.gather(layer_idx, self.step.tables)

    def get_seq_length(self, layer_idx: int = 0) -> int:  # type: ignore[override]
        return int(self.step.tables.shape[1] * self.kv.block_size)
