"""TransformersBackend: batching, cancellation, sampling, EOS, load errors, and the real default model.

Most tests use a tiny random llama (2 layers, hidden 64) with the SmolLM2 tokenizer; tests marked
`model` load the real default model (SmolLM2-135M-Instruct, converted on first use).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from autoglm_core.backends.base import Backend, BackendRequest, ChatTokenizer, SamplingConfig, TokenChunk
from autoglm_core.backends.transformers_backend import TransformersBackend
from autoglm_core.errors import FailedPrecondition, InvalidArgument, NotFound
from autoglm_core.kernels import native_linear
from autoglm_core.models import build_tiny_model, ensure_default_model
from autoglm_core.runtime.scheduler import SchedulerConfig

# Every await on the backend is bounded so a bug shows up as a failure, never as a hung test run.
TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
async def tiny(tiny_dir: Path) -> AsyncIterator[TransformersBackend]:
    backend = TransformersBackend(str(tiny_dir), name="tiny", scheduler=SchedulerConfig(max_running=4))
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    yield backend
    await backend.close()


def request(rid: str, prompt: list[int], max_new_tokens: int = 16, **sampling: float | int) -> BackendRequest:
    return BackendRequest(rid, prompt, SamplingConfig(max_new_tokens=max_new_tokens, **sampling))  # type: ignore[arg-type]


async def collect(backend: TransformersBackend, req: BackendRequest) -> list[TokenChunk]:
    """The request's chunks, less the scheduling notice that comes first (no tokens, queued_s set)."""

    async def run() -> list[TokenChunk]:
        chunks = [chunk async for chunk in backend.generate(req)]
        assert chunks[0].queued_s is not None and not chunks[0].token_ids
        return chunks[1:]

    return await asyncio.wait_for(run(), TIMEOUT_S)


def tokens(chunks: list[TokenChunk]) -> list[int]:
    return [t for c in chunks for t in c.token_ids]


def prompts(backend: TransformersBackend) -> list[list[int]]:
    texts = [
        "Hello there",
        "The capital of France is",
        "Once upon a time, in a land far away,",
        "1 2 3 4 5 6 7",
    ]
    return [backend.tokenizer.encode(t) for t in texts]


@pytest.mark.asyncio
async def test_implements_protocol(tiny: TransformersBackend) -> None:
    assert isinstance(tiny, Backend)
    assert isinstance(tiny.tokenizer, ChatTokenizer)
    info = tiny.info
    assert info.backend == "transformers" and info.device == "cpu"
    assert info.context_length == 2048
    assert info.eos_token_ids == (2,)  # <|im_end|>
    assert not info.supports_thinking  # SmolLM2's template knows no <think>
    assert await tiny.health()


@pytest.mark.asyncio
async def test_render_chat_uses_the_models_template(tiny: TransformersBackend) -> None:
    text = tiny.tokenizer.render_chat([{"role": "user", "content": "hi"}], enable_thinking=True)
    assert text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    ids = tiny.tokenizer.encode(text)
    assert tiny.tokenizer.decode(tiny.tokenizer.encode("héllo 北京")) == "héllo 北京"
    assert "".join(tiny.tokenizer.token_texts(ids)) == text


@pytest.mark.asyncio
async def test_greedy_output_is_identical_batched_and_alone(tiny: TransformersBackend) -> None:
    # Log-probabilities too, compared exactly: a request's numbers must not depend on its batch at all
    # (a tiny model's tokens alone would hide small numeric differences).
    ps = prompts(tiny)

    def req(rid: str, p: list[int]) -> BackendRequest:
        return dataclasses.replace(request(rid, p, 24), want_logprobs=True)

    alone = [await collect(tiny, req(f"a{i}", p)) for i, p in enumerate(ps)]
    together = await asyncio.gather(*(collect(tiny, req(f"b{i}", p)) for i, p in enumerate(ps)))
    assert [tokens(c) for c in together] == [tokens(c) for c in alone]
    assert [[c.logprobs for c in r] for r in together] == [[c.logprobs for c in r] for r in alone]
    assert all(len(tokens(a)) == 24 for a in alone)


async def assert_batched_equals_alone(backend: TransformersBackend, max_new_tokens: int = 24) -> None:
    ps = prompts(backend)

    def req(rid: str, p: list[int]) -> BackendRequest:
        return dataclasses.replace(request(rid, p, max_new_tokens), want_logprobs=True)

    alone = [await collect(backend, req(f"a{i}", p)) for i, p in enumerate(ps)]
    together = await asyncio.gather(*(collect(backend, req(f"b{i}", p)) for i, p in enumerate(ps)))
    assert [[(c.token_ids, c.logprobs) for c in r] for r in together] == [
        [(c.token_ids, c.logprobs) for c in r] for r in alone
    ]


@contextlib.asynccontextmanager
async def loaded(source: Path, name: str = "tiny", **options: Any) -> AsyncIterator[TransformersBackend]:
    """A backend on `source`, loaded, and closed when the block ends."""
    backend = TransformersBackend(str(source), name=name, **options)
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    try:
        yield backend
    finally:
        await backend.close()


@pytest.mark.asyncio
async def test_int4_weights_are_batch_invariant_too(tiny_dir: Path) -> None:
    async with loaded(tiny_dir, scheduler=SchedulerConfig(max_running=4), quantization="int4") as backend:
        assert backend.runner is not None and backend.runner.decoder is not None
        assert backend.runner.decoder.int4_error > 0  # random weights are not 4-bit: it says so
        await assert_batched_equals_alone(backend)


