"""The real default model (SmolLM2-135M-Instruct) end to end through a real gRPC server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from autoglm.v1 import common_pb2
from autoglm_client import AsyncAutoGLMClient
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings

pytestmark = pytest.mark.model


@pytest.fixture
async def real_server(tmp_path: Path) -> AsyncIterator[tuple[AutoGLMServer, AsyncAutoGLMClient]]:
    settings = ServerSettings(
        backend="transformers",
        port=0,
        data_dir=tmp_path,
        metrics_port=0,
        embedder="lexical",
        max_running=4,
        grace_period_s=1,
    )
    server = AutoGLMServer(settings)
    await server.start()
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=300)
    yield server, client
    await client.close()
    await server.stop(grace_s=0)


async def test_real_model_through_grpc(real_server: tuple[AutoGLMServer, AsyncAutoGLMClient]) -> None:
    server, client = real_server

    # A factual question, answered correctly with greedy decoding.
    reply = await client.generate("What is the capital of France?", max_new_tokens=24, temperature=0)
    assert "Paris" in reply.text
    assert reply.model.name == "smollm2-135m-instruct"
    assert reply.usage.prompt_tokens > 5 and 0 < reply.usage.completion_tokens <= 24

    # A Chinese prompt streams valid text: no replacement characters in any delta.
    deltas = [
        e.content_delta.text
        async for e in client.stream("用中文介绍一下北京。", max_new_tokens=32, temperature=0)
        if e.HasField("content_delta")
    ]
    assert len(deltas) > 3 and all("\ufffd" not in d for d in deltas)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(deltas))

    # A stop sequence stops generation and is not in the output.
    stopped = await client.generate(
        "What is the capital of France?", max_new_tokens=24, temperature=0, stop=["Paris"]
    )
    assert stopped.finish_reason == common_pb2.FINISH_REASON_STOP_SEQUENCE
    assert stopped.stop_sequence == "Paris" and "Paris" not in stopped.text
    assert reply.text.startswith(stopped.text)

    # A seed reproduces a sampled answer.
    sampled = [
        await client.generate("Write a word.", max_new_tokens=12, temperature=1.0, seed=1234)
        for _ in range(2)
    ]
    assert sampled[0].text == sampled[1].text and sampled[0].seed == 1234

    # A cancelled stream frees its slot: the backend has no active request afterwards.
    call = client.stream("Tell me a long story.", max_new_tokens=200, temperature=0)
    async for event in call:
        if event.HasField("content_delta"):
            break
    call.cancel()
    backend = server.container.registry().resolve("")
    for _ in range(200):
        if backend.current_batch_size == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.05)
    assert backend.current_batch_size == 0  # type: ignore[attr-defined]
    after = await client.generate("Say hi.", max_new_tokens=4, temperature=0)
    assert after.usage.completion_tokens > 0

    # The prompts share the chat template's head: the prefix cache saved part of their prefill.
    from prometheus_client import generate_latest

    scrape = generate_latest(server.ops.metrics.registry).decode()
    saved = [line for line in scrape.splitlines() if line.startswith("autoglm_prefix_cache_hit_tokens_total")]
    assert saved and float(saved[0].split()[-1]) > 0


async def test_unknown_model_path_is_not_found_at_load(
    real_server: tuple[AutoGLMServer, AsyncAutoGLMClient],
) -> None:
    from autoglm.v1 import model_pb2, model_pb2_grpc

    _, client = real_server
    stub = model_pb2_grpc.ModelServiceStub(client.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.LoadModel(model_pb2.LoadModelRequest(name="x", version="1.0.0", source="/no/such/model"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_seed_example_runs_in_process(tmp_path: Path) -> None:
    """DESIGN.md's example, as written, on the real default model."""
    from openautoglm import AutoGLM

    def get_weather(city: str) -> dict[str, object]:
        """Current weather of a city.

        Args:
            city: Name of the city.
        """
        return {"city": city, "temperature_c": 21}

    custom_tools = [get_weather]
    model = AutoGLM(
        model_path="openautoglm-base-v1",
        enable_thinking=True,
        tool_router=custom_tools,
        data_dir=tmp_path,
        embedder="lexical",
    )
    try:
        response = model.generate("北京的年平均气温是多少？", max_new_tokens=48)
        printed = str(response)
        assert response.text and response.text in printed
        assert response.finished.model_name == "smollm2-135m-instruct"
        # SmolLM2 has no thinking mode: no made-up reasoning, and the response says so.
        assert response.finished.thinking == "unsupported" and response.reasoning == ""
        assert "does not think natively" in printed
        assert response.text.startswith("北京")  # an answer in Chinese, not an instruction's example
    finally:
        model.close()
