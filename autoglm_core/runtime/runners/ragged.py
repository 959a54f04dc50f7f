"""Per-request KV caches and attention computed row by row ("ragged" attention).

Each request keeps its own keys and values, and each row of a batch attends over exactly its own
keys, so a request's numbers do not depend on what else is in the batch (see the backend's module
docstring for why). Two users: transformers' own model code, through the attention function
registered here as RAGGED_ATTENTION and the RaggedCache view, and the lean Llama decoder, which
calls `prefill_attention` directly, and for decode steps the C kernel of native_attention.py where it
could be built (`decode_attention` otherwise).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional
from transformers import AttentionInterface
from transformers.cache_utils import Cache

# Name under which the per-row attention is registered with transformers.
RAGGED_ATTENTION = "autoglm_ragged"


class SequenceKV:
    """One request's keys and values for every layer, in buffers that grow by doubling."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.lengths: list[int] = []

    def append(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> None:
        """Adds key/value [kv_heads, n, head_dim] at the end of `layer`."""
        if layer == len(self.keys):
            capacity = max(64, 2 * key.shape[1])
            self.keys.append(key.new_empty((key.shape[0], capacity, key.shape[2])))
            self.values.append(value.new_empty((value.shape[0], capacity, value.shape[2])))
            self.lengths.append(0)
        self.reserve(layer, key.shape[1])
        start, end = self.lengths[layer], self.lengths[layer] + key.shape[1]
        self.keys[layer][:, start:end].copy_(key)
        self.values[layer][:, start:end].copy_(value)
        self.lengths[layer] = end

    def reserve(self, layer: int, n: int) -> None:
        """Makes `layer` (already started) able to take `n` more entries without growing."""
        if self.lengths[layer] + n > self.keys[layer].shape[1]:
            self._grow(layer, self.lengths[layer] + n)

    def _grow(self, layer: int, needed: int) -> None:
        capacity = max(needed, 2 * self.keys[layer].shape[1])
        for buffers in (self.keys, self.values):
            old = buffers[layer]
            new = old.new_empty((old.shape[0], capacity, old.shape[2]))
            new[:, : self.lengths[layer]].copy_(old[:, : self.lengths[layer]])
            buffers[layer] = new

    def view(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of `layer` as [1, kv_heads, length, head_dim] views."""
        n = self.lengths[layer]
        return self.keys[layer][None, :, :n], self.values[layer][None, :, :n]

    @property
    def length(self) -> int:
        return self.lengths[0] if self.lengths else 0

    def truncate(self, length: int) -> None:
        """Forgets every layer's entries past `length` (undoes a forward pass stopped part-way)."""
        self.lengths = [min(n, length) for n in self.lengths]


class RaggedCache(Cache):
    """The cache a forward pass sees: row b of the batch is `rows[b]`, each with its own length.

    `update` stores the new keys/values in each row's buffers; the ragged attention function then reads
    the rows directly, so the padded tensors HF would build are never needed.
    """

    is_compileable = False

    def __init__(self, rows: list[SequenceKV]) -> None:
        super().__init__(layers=[])
        self.rows = rows

    def update(  # type: ignore[override]
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        for b, row in enumerate(self.rows):
            row.append(layer_idx, key_states[b], value_states[b])
        return key_states, value_states

    def get_seq_length(self, layer_idx: int = 0) -> int:  # type: ignore[override]
        return max((row.lengths[layer_idx] for row in self.rows if len(row.lengths) > layer_idx), default=0)


# The cache of the forward pass running in this thread (HF does not hand the cache to attention functions).
_CURRENT = threading.local()


@contextlib.contextmanager
def active_cache(cache: RaggedCache) -> Iterator[None]:
    """Makes `cache` the one RAGGED_ATTENTION reads during a forward pass in this thread."""
    _CURRENT.cache = cache
    try:
        yield
    finally:
        _CURRENT.cache = None


def _ragged_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention for each row over its own cache; HF's (padded) mask is not needed and ignored."""
    cache = getattr(_CURRENT, "cache", None)
    if not isinstance(cache, RaggedCache):
        raise RuntimeError("ragged attention runs only inside the backend's decode thread")
    if kwargs.get("softcap") is not None:
        raise ValueError("attention logit soft-capping is not supported")
    layer = int(module.layer_idx)  # type: ignore[arg-type]
    window = kwargs.get("sliding_window") or getattr(module, "sliding_window", None)
    if query.shape[2] == 1:
        return decode_attention(cache.rows, layer, query, scaling, window), None
    return prefill_attention(cache.rows, layer, query, scaling, window).transpose(1, 2), None


def prefill_attention(
    rows: list[SequenceKV], layer: int, query: torch.Tensor, scaling: float | None, window: int | None
) -> torch.Tensor:
    """Several query tokens per row: [B, heads, n, dim] -> [B, heads, n, dim], causal, row by row."""
    outputs = []
    for b, row in enumerate(rows):
        keys, values = row.view(layer)
        mask = row_mask(query.shape[2], keys.shape[2], window, query.device)
        outputs.append(
            functional.scaled_dot_product_attention(
                query[b : b + 1],
                keys,
                values,
                attn_mask=mask,
                is_causal=mask is None,
                scale=scaling,
                enable_gqa=query.shape[1] != keys.shape[1],
            )
        )
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


def decode_attention(
    rows: list[SequenceKV], layer: int, query: torch.Tensor, scaling: float | None, window: int | None
) -> torch.Tensor:
    """One query token per row: [B, heads, 1, dim] -> [B, 1, heads, dim], attention row by row.

    The query heads sharing a KV head are that head's query rows (as HF's `pack_gqa`), so no key is
    repeated. Plain matmul/softmax rather than SDPA: for one query token SDPA's kernel is no faster, and
    it enters an OpenMP parallel region per call, which stalls for a scheduler tick whenever another
    process holds the second core (measured on this shared box, 30 layers x 16 rows: median 69 ms with
    SDPA, 24 ms with matmul/softmax).
    The per-row work is the same alone or batched, so batching never changes a row's numbers.
    """
    batch, heads, _, dim = query.shape
    kv_heads = rows[0].keys[layer].shape[0]
    scale = scaling if scaling is not None else dim**-0.5
    grouped = (query * scale).transpose(1, 2).reshape(batch, kv_heads, heads // kv_heads, dim)
    outputs = []
    low_precision = query.dtype != torch.float32
    for b, row in enumerate(rows):
        n = row.lengths[layer]
        start = max(0, n - window) if window else 0
        keys, values = row.keys[layer][:, start:n], row.values[layer][:, start:n]
        # bmm rather than matmul: the same kernel without matmul's reshaping, ~25% less per call.
        scores = torch.bmm(grouped[b], keys.transpose(1, 2))
        if low_precision:  # softmax in fp32 for bf16/fp16
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(values.dtype)
        else:
            probs = torch.softmax(scores, dim=-1)
        outputs.append(torch.bmm(probs, values))
    return torch.stack(outputs).reshape(batch, 1, heads, dim)


def row_mask(q_len: int, kv_len: int, window: int | None, device: torch.device) -> torch.Tensor | None:
    """A boolean [1, 1, q, kv] mask where plain causal attention (or a decode step) is not enough."""
    if q_len == 1 or (q_len == kv_len and not (window and q_len > window)):
        return None
    q_pos = torch.arange(kv_len - q_len, kv_len, device=device)[:, None]
    k_pos = torch.arange(kv_len, device=device)[None, :]
    allowed = k_pos <= q_pos
    if window:
        allowed &= k_pos > q_pos - window
    return allowed[None, None]


AttentionInterface.register(RAGGED_ATTENTION, _ragged_attention)