@pytest.fixture(scope="module")
def tiny_q4_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with every layer's weights on a Q4_1 grid, as if read from a Q4_1 GGUF file."""
    import torch
    from transformers import AutoModelForCausalLM

    path = build_tiny_model(tmp_path_factory.mktemp("tiny-q4") / "model")
    model = AutoModelForCausalLM.from_pretrained(str(path))
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if ".layers." in name and weight.dim() == 2:
                blocks = weight.reshape(weight.shape[0], -1, 32).double()
                low = blocks.amin(-1, keepdim=True).half().double()
                d = ((blocks.amax(-1, keepdim=True) - low) / 15).half().double()
                q = torch.round((blocks - low) / d).clamp(0, 15)
                weight.copy_((d * q + low).float().reshape(weight.shape))
    model.save_pretrained(str(path))
    return path


@pytest.mark.asyncio
async def test_auto_computes_a_4_bit_models_own_weights_batch_invariantly(tiny_q4_dir: Path) -> None:
    async with loaded(tiny_q4_dir, scheduler=SchedulerConfig(max_running=4), quantization="none") as fp32:
        expected = [tokens(await collect(fp32, request(f"f{i}", p))) for i, p in enumerate(prompts(fp32))]
    async with loaded(tiny_q4_dir, scheduler=SchedulerConfig(max_running=4)) as backend:  # quantization auto
        assert backend.runner is not None and backend.runner.decoder is not None
        assert backend.runner.decoder.linear_kinds() == "8 x 4-bit native; head fp32"
        assert backend.runner.decoder.int4_error == 0.0
        await assert_batched_equals_alone(backend)
        # The same weights in fp32 arithmetic, summed in another order: the same greedy answers here.
        assert [
            tokens(await collect(backend, request(f"a{i}", p))) for i, p in enumerate(prompts(backend))
        ] == expected


