"""LoRA adapters on the real default model: made with peft in the test, loaded over gRPC, served per
request in shared batches, drained on unload, evicted under pressure, and refused when wrong."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import torch

from autoglm.v1 import common_pb2
from autoglm_client import AsyncAutoGLMClient
from autoglm_client.errors import AutoGLMError
from autoglm_core.backends.transformers_backend import TransformersBackend
from autoglm_core.errors import FailedPrecondition
from autoglm_core.models.default_model import build_tiny_model, resolve_model_source
from autoglm_core.runtime.runners.ragged import SequenceKV
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.adapter_support import make_bottleneck, make_lora, peft_model, with_bottleneck

pytestmark = pytest.mark.model

PROMPT = "What is the capital of France?"
OTHER_PROMPT = "Name a large animal."
TOKENS = 12


@pytest.fixture(scope="module")
def adapter_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three adapters on the default model (a, b, c) and one made on a model of other shapes."""
    root = tmp_path_factory.mktemp("adapters")
    base = resolve_model_source("openautoglm-base-v1")
    dirs = {name: make_lora(base, root / name, seed=seed) for name, seed in (("a", 1), ("b", 2), ("c", 3))}
    tiny = build_tiny_model(root / "tiny-base")
    dirs["other-shapes"] = make_lora(tiny, root / "other-shapes", seed=4)
    return dirs


async def start_server(tmp_path: Path, **settings: object) -> tuple[AutoGLMServer, AsyncAutoGLMClient]:
    config = ServerSettings(
        backend="transformers",
        port=0,
        data_dir=tmp_path,
        metrics_port=0,
        embedder="lexical",
        grace_period_s=1,
        **settings,  # type: ignore[arg-type]
    )
    server = AutoGLMServer(config)
    await server.start()
    return server, AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=300)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[AutoGLMServer, AsyncAutoGLMClient]]:
    server, client = await start_server(tmp_path, max_running=8)
    yield server, client
    await client.close()
    await server.stop(grace_s=0)


async def greedy(client: AsyncAutoGLMClient, prompt: str = PROMPT, **options: object) -> str:
    reply = await client.generate(prompt, max_new_tokens=TOKENS, temperature=0, **options)
    return reply.text


async def test_adapter_matches_peft_and_rows_match_alone(adapter_dirs: dict[str, Path]) -> None:
    """The decoder's per-row deltas give peft's logits, and rows in one pass get what they get alone."""
    source = resolve_model_source("openautoglm-base-v1")
    reference = peft_model(source, seed=1)
    backend = TransformersBackend(str(source), name="m")
    await backend.load()
    try:
        assert backend.adapters is not None and backend.runner is not None
        await backend.adapters.load("a", str(adapter_dirs["a"]))
        await backend.adapters.load("b", str(adapter_dirs["b"]))
        a, b = backend.adapters.weights("a"), backend.adapters.weights("b")
        decoder = backend.runner.decoder
        assert decoder is not None
        ids = backend.tokenizer.encode(PROMPT)
        other = backend.tokenizer.encode(OTHER_PROMPT)
        with torch.inference_mode():
            theirs = reference(torch.tensor([ids])).logits[0, -1]
            with reference.disable_adapter():
                theirs_base = reference(torch.tensor([ids])).logits[0, -1]
            mine = decoder.forward([SequenceKV()], [ids], adapters=[a])[0]
            mine_base = decoder.forward([SequenceKV()], [ids])[0]
            assert (mine - theirs).abs().max() < 1e-3
            assert (mine_base - theirs_base).abs().max() < 1e-3
            assert (theirs - theirs_base).abs().max() > 1.0  # the adapter matters

            # A ragged prefill of base, a, b rows, then one decode step, against each row alone.
            prompts, adapters = [ids, other, ids], [None, a, b]
            rows = [SequenceKV() for _ in prompts]
            together = decoder.forward(rows, prompts, adapters=adapters)
            step = decoder.forward(rows, [[7], [7], [7]], adapters=adapters)
            for i, (prompt, adapter) in enumerate(zip(prompts, adapters, strict=True)):
                row = SequenceKV()
                alone = decoder.forward([row], [prompt], adapters=[adapter])
                alone_step = decoder.forward([row], [[7]], adapters=[adapter])
                assert torch.allclose(together[i], alone[0], atol=1e-4), i
                assert torch.allclose(step[i], alone_step[0], atol=1e-4), i
                assert (
                    together[i].argmax() == alone[0].argmax() and step[i].argmax() == alone_step[0].argmax()
                )
            # The base row is computed exactly as without adapters in the batch.
            assert torch.equal(together[0], decoder.forward([SequenceKV()], [ids])[0])
    finally:
        await backend.close()


