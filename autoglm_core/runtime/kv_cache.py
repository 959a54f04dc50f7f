"""Accounting of the KV cache in fixed-size blocks: who holds how many, and how many are free.

The runner holds the tensors; this decides whether they may grow. A sequence holds
ceil(tokens / block_size) blocks; the scheduler asks `can_grow` before planning work that adds
tokens to the cache and `free`s a sequence's blocks when it finishes, is cancelled or is preempted.
"""

from __future__ import annotations


class KVCacheManager:
    def __init__(self, num_blocks: int, block_size: int = 16) -> None:
        if num_blocks < 1 or block_size < 1:
            raise ValueError("the KV cache needs at least one block of at least one token")
        self.num_blocks = num_blocks
        self.block_size = block_size
        self._held: dict[str, int] = {}

    @property
    def used_blocks(self) -> int:
        return sum(self._held.values())

    @property
    def free_blocks(self) -> int:
        return self.num_blocks - self.used_blocks

    def blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.block_size)

    def held(self, request_id: str) -> int:
        return self._held.get(request_id, 0)

    def can_grow(self, request_id: str, tokens: int) -> bool:
        """Whether the sequence's cache may reach `tokens` tokens in all."""
        return self.blocks_for(tokens) - self.held(request_id) <= self.free_blocks

    def grow(self, request_id: str, tokens: int) -> None:
        """Takes the blocks for the sequence to hold `tokens` tokens in all (never shrinks)."""
        needed = self.blocks_for(tokens)
        if needed - self.held(request_id) > self.free_blocks:
            raise RuntimeError(f"KV cache full: {request_id} needs {needed} blocks")
        if needed > self.held(request_id):
            self._held[request_id] = needed

    def free(self, request_id: str) -> None:
        self._held.pop(request_id, None)

    def holders(self) -> set[str]:
        return set(self._held)