@pytest.mark.asyncio
async def test_auto_that_misses_transformers_logits_serves_fp32(
    tiny_q4_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    exact = native_linear.NativeLinear.forward

    def off_by_a_little(self: native_linear.NativeLinear, *args: Any) -> Any:
        return exact(self, *args) + 0.01

    monkeypatch.setattr(native_linear.NativeLinear, "forward", off_by_a_little)
    async with loaded(tiny_q4_dir, scheduler=SchedulerConfig(max_running=4)) as backend:
        assert backend.runner is not None and backend.runner.decoder is not None
        assert backend.runner.decoder.linear_kinds() == "8 x fp32; head fp32"
        assert "the lean decoder with auto weights" in caplog.text
        await assert_batched_equals_alone(backend)


@pytest.mark.asyncio
async def test_int4_needs_a_float32_cpu_model(tiny_dir: Path) -> None:
    with pytest.raises(FailedPrecondition, match="int4 runs on CPU with a float32 model"):
        async with loaded(tiny_dir, dtype="bfloat16", quantization="int4"):
            pass
    with pytest.raises(InvalidArgument):
        TransformersBackend(str(tiny_dir), name="tiny", quantization="int3")


@pytest.mark.asyncio
async def test_lean_decoder_matches_transformers_generate(tiny_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    async with loaded(tiny_dir) as backend:
        assert backend.runner is not None and backend.runner.decoder is not None
        ps = prompts(backend)
        ours = [tokens(await collect(backend, request(f"r{i}", p, 20))) for i, p in enumerate(ps)]
    model = AutoModelForCausalLM.from_pretrained(str(tiny_dir))
    model.eval()  # type: ignore[no-untyped-call]
    with torch.inference_mode():
        for p, mine in zip(ps, ours, strict=True):
            out = model.generate(torch.tensor([p]), max_new_tokens=20, do_sample=False)
            reference = [t for t in out[0, len(p) :].tolist() if t != 2]
            assert mine == reference[: len(mine)] and len(mine) >= 1


@pytest.mark.asyncio
async def test_models_the_lean_decoder_does_not_cover_run_on_transformers(tmp_path: Path) -> None:
    """A Qwen3 (q/k norms: not covered) loads on the transformers path, batch-invariant as well."""
    qwen3 = build_tiny_model(tmp_path / "qwen3", model_type="qwen3")
    async with loaded(qwen3, "qwen3", scheduler=SchedulerConfig(max_running=4)) as backend:
        assert backend.runner is not None and backend.runner.decoder is None
        await assert_batched_equals_alone(backend)
        expected = [
            tokens(await collect(backend, request(f"e{i}", p, 12))) for i, p in enumerate(prompts(backend))
        ]
    # The prefix cache works on this path too: restored prefixes give the same tokens.
    async with loaded(qwen3, "qwen3", prefix_cache_mb=4) as cached:
        for _ in range(2):
            got = [
                tokens(await collect(cached, request(f"c{i}", p, 12))) for i, p in enumerate(prompts(cached))
            ]
            assert got == expected
        assert cached.prefix_cache is not None and cached.prefix_cache.hit_tokens > 0
    # int4 is a lean-decoder feature: asking for it on such a model says why it cannot be had.
    with pytest.raises(FailedPrecondition, match="int4 needs the lean decoder: model type 'qwen3'"):
        async with loaded(qwen3, "qwen3", quantization="int4"):
            pass


@pytest.mark.asyncio
async def test_models_loaded_at_the_same_time_all_work(tiny_dir: Path, tmp_path: Path) -> None:
    # from_pretrained patches process-wide state while it runs; parallel loads once left it broken for
    # good: every later load of a model with tied embeddings failed ("Cannot copy out of meta tensor").
    tied_dir = build_tiny_model(tmp_path / "tied", tied=True)
    for _ in range(3):
        backends = [TransformersBackend(str(tiny_dir), name=f"t{i}") for i in range(3)]
        await asyncio.wait_for(asyncio.gather(*(b.load() for b in backends)), TIMEOUT_S)
        try:
            outputs = [tokens(await collect(b, request("r", prompts(b)[1], 8))) for b in backends]
            assert outputs[0] == outputs[1] == outputs[2] and len(outputs[0]) == 8
        finally:
            await asyncio.gather(*(b.close() for b in backends))
    async with loaded(tied_dir, "tied") as tied:
        assert len(tokens(await collect(tied, request("r", prompts(tied)[1], 4)))) == 4


@pytest.mark.asyncio
async def test_prefix_cache_skips_a_shared_head_and_changes_no_answer(tiny_dir: Path) -> None:
    async with (
        loaded(tiny_dir, scheduler=SchedulerConfig(max_running=4), prefix_cache_mb=8) as cached,
        loaded(tiny_dir, scheduler=SchedulerConfig(max_running=4)) as plain,
    ):
        head = "You are a careful assistant. Answer briefly and truthfully, in plain words. "
        questions = ["What is the capital of France?", "Name a colour.", "What is 2+2?"]
        ps = [cached.tokenizer.encode(head + q) for q in questions]
        cache = cached.prefix_cache
        assert cache is not None and plain.prefix_cache is None

        def req(rid: str, p: list[int]) -> BackendRequest:
            return dataclasses.replace(request(rid, p, 16), want_logprobs=True)

        expected = [await collect(plain, req(f"p{i}", p)) for i, p in enumerate(ps)]
        got = [await collect(cached, req(f"c{i}", p)) for i, p in enumerate(ps)]
        assert [tokens(c) for c in got] == [tokens(c) for c in expected]
        for mine, theirs in zip(got, expected, strict=True):
            flat = [lp for c in theirs for lp in c.logprobs]
            assert [lp for c in mine for lp in c.logprobs] == pytest.approx(flat, abs=1e-4)
        # The first request filled the cache; the others restored the shared head's whole blocks.
        shared = len(cached.tokenizer.encode(head)) // 8 * 8
        assert cache.lookups == 3 and cache.hit_tokens >= 2 * (shared - 8) > 0


@pytest.mark.asyncio
async def test_prefix_cache_shares_only_the_server_head_between_users(tiny_dir: Path) -> None:
    async with loaded(tiny_dir, prefix_cache_mb=8) as backend:
        cache = backend.prefix_cache
        assert cache is not None
        head = backend.tokenizer.encode(
            "System: you are a careful assistant; answer briefly, in plain words. "
        )
        secret = backend.tokenizer.encode("My account number is 4417 1234 5678 9113 and my pin is 1234. ")
        prompt = head + secret + backend.tokenizer.encode("What is my pin?")
        shared = len(head) // 8 * 8  # the head the server wrote, in whole blocks
        assert shared >= 8

        def asked_by(user: str) -> BackendRequest:
            return dataclasses.replace(request(user, prompt, 4), cache_salt=user, shared_prefix_tokens=shared)

        await collect(backend, asked_by("alice"))
        before = cache.hit_tokens
        await collect(backend, asked_by("mallory"))
        assert cache.hit_tokens - before == shared  # the server's head only, nothing of alice's text
        before = cache.hit_tokens
        await collect(backend, asked_by("alice"))
        assert cache.hit_tokens - before > len(head + secret) - 8  # her own prompt, from her own blocks


@pytest.mark.asyncio
async def test_a_cached_prefix_longer_than_a_prefill_chunk_is_restored_whole(tiny_dir: Path) -> None:
    chunked = SchedulerConfig(max_step_tokens=8, chunk_tokens=8)
    async with loaded(tiny_dir, prefix_cache_mb=8, scheduler=chunked) as backend:
        prompt = backend.tokenizer.encode("A long shared head of a prompt, well past one chunk. " * 4)
        assert len(prompt) > 24
        first = tokens(await collect(backend, request("first", prompt, 6)))
        # The restored head covers several chunks: those have nothing left to run, the last does.
        again = tokens(await collect(backend, request("again", prompt, 6)))
        assert again == first and len(again) == 6


def test_prefix_cache_keeps_to_its_budget_and_leaves_a_token_to_prefill() -> None:
    import torch

    from autoglm_core.runtime.runners.prefix_cache import BLOCK, PrefixCache
    from autoglm_core.runtime.runners.ragged import SequenceKV

    def filled(prompt: list[int]) -> SequenceKV:
        kv = SequenceKV()
        for layer in range(2):
            kv.append(layer, torch.randn(1, len(prompt), 4), torch.randn(1, len(prompt), 4))
        return kv

    block_bytes = 2 * 2 * BLOCK * 4 * 4  # layers x (keys, values) x tokens x dim x float32
    cache = PrefixCache(budget_bytes=3 * block_bytes)
    first = list(range(2 * BLOCK))
    cache.store(first, filled(first))
    assert cache.nbytes == 2 * block_bytes
    # A prompt that is exactly the cached blocks keeps its last block to prefill (logits come from it).
    assert cache.restore(first, SequenceKV()) == BLOCK
    longer = [*first, *range(100, 100 + 2 * BLOCK)]
    assert cache.restore(longer, kv := SequenceKV()) == 2 * BLOCK and kv.length == 2 * BLOCK
    cache.store(longer, filled(longer))  # four blocks in all: over budget, the deepest goes first
    assert cache.nbytes == 3 * block_bytes
    assert cache.restore([*longer, 7], SequenceKV()) == 3 * BLOCK
    assert cache.restore(list(range(50, 50 + 3 * BLOCK)), SequenceKV()) == 0
    PrefixCache(budget_bytes=0).store(first, filled(first))  # off: stores nothing, fails nothing


def test_prefix_cache_stored_chunk_by_chunk_restores_the_exact_keys_and_values() -> None:
    import torch

    from autoglm_core.runtime.runners.prefix_cache import BLOCK, PrefixCache
    from autoglm_core.runtime.runners.ragged import SequenceKV

    prompt = list(range(5 * BLOCK + 3))
    keys = [torch.randn(2, len(prompt), 4) for _ in range(3)]
    values = [torch.randn(2, len(prompt), 4) for _ in range(3)]
    kv, cache = SequenceKV(), PrefixCache(budget_bytes=1 << 20)
    for start in range(0, len(prompt), 11):  # the runner stores after every chunk of the prompt
        end = min(start + 11, len(prompt))
        for layer in range(3):
            kv.append(layer, keys[layer][:, start:end], values[layer][:, start:end])
        cache.store(prompt, kv)
    restored = SequenceKV()
    assert cache.restore(prompt, restored) == 5 * BLOCK
    for layer in range(3):
        k, v = restored.view(layer)
        assert torch.equal(k[0], keys[layer][:, : 5 * BLOCK]) and torch.equal(
            v[0], values[layer][:, : 5 * BLOCK]
        )


@pytest.mark.asyncio
async def test_requests_joining_a_running_batch_match_alone(tiny: TransformersBackend) -> None:
    ps = prompts(tiny)
    alone = [tokens(await collect(tiny, request(f"a{i}", p, 40))) for i, p in enumerate(ps)]

    async def late(i: int) -> list[TokenChunk]:
        await asyncio.sleep(0.01 * i)  # join at different decode steps
        return await collect(tiny, request(f"c{i}", ps[i], 40))

    staggered = await asyncio.gather(*(late(i) for i in range(len(ps))))
    assert [tokens(c) for c in staggered] == alone


@pytest.mark.asyncio
async def test_more_requests_than_slots_all_complete(tiny: TransformersBackend) -> None:
    ps = prompts(tiny) * 3  # 12 requests, 4 slots
    results = await asyncio.gather(*(collect(tiny, request(f"q{i}", p, 8)) for i, p in enumerate(ps)))
    assert [len(tokens(r)) for r in results] == [8] * 12
    assert tokens(results[0]) == tokens(results[4]) == tokens(results[8])


@pytest.mark.asyncio
async def test_cancelled_request_frees_its_slot(tiny_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_dir), name="tiny", scheduler=SchedulerConfig(max_running=2))
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    loop, runner = backend.step_loop, backend.runner
    assert loop is not None and runner is not None
    try:
        prompt = prompts(backend)[1]
        doomed = backend.generate(request("doomed", prompt, 1500))
        survivor = asyncio.create_task(collect(backend, request("survivor", prompt, 60)))
        for _ in range(3):
            await asyncio.wait_for(anext(doomed), TIMEOUT_S)
        running = loop.scheduler.running
        assert [s.request.request_id for s in running] in (["doomed", "survivor"], ["doomed"])
        doomed_seq = running[0]
        assert runner.cached_tokens(doomed_seq) > 0
        await doomed.aclose()
        # Both slots were taken; a third request only runs once the cancelled one is gone.
        third = await collect(backend, request("third", prompt, 5))
        assert len(tokens(third)) == 5
        assert "doomed" not in [s.request.request_id for s in loop.scheduler.running]
        assert runner.cached_tokens(doomed_seq) == 0  # its cache was freed
        assert loop.scheduler.kv_cache.held(doomed_seq.key) == 0
        assert len(tokens(await asyncio.wait_for(survivor, TIMEOUT_S))) == 60
    finally:
        await backend.close()


@pytest.mark.asyncio
async def test_urgent_request_pauses_a_bulk_one_which_resumes_unchanged(tiny_dir: Path) -> None:
    async with loaded(tiny_dir, scheduler=SchedulerConfig(max_running=1)) as backend:
        loop = backend.step_loop
        assert loop is not None
        bulk_prompt, urgent_prompt = prompts(backend)[2], prompts(backend)[1]
        expected = tokens(await collect(backend, request("alone", bulk_prompt, 300)))
        finished: list[str] = []

        async def run(req: BackendRequest) -> list[TokenChunk]:
            chunks = await collect(backend, req)
            finished.append(req.request_id)
            return chunks

        bulk = asyncio.create_task(run(dataclasses.replace(request("bulk", bulk_prompt, 300), priority=9)))
        while not loop.scheduler.running:
            await asyncio.sleep(0.001)
        urgent = await run(dataclasses.replace(request("urgent", urgent_prompt, 5), priority=0))
        # The batch holds one: the urgent request ran by pausing the bulk one, and finished first.
        assert len(tokens(urgent)) == 5 and finished == ["urgent"]
        # The paused request kept its cache and resumed where it stopped: the same tokens as alone.
        assert tokens(await asyncio.wait_for(bulk, TIMEOUT_S)) == expected
        # Equal priorities never pause each other: arrival order holds.
        first = asyncio.create_task(run(request("first", bulk_prompt, 60)))
        while not any(s.request.request_id == "first" for s in loop.scheduler.running):
            await asyncio.sleep(0.001)
        await run(request("second", urgent_prompt, 5))
        await first
        assert finished[-2:] == ["first", "second"]


@pytest.mark.asyncio
async def test_a_step_stopped_between_layers_is_undone_exactly(tiny: TransformersBackend) -> None:
    import torch

    from autoglm_core.runtime.runners.llama_decoder import StepInterrupted
    from autoglm_core.runtime.runners.ragged import SequenceKV

    runner = tiny.runner
    assert runner is not None and runner.decoder is not None
    decoder = runner.decoder
    rows, twins = [SequenceKV() for _ in range(2)], [SequenceKV() for _ in range(2)]
    with torch.inference_mode():
        for row, twin, p in zip(rows, twins, prompts(tiny)[2:], strict=True):
            decoder.forward([row], [p])
            decoder.forward([twin], [p])
        lengths = [row.length for row in rows]
        with pytest.raises(StepInterrupted):
            decoder.forward(rows, [[5], [6]], interrupt=lambda: True)
        assert [row.lengths[0] for row in rows] == [n + 1 for n in lengths]  # layer 0 ran
        for row, n in zip(rows, lengths, strict=True):
            row.truncate(n)
        redone = decoder.forward(rows, [[5], [6]])
        straight = decoder.forward(twins, [[5], [6]])
    assert torch.equal(redone, straight)
    assert [row.lengths for row in rows] == [twin.lengths for twin in twins]


@pytest.mark.asyncio
@pytest.mark.parametrize("quantization", ["none", "int4"])
async def test_prompts_prefilled_together_get_the_bits_they_get_alone(
    tiny_dir: Path, quantization: str
) -> None:
    import torch

    from autoglm_core.runtime.runners.ragged import SequenceKV

    async with loaded(tiny_dir, quantization=quantization) as backend:
        assert backend.runner is not None and backend.runner.decoder is not None
        decoder = backend.runner.decoder
        ps = prompts(backend)
        assert len({len(p) for p in ps}) > 1  # really of different lengths
        with torch.inference_mode():
            alone_rows, rows = [SequenceKV() for _ in ps], [SequenceKV() for _ in ps]
            # Rows that start from different cache lengths, as after a prefix-cache restore.
            for row, twin, p, head in zip(rows, alone_rows, ps, (1, 2, 3, 1), strict=True):
                decoder.forward([row], [p[:head]])
                decoder.forward([twin], [p[:head]])
            alone = torch.cat(
                [decoder.forward([r], [p[h:]]) for r, p, h in zip(alone_rows, ps, (1, 2, 3, 1), strict=True)]
            )
            together = decoder.forward(rows, [p[h:] for p, h in zip(ps, (1, 2, 3, 1), strict=True)])
        assert torch.equal(together, alone)
        for row, twin in zip(rows, alone_rows, strict=True):
            assert row.lengths == twin.lengths
            for layer in range(len(row.lengths)):
                assert all(torch.equal(a, b) for a, b in zip(row.view(layer), twin.view(layer), strict=True))


@pytest.mark.asyncio
async def test_requests_arriving_together_are_prefilled_in_one_pass(tiny_dir: Path) -> None:
    async with loaded(tiny_dir, scheduler=SchedulerConfig(max_running=8)) as backend:
        loop, runner = backend.step_loop, backend.runner
        assert loop is not None and runner is not None and runner.decoder is not None
        ps = prompts(backend)
        alone = [tokens(await collect(backend, request(f"a{i}", p, 8))) for i, p in enumerate(ps)]
        # Hold the decode thread in its first pass until every request has been submitted.
        entered, release, passes = threading.Event(), threading.Event(), []
        forward = runner.decoder.forward

        def held(rows: Any, tokens_: Any, interrupt: Any = None, adapters: Any = None) -> Any:
            entered.set()
            release.wait(TIMEOUT_S)
            passes.append([len(t) for t in tokens_])
            return forward(rows, tokens_, interrupt, adapters)

        runner.decoder.forward = held  # type: ignore[method-assign,assignment]
        # A first request occupies the decode thread; the others queue up meanwhile.
        blocker = asyncio.create_task(collect(backend, request("blocker", ps[0], 8)))
        assert await asyncio.to_thread(entered.wait, TIMEOUT_S)
        tasks = [asyncio.create_task(collect(backend, request(f"b{i}", p, 8))) for i, p in enumerate(ps)]
        while loop.inbox.qsize() < len(ps):
            await asyncio.sleep(0.01)
        release.set()
        together = [tokens(c) for c in await asyncio.gather(*tasks)]
        assert tokens(await blocker) == alone[0] and together == alone
        prefills = [p for p in passes if max(p) > 1]
        assert prefills[0] == [len(ps[0])]  # the blocker
        assert sorted(prefills[1]) == sorted(len(p) for p in ps)  # the other four in one pass


@pytest.mark.asyncio
async def test_request_cancelled_while_queued_never_runs(tiny_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_dir), name="tiny", scheduler=SchedulerConfig(max_running=1))
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    try:
        prompt = prompts(backend)[0]
        running = backend.generate(request("running", prompt, 1500))
        await asyncio.wait_for(anext(running), TIMEOUT_S)
        queued = asyncio.create_task(collect(backend, request("queued", prompt, 5)))
        await asyncio.sleep(0.05)
        queued.cancel()  # still waiting for the only slot
        with pytest.raises(asyncio.CancelledError):
            await queued
        await running.aclose()
        after = await collect(backend, request("after", prompt, 3))
        assert len(tokens(after)) == 3
    finally:
        await backend.close()


