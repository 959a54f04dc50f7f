"""The paged runner on CPU, through the real scheduler and step loop: greedy output equals plain
transformers' for tiny random Llama, Qwen3 and GLM models (built from configs, no download), batched
and chunked, with and without prefix reuse and the padded graph path; blocks all come back."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path

import pytest

pytest.importorskip("transformers")

import torch
from transformers import (
    Glm4Config,
    Glm4ForCausalLM,
    GlmConfig,
    GlmForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    Qwen3Config,
    Qwen3ForCausalLM,
)

from autoglm_core.backends.transformers_backend import TransformersBackend
from autoglm_core.errors import InvalidArgument
from autoglm_core.models import build_tiny_model
from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.runners.paged.runner import PagedRunner
from autoglm_core.runtime.scheduler import Scheduler, SchedulerConfig
from autoglm_core.runtime.step_loop import StepLoop
from autoglm_core.runtime.types import BackendRequest, SamplingConfig

pytestmark = pytest.mark.torch

BLOCK = 4  # small blocks: every prompt spans several, and chunks end inside them
NEW_TOKENS = 12
TIMEOUT_S = 120.0
SHAPE = dict(
    vocab_size=320,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=512,
    pad_token_id=0,
    eos_token_id=None,  # no EOS: every request runs its full length
    bos_token_id=2,
)

FAMILIES: dict[str, Callable[[], PreTrainedModel]] = {
    "llama": lambda: LlamaForCausalLM(LlamaConfig(**SHAPE)),
    "qwen3": lambda: Qwen3ForCausalLM(Qwen3Config(**SHAPE)),
    "glm": lambda: GlmForCausalLM(GlmConfig(**SHAPE)),
    "glm4": lambda: Glm4ForCausalLM(Glm4Config(**SHAPE)),
}


def tiny(family: str) -> PreTrainedModel:
    torch.manual_seed(0)
    model = FAMILIES[family]().eval()
    # Random weights this small give flat logits: scale them up so greedy picks are clear-cut.
    with torch.no_grad():
        model.lm_head.weight.mul_(8.0)
    return model


def prompts(count: int, head: list[int] | None = None) -> list[list[int]]:
    rng = random.Random(7)
    return [(head or []) + [rng.randrange(1, 320) for _ in range(rng.randint(3, 37))] for _ in range(count)]


def reference(model: PreTrainedModel, prompt: list[int], new_tokens: int = NEW_TOKENS) -> list[int]:
    """Plain transformers, one prompt at a time, greedy."""
    ids = torch.tensor([prompt])
    with torch.inference_mode():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            do_sample=False,
            pad_token_id=0,
        )
    return [int(t) for t in out[0, len(prompt) :]]


def make_loop(runner: PagedRunner, num_blocks: int, **config: object) -> StepLoop:
    scheduler = Scheduler(SchedulerConfig(**config), KVCacheManager(num_blocks, BLOCK))  # type: ignore[arg-type]
    loop = StepLoop(scheduler, runner)
    loop.start()
    return loop


def request(name: str, prompt: list[int], salt: str = "", shared: int = 0) -> BackendRequest:
    return BackendRequest(
        name, prompt, SamplingConfig(max_new_tokens=NEW_TOKENS), cache_salt=salt, shared_prefix_tokens=shared
    )


async def tokens_of(loop: StepLoop, req: BackendRequest) -> list[int]:
    out: list[int] = []
    async with aclosing(loop.generate(req, req.sampling.max_new_tokens, ())) as chunks:
        async for chunk in chunks:
            out += chunk.token_ids
    return out


async def together(loop: StepLoop, reqs: list[BackendRequest]) -> list[list[int]]:
    return await asyncio.wait_for(asyncio.gather(*(tokens_of(loop, r) for r in reqs)), TIMEOUT_S)


async def stop(loop: StepLoop) -> None:
    loop.stop()
    await loop.join()


def assert_all_blocks_back(loop: StepLoop, runner: PagedRunner) -> None:
    assert not loop.scheduler.has_work and loop.scheduler.kv_cache.used_blocks == 0
    assert runner.pool.held_blocks == 0 and not runner._states
    assert runner.pool.available == runner.pool.num_blocks - 1  # all but the scratch block


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("graphs", [False, True], ids=["eager", "padded-graph-path"])
async def test_batched_greedy_output_equals_transformers_alone(family: str, graphs: bool) -> None:
    model = tiny(family)
    ps = prompts(6)
    expected = [reference(model, p) for p in ps]
    runner = PagedRunner(model, num_blocks=256, block_size=BLOCK, cuda_graphs=graphs)
    loop = make_loop(runner, 256, max_running=6)
    try:
        got = await together(loop, [request(f"r{i}", p) for i, p in enumerate(ps)])
        assert got == expected
        assert_all_blocks_back(loop, runner)
    finally:
        await stop(loop)
    if graphs:  # decode steps went through padded (rows, width) buckets
        assert runner.graphs.captured and all(rows & (rows - 1) == 0 for rows, _ in runner.graphs.captured)


@pytest.mark.parametrize("family", ["qwen3", "glm"])
async def test_chunked_prefill_and_prefix_reuse_give_the_same_output(family: str) -> None:
    model = tiny(family)
    head = list(range(11, 41))  # a shared 30-token head (a system prompt), then distinct tails
    ps = prompts(5, head)
    expected = [reference(model, p) for p in ps]
    runner = PagedRunner(model, num_blocks=256, block_size=BLOCK, prefix_reuse=True)
    # Chunks of 5 tokens while others decode, 7 when none does: prompts are prefilled over many steps.
    loop = make_loop(runner, 256, max_running=3, chunk_tokens=5, max_step_tokens=7)
    try:
        first = await together(loop, [request("first", ps[0])])
        assert runner.pool.hit_blocks == 0
        rest = await together(loop, [request(f"r{i}", p) for i, p in enumerate(ps[1:])])
        assert first + rest == expected
        # Each later request found the head's full blocks (30 tokens: 7 blocks of 4) cached.
        assert runner.pool.hit_blocks >= 4 * 7
        assert_all_blocks_back(loop, runner)
    finally:
        await stop(loop)


async def test_prefix_blocks_past_the_shared_head_are_found_only_under_the_same_salt() -> None:
    model = tiny("qwen3")
    prompt = list(range(5, 40))  # 35 tokens: 8 full blocks may be restored (the last token never is)
    expected = reference(model, prompt)
    runner = PagedRunner(model, num_blocks=128, block_size=BLOCK, prefix_reuse=True)
    loop = make_loop(runner, 128)
    try:
        assert await together(loop, [request("a1", prompt, salt="alice", shared=8)]) == [expected]
        assert await together(loop, [request("b1", prompt, salt="bob", shared=8)]) == [expected]
        assert runner.pool.hit_blocks == 2  # only the 8-token shared head: 2 blocks
        assert await together(loop, [request("a2", prompt, salt="alice", shared=8)]) == [expected]
        assert runner.pool.hit_blocks == 2 + 8
        assert_all_blocks_back(loop, runner)
    finally:
        await stop(loop)


async def test_blocks_all_come_back_after_a_cancel_storm() -> None:
    model = tiny("llama")
    ps = prompts(40)
    rng = random.Random(11)
    runner = PagedRunner(model, num_blocks=48, block_size=BLOCK, prefix_reuse=True)
    # 48 blocks of 4 tokens for up to 8 sequences of up to 49 tokens: preemption happens too.
    loop = make_loop(runner, 48, max_running=8, chunk_tokens=6)

    async def caller(i: int, prompt: list[int]) -> None:
        req = request(f"r{i}", prompt)
        if rng.random() < 0.5:
            async with aclosing(loop.generate(req, NEW_TOKENS, ())) as chunks:
                async for chunk in chunks:
                    if chunk.token_ids and rng.random() < 0.3:
                        return  # the caller lets go mid-stream
        else:
            task = asyncio.ensure_future(tokens_of(loop, req))
            await asyncio.sleep(rng.random() * 0.05)
            task.cancel()  # cancelled while queued, prefilling or decoding (or already done)
            with contextlib.suppress(asyncio.CancelledError):
                await task

    try:
        await asyncio.wait_for(asyncio.gather(*(caller(i, p) for i, p in enumerate(ps))), TIMEOUT_S)
        for _ in range(200):
            if not loop.scheduler.has_work and loop.inbox.empty():
                break
            await asyncio.sleep(0.01)
        assert_all_blocks_back(loop, runner)
        # And the cache still computes correctly afterwards.
        assert await together(loop, [request("after", ps[0])]) == [reference(model, ps[0])]
    finally:
        await stop(loop)


async def backend_tokens(backend: TransformersBackend, prompt: list[int], rid: str) -> list[int]:
    req = BackendRequest(rid, prompt, SamplingConfig(max_new_tokens=NEW_TOKENS))
    out: list[int] = []
    async with aclosing(backend.generate(req)) as chunks:
        async for chunk in chunks:
            out += chunk.token_ids
    return out


async def test_the_backend_runs_the_paged_runner_when_asked_on_cpu(tmp_path: Path) -> None:
    """runner="paged" (what CUDA gets by default) serves a model directory through the paged runner,
    with the same greedy tokens as the CPU runner, batched, with prefix reuse on."""
    source = str(build_tiny_model(tmp_path / "qwen3", model_type="qwen3"))
    ps = prompts(4)
    outputs = {}
    for choice in ("torch", "paged"):
        backend = TransformersBackend(
            source,
            name="tiny",
            runner=choice,
            prefix_cache_mb=4,
            ignore_eos=True,
            scheduler=SchedulerConfig(max_running=4, chunk_tokens=8),
        )
        await asyncio.wait_for(backend.load(), TIMEOUT_S)
        try:
            assert isinstance(backend.runner, PagedRunner) == (choice == "paged")
            got = [
                await asyncio.wait_for(
                    asyncio.gather(*(backend_tokens(backend, p, f"r{i}") for i, p in enumerate(ps))),
                    TIMEOUT_S,
                )
                for _ in range(2)  # the second time through, prompt heads come from cache
            ]
            assert got[0] == got[1]
            outputs[choice] = got[0]
        finally:
            await backend.close()
    assert outputs["paged"] == outputs["torch"]


def test_an_unknown_runner_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="runner"):
        TransformersBackend("unused", name="tiny", runner="flash")