async def test_bottleneck_adapter_matches_reference_and_batches_with_lora(
    adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A bottleneck adapter gives the hooked HF model's logits, and shares a pass with LoRA and base rows."""
    from transformers import AutoModelForCausalLM

    source = resolve_model_source("openautoglm-base-v1")
    hf = AutoModelForCausalLM.from_pretrained(str(source), dtype=torch.float32).eval()
    config = hf.config
    bottleneck = make_bottleneck(tmp_path / "bn", layers=config.num_hidden_layers, hidden=config.hidden_size)
    wrong = make_bottleneck(tmp_path / "bn-wrong", layers=config.num_hidden_layers, hidden=64)
    reference = with_bottleneck(hf, bottleneck)
    backend = TransformersBackend(str(source), name="m")
    await backend.load()
    try:
        assert backend.adapters is not None and backend.runner is not None
        record = await backend.adapters.load("bn", str(bottleneck))
        assert (record.kind, record.rank) == ("bottleneck", 16)
        with pytest.raises(FailedPrecondition, match=r"layers.0.adapter.down.weight is \[16, 64\]"):
            await backend.adapters.load("wrong", str(wrong))
        await backend.adapters.load("a", str(adapter_dirs["a"]))
        bn, a = backend.adapters.weights("bn"), backend.adapters.weights("a")
        decoder = backend.runner.decoder
        assert decoder is not None
        ids = backend.tokenizer.encode(PROMPT)
        with torch.inference_mode():
            theirs = reference(torch.tensor([ids])).logits[0, -1]
            mine = decoder.forward([SequenceKV()], [ids], adapters=[bn])[0]
            base = decoder.forward([SequenceKV()], [ids])[0]
            assert (mine - theirs).abs().max() < 1e-3
            assert (mine - base).abs().max() > 0.1
            rows = [SequenceKV() for _ in range(3)]
            together = decoder.forward(rows, [ids, ids, ids], adapters=[bn, None, a])
            for i, adapter in enumerate([bn, None, a]):
                alone = decoder.forward([SequenceKV()], [ids], adapters=[adapter])[0]
                assert (
                    torch.allclose(together[i], alone, atol=1e-4) and together[i].argmax() == alone.argmax()
                )
    finally:
        await backend.close()


async def test_adapters_change_output_and_share_batches_with_base(
    served: tuple[AutoGLMServer, AsyncAutoGLMClient], adapter_dirs: dict[str, Path]
) -> None:
    _server, client = served
    base_before = await greedy(client)
    loaded = await client.load_adapter("", "a", str(adapter_dirs["a"]))
    assert (loaded.kind, loaded.rank, loaded.resident, loaded.version) == ("lora", 8, True, "1.0.0")
    assert set(loaded.target_modules) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    await client.load_adapter("", "b", str(adapter_dirs["b"]))

    alone = {
        ("base", PROMPT): base_before,
        ("a", PROMPT): await greedy(client, adapter="a"),
        ("b", PROMPT): await greedy(client, adapter="b"),
        ("a", OTHER_PROMPT): await greedy(client, OTHER_PROMPT, adapter="a"),
        ("base", OTHER_PROMPT): await greedy(client, OTHER_PROMPT),
    }
    assert len({alone[("base", PROMPT)], alone[("a", PROMPT)], alone[("b", PROMPT)]}) == 3

    # The `model:adapter` reference is the same as the adapter field.
    default = (await client.list_models()).default_model
    assert await greedy(client, model=f"{default}:a") == alone[("a", PROMPT)]
    assert await greedy(client, model=f"{default}@1.0.0:b") == alone[("b", PROMPT)]

    # All at once, so they share decode steps: each row gets exactly what it got alone.
    keys = list(alone)
    together = await asyncio.gather(
        *(greedy(client, prompt, adapter="" if name == "base" else name) for name, prompt in keys)
    )
    assert dict(zip(keys, together, strict=True)) == alone
    assert await greedy(client) == base_before

    listed = {a.name: a for a in await client.list_adapters()}
    assert set(listed) == {"a", "b"}
    assert listed["a"].requests >= 4 and listed["a"].generated_tokens > 0 and listed["a"].in_flight == 0


async def test_bad_adapters_are_refused(
    served: tuple[AutoGLMServer, AsyncAutoGLMClient], adapter_dirs: dict[str, Path], tmp_path: Path
) -> None:
    _server, client = served
    default = (await client.list_models()).default_model

    # An unknown adapter is NOT_FOUND with ResourceInfo: never the base model's answer.
    with pytest.raises(AutoGLMError) as unknown:
        await greedy(client, adapter="nope")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown.value.resource == ("adapter", f"{default}@1.0.0:nope")
    with pytest.raises(AutoGLMError) as unknown_ref:
        await greedy(client, model=f"{default}:nope")
    assert unknown_ref.value.code() == grpc.StatusCode.NOT_FOUND

    # A path that does not exist, a directory that is no adapter, a corrupt weights file.
    with pytest.raises(AutoGLMError) as missing:
        await client.load_adapter("", "x", str(tmp_path / "absent"))
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert missing.value.field_violations[0][0] == "source"
    with pytest.raises(AutoGLMError) as empty:
        await client.load_adapter("", "x", str(tmp_path))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "adapter_config.json" in empty.value.field_violations[0][1]
    corrupt = shutil.copytree(adapter_dirs["a"], tmp_path / "corrupt")
    (corrupt / "adapter_model.safetensors").write_bytes(b"\x00not a safetensors file" * 10)
    with pytest.raises(AutoGLMError) as broken:
        await client.load_adapter("", "x", str(corrupt))
    assert broken.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cannot be read" in broken.value.field_violations[0][1]

    # Shapes of another model: refused at load, the mismatch named.
    with pytest.raises(AutoGLMError) as shapes:
        await client.load_adapter("", "x", str(adapter_dirs["other-shapes"]))
    assert shapes.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "takes 64 inputs" in shapes.value.message and "takes 576" in shapes.value.message

    # Nothing of those was registered; a name is loaded once; unknown unloads are NOT_FOUND.
    assert await client.list_adapters() == []
    await client.load_adapter("", "a", str(adapter_dirs["a"]))
    with pytest.raises(AutoGLMError) as twice:
        await client.load_adapter("", "a", str(adapter_dirs["b"]))
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(AutoGLMError) as gone:
        await client.unload_adapter("", "nope")
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND

    # Traffic split: all of the model's calls to base+adapter; an unknown adapter target is refused.
    a_text = await greedy(client, adapter="a")
    await client.set_traffic_split(default, {"1.0.0": 0, "1.0.0:a": 100})
    assert await greedy(client) == a_text
    await client.set_traffic_split(default, {"1.0.0": 95, "1.0.0:a": 5})
    with pytest.raises(AutoGLMError) as split:
        await client.set_traffic_split(default, {"1.0.0": 95, "1.0.0:nope": 5})
    assert split.value.code() == grpc.StatusCode.NOT_FOUND


async def test_unload_drains_calls_in_flight(
    served: tuple[AutoGLMServer, AsyncAutoGLMClient], adapter_dirs: dict[str, Path]
) -> None:
    _server, client = served
    await client.load_adapter("", "a", str(adapter_dirs["a"]))
    expected = (await client.generate(PROMPT, max_new_tokens=32, temperature=0, adapter="a")).text

    stream = client.stream(PROMPT, max_new_tokens=32, temperature=0, adapter="a")
    events = aiter(stream)
    first = await anext(events)
    while not first.HasField("content_delta"):
        first = await anext(events)
    unload = asyncio.create_task(client.unload_adapter("", "a"))
    await asyncio.sleep(0.2)
    # Once the unload began, new calls with the adapter are NOT_FOUND (never the base model)...
    with pytest.raises(AutoGLMError) as refused:
        await greedy(client, adapter="a")
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    # ...while the call in flight runs to its end with the adapter.
    text = first.content_delta.text
    finish = None
    async for event in events:
        if event.HasField("content_delta"):
            text += event.content_delta.text
        if event.HasField("finished"):
            finish = event.finished.finish_reason
    assert text == expected
    assert finish in (common_pb2.FINISH_REASON_LENGTH, common_pb2.FINISH_REASON_EOS)
    assert await unload == 1
    assert await client.list_adapters() == []


async def test_idle_adapters_are_evicted_and_reloaded(adapter_dirs: dict[str, Path], tmp_path: Path) -> None:
    server, client = await start_server(tmp_path, max_running=8, max_resident_adapters=2)
    try:
        await client.load_adapter("", "a", str(adapter_dirs["a"]))
        a_text = await greedy(client, adapter="a")
        await client.load_adapter("", "b", str(adapter_dirs["b"]))
        await client.load_adapter("", "c", str(adapter_dirs["c"]))  # a is the least recently used
        state = {a.name: a for a in await client.list_adapters()}
        assert [state[n].resident for n in "abc"] == [False, True, True]
        assert state["a"].evictions == 1

        # Named again, a is read back from its directory (evicting b) and answers as before.
        assert await greedy(client, adapter="a") == a_text
        state = {a.name: a for a in await client.list_adapters()}
        assert (state["a"].loads, state["a"].resident, state["b"].resident) == (2, True, False)

        # Both resident adapters busy: a third cannot come in now (retryable), and is not the base model.
        streams = [client.stream(PROMPT, max_new_tokens=64, temperature=0, adapter=n) for n in "ac"]
        for stream in streams:
            async for event in stream:
                if event.HasField("content_delta"):
                    break
        with pytest.raises(AutoGLMError) as busy:
            await greedy(client, adapter="b")
        assert busy.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert busy.value.retry_delay_s is not None
        for stream in streams:
            stream.cancel()
    finally:
        await client.close()
        await server.stop(grace_s=0)