@pytest.mark.asyncio
async def test_cancelling_the_consumer_task_stops_generation(tiny: TransformersBackend) -> None:
    loop = tiny.step_loop
    assert loop is not None
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in tiny.generate(request("task", prompts(tiny)[0], 1500)):
            started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), TIMEOUT_S)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 10
    running = loop.scheduler.running
    while any(s.request.request_id == "task" for s in running) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not any(s.request.request_id == "task" for s in loop.scheduler.running)


@pytest.mark.asyncio
async def test_seed_reproduces_a_sample(tiny: TransformersBackend) -> None:
    prompt = prompts(tiny)[2]
    sampling = {"temperature": 1.0, "top_p": 0.95, "top_k": 100}
    first = tokens(await collect(tiny, request("s1", prompt, 24, seed=1234, **sampling)))
    again = await asyncio.gather(
        collect(tiny, request("s2", prompt, 24, seed=1234, **sampling)),
        collect(tiny, request("noise", prompts(tiny)[0], 24, seed=7, **sampling)),
    )
    other = tokens(await collect(tiny, request("s3", prompt, 24, seed=99, **sampling)))
    assert tokens(again[0]) == first
    assert other != first


def test_repetition_penalty_follows_transformers() -> None:
    import torch
    from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

    from autoglm_core.runtime.sampler import _apply_repetition_penalty

    logits = torch.tensor([2.0, -1.0, 0.5, 3.0, -4.0])
    seen = torch.tensor([0, 1, 1, 4])
    expected = RepetitionPenaltyLogitsProcessor(1.3)(seen[None], logits[None].clone())[0]
    assert torch.allclose(_apply_repetition_penalty(logits, seen, 1.3), expected)


