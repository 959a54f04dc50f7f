"""The paged cache's block pool: reference counts, keyed prefix blocks, eviction order (no torch)."""

from __future__ import annotations

import pytest

from autoglm_core.runtime.runners.paged.block_pool import SCRATCH, BlockPool, prompt_keys


def test_blocks_go_back_at_once_and_the_scratch_block_is_never_handed_out() -> None:
    pool = BlockPool(4)
    blocks = [pool.allocate() for _ in range(3)]
    assert SCRATCH not in blocks and sorted(blocks) == [1, 2, 3]
    with pytest.raises(RuntimeError, match="no free block"):
        pool.allocate()
    pool.release(blocks[1])
    assert pool.allocate() == blocks[1]


def test_a_shared_block_stays_held_until_its_last_holder_lets_go() -> None:
    pool = BlockPool(3)
    key = prompt_keys([1, 2, 3, 4], 4, 1, "", 0)[0]
    block = pool.allocate()
    pool.remember(block, key)
    assert pool.find(key) == block  # a second holder
    pool.release(block)
    assert pool.held_blocks == 1
    pool.release(block)
    assert pool.held_blocks == 0 and pool.available == 2
    assert pool.find(key) == block  # released, still findable
    assert pool.hit_blocks == 2


def test_keyed_blocks_are_evicted_oldest_release_first_and_only_when_needed() -> None:
    pool = BlockPool(4)
    keys = prompt_keys(list(range(12)), 4, 3, "", 0)
    blocks = [pool.allocate() for _ in range(3)]
    for block, key in zip(blocks, keys, strict=True):
        pool.remember(block, key)
    for block in reversed(blocks):  # as the runner frees a sequence: last block first
        pool.release(block)
    assert pool.allocate() == blocks[2]  # the deepest block goes first
    assert pool.find(keys[2]) is None and pool.find(keys[0]) == blocks[0]


def test_keys_chain_on_the_prefix_and_carry_the_salt_past_the_shared_head() -> None:
    prompt = list(range(16))
    alice = prompt_keys(prompt, 4, 4, "alice", shared=8)
    bob = prompt_keys(prompt, 4, 4, "bob", shared=8)
    assert alice[:2] == bob[:2] and alice[2] != bob[2]
    other_head = prompt_keys([99, *prompt[1:]], 4, 4, "alice", shared=8)
    assert all(a != b for a, b in zip(alice, other_head, strict=True))  # a changed head changes every key
