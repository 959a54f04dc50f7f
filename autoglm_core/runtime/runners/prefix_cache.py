"""A cache of prompt prefixes' keys and values, so requests that share a prefix skip its prefill.

Chat prompts mostly share their head: the chat template's system text, the prompt engine's system
message, a long document asked about several times. Prefill is arithmetic-bound on a CPU (measured:
~2.9 ms per prompt token for SmolLM2-135M on the 2-core box), so computing a 70-token prompt's
55-token shared head once instead of for every request cuts time to first token and frees the
decode batch sooner.

Prefixes are cached in blocks of BLOCK tokens, each block keyed by (its parent block, its tokens),
the hash-chained layout vLLM's automatic prefix caching uses: a lookup walks the prompt block by block
and stops at the first block not cached. Blocks are evicted least recently used first within a byte
budget; a block whose parent was evicted can no longer be reached and ages out in turn.

Blocks past a request's `shared` head (the part the server wrote: template, server system prompt) are
keyed with the request's salt (its user), so one user's prompt can never be found, by timing, in the
cache of another (the cross-tenant leak fixed in vLLM as CVE-2025-46570).

The restored keys and values are the ones an earlier prefill computed for the same tokens, so the
answer is the same computation up to the order of floating-point additions in attention: greedy
tokens stay the same in practice, but logits may differ in their last bits from a cold prefill (set
the budget to 0 where bitwise reproducibility across requests matters more than speed).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from autoglm_core.runtime.runners.ragged import SequenceKV

BLOCK = 8  # tokens; small blocks keep more of a shared head whose length is not a multiple

# (parent block id, the block's tokens, salt): the salt is "" for blocks inside the shared head.
_Key = tuple[int, tuple[int, ...], str]


def _key(parent: int, prompt: Sequence[int], start: int, salt: str, shared: int) -> _Key:
    return (parent, tuple(prompt[start : start + BLOCK]), "" if start + BLOCK <= shared else salt)


@dataclass(eq=False)
class _Block:
    block_id: int
    # All layers in one tensor each, [layers, kv_heads, BLOCK, head_dim]: a long prompt's store and
    # restore then cost a few tensor operations per block, not two per block and layer.
    keys: torch.Tensor
    values: torch.Tensor

    @property
    def nbytes(self) -> int:
        return 2 * self.keys.numel() * self.keys.element_size()


class PrefixCache:
    """restore() before a prefill, store() after it; all from the decode thread (not thread-safe)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.nbytes = 0
        self._blocks: OrderedDict[_Key, _Block] = OrderedDict()
        self._ids = itertools.count(1)  # 0 is the root: the parent of every first block
        # Counters for metrics and tests.
        self.lookups = 0
        self.hit_tokens = 0

    def restore(self, prompt: Sequence[int], kv: SequenceKV, salt: str = "", shared: int = 0) -> int:
        """Loads the longest cached prefix of `prompt` into the empty `kv`; returns its length.

        At least the last prompt token is always left to prefill: its logits pick the first token.
        Blocks that end past `shared` tokens are found only under the same `salt`.
        """
        self.lookups += 1
        chain = self._chain(prompt, len(prompt) - 1, salt, shared)
        if not chain:
            return 0
        keys = torch.cat([block.keys for block in chain], dim=2)
        values = torch.cat([block.values for block in chain], dim=2)
        for layer in range(keys.shape[0]):
            kv.append(layer, keys[layer], values[layer])
        restored = len(chain) * BLOCK
        self.hit_tokens += restored
        return restored

    def store(self, prompt: Sequence[int], kv: SequenceKV, salt: str = "", shared: int = 0) -> None:
        """Caches the whole blocks of `prompt` that `kv` (just prefilled with it) holds and the cache
        does not, then evicts down to the budget."""
        if self.budget_bytes <= 0 or not kv.lengths:
            return
        parent, path = 0, []
        span: tuple[torch.Tensor, torch.Tensor, int] | None = None  # layers stacked from a start on
        for start in range(0, min(len(prompt), kv.length) - BLOCK + 1, BLOCK):
            key = _key(parent, prompt, start, salt, shared)
            block = self._blocks.get(key)
            if block is None:
                if span is None:
                    span = (*_stack_layers(kv, start), start)
                keys, values, first = span
                at = slice(start - first, start - first + BLOCK)
                block = _Block(next(self._ids), keys[:, :, at].clone(), values[:, :, at].clone())
                self._blocks[key] = block
                self.nbytes += block.nbytes
            path.append(key)
            parent = block.block_id
        self._touch(path)
        while self.nbytes > self.budget_bytes and self._blocks:
            _, evicted = self._blocks.popitem(last=False)
            self.nbytes -= evicted.nbytes

    def _chain(self, prompt: Sequence[int], limit: int, salt: str, shared: int) -> list[_Block]:
        chain: list[_Block] = []
        parent, path = 0, []
        for start in range(0, limit - BLOCK + 1, BLOCK):
            key = _key(parent, prompt, start, salt, shared)
            block = self._blocks.get(key)
            if block is None:
                break
            path.append(key)
            chain.append(block)
            parent = block.block_id
        self._touch(path)
        return chain

    def _touch(self, path: list[_Key]) -> None:
        """Marks a chain as just used, its first block last: eviction then takes the deepest blocks
        first, and never a block that others still hang from before them."""
        for key in reversed(path):
            self._blocks.move_to_end(key)


def _stack_layers(kv: SequenceKV, start: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every layer's keys and values from `start` on, as [layers, kv_heads, n, head_dim]."""
    end = kv.length
    keys = torch.stack([k[:, start:end] for k in kv.keys])
    values = torch.stack([v[:, start:end] for v in kv.values])
    return keys, values