@pytest.mark.asyncio
async def test_repetition_penalty_runs_deterministically(tiny: TransformersBackend) -> None:
    prompt = prompts(tiny)[3]
    first = tokens(await collect(tiny, request("p0", prompt, 16, repetition_penalty=1.5)))
    again = tokens(await collect(tiny, request("p1", prompt, 16, repetition_penalty=1.5)))
    assert first == again and len(first) == 16


async def pretend_eos_midway(tiny: TransformersBackend, prompt: list[int]) -> tuple[list[int], int]:
    """The prompt's 12 free tokens, and a position from which the model's EOS is made the token it
    emits there (a token not seen before it)."""
    free = tokens(await collect(tiny, request("free", prompt, 12)))
    stop_at = next(i for i, t in enumerate(free) if t not in free[:i] and i >= 2)
    tiny._info = dataclasses.replace(tiny.info, eos_token_ids=(free[stop_at],))
    return free, stop_at


@pytest.mark.asyncio
async def test_eos_stops_generation(tiny: TransformersBackend) -> None:
    prompt = prompts(tiny)[1]
    free, stop_at = await pretend_eos_midway(tiny, prompt)
    chunks = await collect(tiny, request("eos", prompt, 12))
    assert tokens(chunks) == free[:stop_at]
    assert chunks[-1].eos and chunks[-1].token_ids == []
    assert not any(c.eos for c in chunks[:-1])


