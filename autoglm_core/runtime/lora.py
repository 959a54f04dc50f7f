"""Per-row adapters in a batched forward pass: LoRA deltas (multi-LoRA serving) and bottleneck adapters.

Rows with different adapters, and rows with none, share one pass: the base layers run once for the
whole batch, then each adapter present adds `x_rows @ down @ up` to the output rows that use it
(the segmented approach of multi-LoRA servers). Rows without an adapter are never touched, so their
numbers are exactly the base model's.

The lean decoder fuses q/k/v and gate/up into single matrices; an adapter is kept in the same fused
layout: per layer and fused module, `down` [in, rank_total] holds the A matrices of its targets side
by side, and `up` [rank_total, out_total] holds their B matrices (times the LoRA scale) block-wise
at each target's output columns, zeros elsewhere.

A bottleneck adapter (the seed's section 2.5, Pfeiffer placement) changes each layer's MLP output
h to h + scaling * up(act(down(h))) on its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional

# Non-linearities a bottleneck adapter may use.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": functional.relu,
    "silu": functional.silu,
    "gelu": functional.gelu,
    "tanh": torch.tanh,
}

# The decoder's fused modules and, in order, the base model's projections each one concatenates.
FUSED_MODULES: dict[str, tuple[str, ...]] = {
    "qkv": ("q_proj", "k_proj", "v_proj"),
    "o": ("o_proj",),
    "gate_up": ("gate_proj", "up_proj"),
    "down": ("down_proj",),
}


@dataclass(frozen=True)
class LowRank:
    """One fused module's delta: x @ down @ up."""

    down: torch.Tensor  # [in, rank_total]
    up: torch.Tensor  # [rank_total, out_total]


@dataclass(frozen=True)
class Bottleneck:
    """One layer's bottleneck on the MLP output h: h + scaling * (act(h @ down + bias) @ up + bias)."""

    down: torch.Tensor  # [hidden, size]
    down_bias: torch.Tensor  # [size]
    up: torch.Tensor  # [size, hidden]
    up_bias: torch.Tensor  # [hidden]
    activation: str
    scaling: float


@dataclass(frozen=True)
class LoraWeights:
    """An adapter's deltas per layer, keyed by fused module ("qkv", "o", "gate_up", "down"), and/or
    its bottleneck adapters per layer (empty for LoRA)."""

    # Unique per load: keys the prefix cache, so a reloaded adapter never meets an older one's cache.
    load_id: str
    layers: Sequence[dict[str, LowRank]]
    bottlenecks: Sequence[Bottleneck] = ()


class RowAdapters:
    """The adapters of one forward pass's rows, grouped: each adapter with the token rows it covers."""

    def __init__(self, adapters: Sequence[LoraWeights | None], counts: Sequence[int]) -> None:
        starts = torch.tensor([0, *counts]).cumsum(0).tolist()
        rows_of: dict[str, list[int]] = {}
        weights_of: dict[str, LoraWeights] = {}
        for row, adapter in enumerate(adapters):
            if adapter is None:
                continue
            weights_of[adapter.load_id] = adapter
            rows_of.setdefault(adapter.load_id, []).extend(range(starts[row], starts[row + 1]))
        self.groups = [(weights_of[key], torch.tensor(rows)) for key, rows in rows_of.items()]
        # All adapter rows, group after group: one gather and one scatter per module serve every
        # adapter; each group's rows are a contiguous slice in between.
        self.index = torch.cat([index for _, index in self.groups])
        bounds = torch.tensor([0, *(len(index) for _, index in self.groups)]).cumsum(0).tolist()
        self.spans = [(adapter, bounds[i], bounds[i + 1]) for i, (adapter, _) in enumerate(self.groups)]

    @classmethod
    def of(cls, adapters: Sequence[LoraWeights | None] | None, counts: Sequence[int]) -> RowAdapters | None:
        """None when no row has an adapter (the base pass runs untouched)."""
        if adapters is None or all(a is None for a in adapters):
            return None
        return cls(adapters, counts)

    def add(
        self,
        y: torch.Tensor,
        x: torch.Tensor,
        layer: int,
        module: str,
        norm: tuple[torch.Tensor, float] | None = None,
    ) -> None:
        """Adds each adapter's delta for `x` (the module's input, RMS-normed first when `norm` is
        given: the fused kernel norms inside) to `y` (its output), in place.

        x and y are [B, n, features] or [1, total, features] (ragged); either way their flattened
        token rows are the rows' tokens in order."""
        deltas = [adapter.layers[layer].get(module) for adapter, _, _ in self.spans]
        if all(delta is None for delta in deltas):
            return
        rows = x.reshape(-1, x.shape[-1]).index_select(0, self.index)
        if norm is not None:
            weight, eps = norm
            rows = weight * (rows * torch.rsqrt(rows.pow(2).mean(-1, keepdim=True) + eps))
        out = torch.zeros(rows.shape[0], y.shape[-1]) if None in deltas else None
        parts = []
        for (_, start, end), delta in zip(self.spans, deltas, strict=True):
            if delta is None:
                continue
            part = (rows[start:end] @ delta.down) @ delta.up
            if out is None:
                parts.append(part)
            else:
                out[start:end] = part
        y.view(-1, y.shape[-1]).index_add_(0, self.index, out if out is not None else torch.cat(parts))

    def add_bottleneck(self, out: torch.Tensor, residual: torch.Tensor, layer: int) -> None:
        """Applies bottleneck adapters to the MLP output inside `out` (= residual + MLP output), in place."""
        flat_out = out.view(-1, out.shape[-1])
        flat_residual = residual.reshape(-1, residual.shape[-1])
        for adapter, index in self.groups:
            if not adapter.bottlenecks:
                continue
            b = adapter.bottlenecks[layer]
            mlp = flat_out.index_select(0, index) - flat_residual.index_select(0, index)
            inner = ACTIVATIONS[b.activation](mlp @ b.down + b.down_bias)
            flat_out.index_add_(0, index, (inner @ b.up + b.up_bias) * b.scaling)
