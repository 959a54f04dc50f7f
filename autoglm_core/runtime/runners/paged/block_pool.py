"""The physical KV-cache blocks: which are free, who holds each, and which hold a known prompt prefix.

Block 0 is scratch: padding tokens write there and padded rows read it, so it is never handed out.
A block may be held by several sequences at once when they share a prompt head (prefix reuse): a
reference count says how many. A block that held a full block of some prompt keeps a key, the
hash-chained layout of vLLM's automatic prefix caching: sha256 of (parent key, its tokens, salt). When
its last holder lets go, a keyed block stays findable until the space is needed (least recently
released first); an unkeyed one is free at once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Sequence

SCRATCH = 0
_ROOT = b""


def block_key(parent: bytes, tokens: Sequence[int], salt: str) -> bytes:
    """The key of a full block of `tokens` that follows the block keyed `parent`."""
    text = f"{parent.hex()}|{','.join(map(str, tokens))}|{salt}"
    return hashlib.sha256(text.encode()).digest()


def prompt_keys(prompt: Sequence[int], block_size: int, blocks: int, salt: str, shared: int) -> list[bytes]:
    """Keys of the first `blocks` full blocks of `prompt`. Blocks that end past the `shared` head
    (what the server wrote) carry the caller's salt, so one user's prompt is never found, by timing,
    in another user's cache."""
    keys: list[bytes] = []
    parent = _ROOT
    for i in range(blocks):
        start = i * block_size
        end = start + block_size
        parent = block_key(parent, prompt[start:end], "" if end <= shared else salt)
        keys.append(parent)
    return keys


class BlockPool:
    """Hands out block ids; not thread-safe (the step loop's thread owns it)."""

    def __init__(self, num_blocks: int) -> None:
        if num_blocks < 2:
            raise ValueError("the paged cache needs the scratch block and at least one more")
        self.num_blocks = num_blocks
        self._refs = [0] * num_blocks
        self._free: deque[int] = deque(range(1, num_blocks))
        # Released keyed blocks, oldest release first: reused last, evicted first.
        self._cached: OrderedDict[int, bytes] = OrderedDict()
        self._by_key: dict[bytes, int] = {}
        self._key_of: dict[int, bytes] = {}
        # Counters for metrics and tests.
        self.hit_blocks = 0

    @property
    def held_blocks(self) -> int:
        """Blocks some sequence holds now (cached-but-released blocks do not count)."""
        return sum(1 for refs in self._refs if refs > 0)

    @property
    def available(self) -> int:
        """Blocks that `allocate` can hand out (free or evictable)."""
        return len(self._free) + len(self._cached)

    def allocate(self) -> int:
        if self._free:
            block = self._free.popleft()
        elif self._cached:
            block, key = self._cached.popitem(last=False)
            del self._by_key[key]
            del self._key_of[block]
        else:
            raise RuntimeError("paged KV cache: no free block (the scheduler's accounting was exceeded)")
        self._refs[block] = 1
        return block

    def release(self, block: int) -> None:
        self._refs[block] -= 1
        if self._refs[block] > 0:
            return
        key = self._key_of.get(block)
        if key is None:
            self._free.append(block)
        else:
            self._cached[block] = key

    def find(self, key: bytes) -> int | None:
        """Takes a reference on the block cached under `key`; None when there is none."""
        block = self._by_key.get(key)
        if block is None:
            return None
        if self._refs[block] == 0:
            del self._cached[block]
        self._refs[block] += 1
        self.hit_blocks += 1
        return block

    def remember(self, block: int, key: bytes) -> None:
        """Keys a held, full block; a key that another block already has keeps that block."""
        if key not in self._by_key and block not in self._key_of:
            self._by_key[key] = block
            self._key_of[block] = key