@pytest.mark.asyncio
async def test_min_new_tokens_holds_eos_back(tiny: TransformersBackend) -> None:
    prompt = prompts(tiny)[1]
    free, stop_at = await pretend_eos_midway(tiny, prompt)
    chunks = await collect(tiny, request("held", prompt, 12, min_new_tokens=stop_at + 3))
    held = tokens(chunks)
    # Up to where EOS came, the same tokens; there the next-best token instead, and on to the end.
    assert held[:stop_at] == free[:stop_at] and len(held) == 12 and not any(c.eos for c in chunks)
    assert free[stop_at] not in held[stop_at : stop_at + 3]


@pytest.mark.asyncio
async def test_max_new_tokens_stops_without_eos(tiny: TransformersBackend) -> None:
    chunks = await collect(tiny, request("n", prompts(tiny)[0], 5))
    assert len(chunks) == 5 and all(len(c.token_ids) == 1 for c in chunks)
    assert not any(c.eos for c in chunks)


@pytest.mark.asyncio
async def test_logprobs_when_asked(tiny: TransformersBackend) -> None:
    req = dataclasses.replace(request("lp", prompts(tiny)[0], 6), want_logprobs=True)
    chunks = await collect(tiny, req)
    assert all(len(c.logprobs) == 1 and c.logprobs[0] <= 0.0 for c in chunks)
    plain = await collect(tiny, request("nolp", prompts(tiny)[0], 6))
    assert all(c.logprobs == [] or len(c.logprobs) == 0 for c in plain)


@pytest.mark.asyncio
async def test_invalid_requests_are_rejected(tiny: TransformersBackend) -> None:
    with pytest.raises(InvalidArgument):
        await collect(tiny, request("empty", [], 4))
    with pytest.raises(InvalidArgument):
        await collect(tiny, request("long", [42] * 2048, 4))


@pytest.mark.asyncio
async def test_generation_is_capped_by_the_context_length(tiny: TransformersBackend) -> None:
    chunks = await collect(tiny, request("cap", [42] * 2040, 100))
    assert len(tokens(chunks)) == 8


@pytest.mark.asyncio
async def test_generate_before_load_is_refused(tiny_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_dir), name="tiny")
    assert not await backend.health()
    with pytest.raises(Exception, match="not loaded"):
        await collect(backend, request("x", [1, 2, 3], 2))


@pytest.mark.asyncio
async def test_close_fails_waiting_requests_and_unhealthy(tiny_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_dir), name="tiny")
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    stream = backend.generate(request("long", [1, 2, 3], 1500))
    await asyncio.wait_for(anext(stream), TIMEOUT_S)
    await asyncio.wait_for(backend.close(), TIMEOUT_S)
    assert not await backend.health()
    with pytest.raises(Exception):  # noqa: B017 - NotReady, or StopAsyncIteration if it had just finished

        async def drain() -> None:
            async for _ in stream:
                pass
            raise StopAsyncIteration

        await asyncio.wait_for(drain(), TIMEOUT_S)


@pytest.mark.asyncio
async def test_missing_path_is_not_found(tmp_path: Path) -> None:
    backend = TransformersBackend(str(tmp_path / "nope"), name="x")
    with pytest.raises(NotFound):
        await backend.load()


@pytest.mark.asyncio
async def test_corrupt_gguf_fails_quickly(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    started = time.monotonic()
    with pytest.raises(FailedPrecondition, match=r"broken\.gguf"):
        await asyncio.wait_for(TransformersBackend(str(bad), name="x").load(), 60)
    assert time.monotonic() - started < 60


@pytest.mark.asyncio
async def test_directory_with_one_corrupt_gguf_fails(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"not a gguf file at all")
    with pytest.raises(FailedPrecondition, match=r"cannot load model"):
        await asyncio.wait_for(TransformersBackend(str(tmp_path), name="x").load(), 60)


@pytest.mark.asyncio
async def test_corrupt_safetensors_fails_quickly(tiny_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    (broken / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(FailedPrecondition, match="cannot load model"):
        await asyncio.wait_for(TransformersBackend(str(broken), name="x").load(), 60)


@pytest.mark.asyncio
async def test_directory_without_config_fails(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match=r"config\.json"):
        await TransformersBackend(str(tmp_path), name="x").load()


# ---------------------------------------------------------------------------- the real default model


@pytest.fixture(scope="module")
def default_dir() -> Iterator[Path]:
    yield ensure_default_model(progress=False)


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_knows_the_capital_of_france(default_dir: Path) -> None:
    backend = TransformersBackend(str(default_dir), name="openautoglm-base-v1")
    await asyncio.wait_for(backend.load(), 300)
    try:
        tok = backend.tokenizer
        prompt = tok.render_chat(
            [{"role": "user", "content": "What is the capital of France?"}], enable_thinking=False
        )
        chunks = await collect(backend, request("paris", tok.encode(prompt), 32))
        assert "Paris" in tok.decode(tokens(chunks))
        assert chunks[-1].eos
    finally:
        await backend.close()


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_batched_equals_alone(default_dir: Path) -> None:
    backend = TransformersBackend(
        str(default_dir), name="openautoglm-base-v1", scheduler=SchedulerConfig(max_running=4)
    )
    await asyncio.wait_for(backend.load(), 300)
    try:
        tok = backend.tokenizer
        questions = ["Name a colour.", "What is 2+2?", "Say hello.", "Who wrote Hamlet?"]
        ps = [
            tok.encode(tok.render_chat([{"role": "user", "content": q}], enable_thinking=False))
            for q in questions
        ]

        def req(rid: str, p: list[int]) -> BackendRequest:
            return dataclasses.replace(request(rid, p, 16), want_logprobs=True)

        alone = [await collect(backend, req(f"a{i}", p)) for i, p in enumerate(ps)]
        together = await asyncio.gather(*(collect(backend, req(f"b{i}", p)) for i, p in enumerate(ps)))
        assert [[(c.token_ids, c.logprobs) for c in r] for r in together] == [
            [(c.token_ids, c.logprobs) for c in r] for r in alone
        ]
    finally:
        await backend.close()


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_computes_with_the_files_own_blocks(default_dir: Path) -> None:
    """quantization auto (the default): the Q4_1 layers and Q8_0 head as the file holds them, in fp32."""
    backend = TransformersBackend(str(default_dir), name="openautoglm-base-v1")
    await asyncio.wait_for(backend.load(), 300)
    try:
        assert backend.runner is not None and backend.runner.decoder is not None
        decoder = backend.runner.decoder
        assert decoder.linear_kinds() == "120 x 4-bit native; head 8-bit native"
        assert decoder.int4_grid_error == 0.0 and decoder.int4_error == 0.0
        await assert_knows_paris_and_batches(backend)
    finally:
        await backend.close()


async def assert_knows_paris_and_batches(backend: TransformersBackend) -> None:
    tok = backend.tokenizer
    prompt = tok.render_chat(
        [{"role": "user", "content": "What is the capital of France?"}], enable_thinking=False
    )
    assert "Paris" in tok.decode(tokens(await collect(backend, request("paris", tok.encode(prompt), 32))))
    await assert_batched_equals_alone(backend, 16)


@pytest.fixture
def without_native_linear(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AUTOGLM_DISABLE_NATIVE_LINEAR", "1")
    native_linear._library.cache_clear()
    yield
    native_linear._library.cache_clear()


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_in_int4_through_torchs_kernel_keeps_the_files_codes_and_answers(
    default_dir: Path, without_native_linear: None
) -> None:
    backend = TransformersBackend(str(default_dir), name="openautoglm-base-v1", quantization="int4")
    await asyncio.wait_for(backend.load(), 300)
    try:
        assert backend.runner is not None and backend.runner.decoder is not None
        decoder = backend.runner.decoder
        assert decoder.linear_kinds() == "120 x int4 torch (bf16); head fp32"
        assert decoder.int4_grid_error == 0.0  # the Q4_1 file's own 4-bit codes
        # ... restored through the kernel's bf16 arithmetic: within bf16 rounding. The largest weights
        # here lie in [8, 16), where half a bf16 step is 2**-5.
        assert 0.0 < decoder.int4_error <= 2**-5
        await assert_knows_paris_and_batches(backend)
    finally:
        await backend.close()


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_matches_transformers_generate(default_dir: Path) -> None:
    """Our decode loop against transformers' own greedy `generate` (the reference implementation)."""
    import torch
    from transformers import AutoModelForCausalLM

    backend = TransformersBackend(str(default_dir), name="openautoglm-base-v1")
    await asyncio.wait_for(backend.load(), 300)
    try:
        tok = backend.tokenizer
        prompt = tok.encode(
            tok.render_chat([{"role": "user", "content": "Name three colours."}], enable_thinking=False)
        )
        ours = tokens(await collect(backend, request("ref", prompt, 24)))
    finally:
        await backend.close()
    model = AutoModelForCausalLM.from_pretrained(str(default_dir))
    model.eval()  # type: ignore[no-untyped-call]
    with torch.inference_mode():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=24, do_sample=False)
    reference = [t for t in out[0, len(prompt) :].tolist() if t not in (2,)]
    assert ours == reference[: len(ours)] and len(ours) >= min(len(reference), 1)


@pytest.mark.model
@pytest.mark.asyncio
async def test_default_model_embeds_from_its_8_bit_head_and_frees_the_fp32_table(default_dir: Path) -> None:
    """The file's tied Q8_0 head restores every embedding row bit for bit, so the 4-byte table goes."""
    import torch
    from torch import nn
    from transformers import AutoModelForCausalLM

    async with loaded(default_dir, name="openautoglm-base-v1") as backend:
        runner = backend.runner
        assert runner is not None and runner.decoder is not None
        decoder = runner.decoder
        assert decoder.embed == decoder.head.restore_rows
        assert isinstance(runner.model.model.embed_tokens, nn.Identity)  # no fp32 table kept
        table = AutoModelForCausalLM.from_pretrained(str(default_dir)).model.embed_tokens.weight
        with torch.no_grad():
            assert torch.equal(decoder.embed(torch.arange(table.shape[0])), table)
            ids = torch.tensor([[5, 7], [7, 5]])
            assert torch.equal(decoder.embed(ids), table[ids])  # any shape of ids


# ---------------------------------------------------------------------------- chat templates


THINKING_TEMPLATE = (
    "{% if tools %}<tools>{% for t in tools %}{{ t.function.name }};{% endfor %}</tools>{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
)


@pytest.mark.asyncio
async def test_thinking_template_gets_enable_thinking_and_tools(tiny_dir: Path, tmp_path: Path) -> None:
    qwenish = tmp_path / "qwenish"
    shutil.copytree(tiny_dir, qwenish)
    (qwenish / "chat_template.jinja").write_text(THINKING_TEMPLATE)
    backend = TransformersBackend(str(qwenish), name="qwenish")
    await asyncio.wait_for(backend.load(), TIMEOUT_S)
    try:
        assert backend.info.supports_thinking
        messages = [{"role": "user", "content": "hi"}]
        on = backend.tokenizer.render_chat(messages, enable_thinking=True)
        off = backend.tokenizer.render_chat(messages, enable_thinking=False)
        assert on.endswith("<|im_start|>assistant\n")
        assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
        with_tools = backend.tokenizer.render_chat(messages, enable_thinking=True, tools=[tool])
        assert with_tools.startswith("<tools>get_weather;</tools>")
    finally:
        await backend.close()


def test_info_before_load_names_the_model(tiny_dir: Path) -> None:
    info = TransformersBackend(str(tiny_dir), name="tiny", version="2.0.0").info
    assert (info.name, info.version, info.backend, info.source) == (
        "tiny",
        "2.0.0",
        "transformers",
        str(tiny_dir),
    )


# ---------------------------------------------------------------------------- model sources


def test_resolve_model_source_paths(tiny_dir: Path, tmp_path: Path) -> None:
    from autoglm_core.models import is_default_alias, resolve_model_source

    assert resolve_model_source(str(tiny_dir)) == tiny_dir
    with pytest.raises(NotFound):
        resolve_model_source(str(tmp_path / "missing"))
    with pytest.raises(NotFound):
        resolve_model_source("some-org/some-model-not-here")
    assert is_default_alias("openautoglm-base-v1") and is_default_alias("SmolLM2")
    assert not is_default_alias("qwen3")


@pytest.mark.model
def test_ensure_default_model_converts_once_into_a_fresh_cache(tmp_path: Path) -> None:
    first = ensure_default_model(tmp_path, progress=False)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in first.iterdir()}
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp dirs left behind
    written = (first / "model.safetensors").stat().st_mtime_ns
    assert ensure_default_model(tmp_path, progress=False) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == written  # found, not converted again


@pytest.mark.model
def test_default_alias_resolves_to_the_converted_model(default_dir: Path) -> None:
    from autoglm_core.models import resolve_model_source

    assert resolve_model_source("openautoglm-base-v1") == default_dir
    assert resolve_model_source("smollm2") == default_dir


@pytest.mark.asyncio
async def test_load_timeout_fails_and_stays_unloaded(tiny_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_dir), name="tiny", load_timeout_s=0.001)
    with pytest.raises(FailedPrecondition, match="took longer"):
        await backend.load()
    await asyncio.sleep(3)  # the abandoned load finishes in the background...
    assert not await backend.health()  # ...without bringing the backend up
