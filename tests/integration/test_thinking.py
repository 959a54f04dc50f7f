"""Thinking mode through a real server: the reasoning budget and prompted chain-of-thought."""

from __future__ import annotations

from dependency_injector import providers

from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.conftest import RunningServer


async def test_thinking_budget_caps_reasoning_then_answers(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.reasoning_words = 200
    free = await mock_server.client.generate("why?", max_new_tokens=400, thinking=True)
    assert free.usage.reasoning_tokens > 300 and free.text == ""  # reasoning alone used the tokens

    capped = await mock_server.client.generate("why?", max_new_tokens=400, thinking=True, thinking_budget=40)
    assert 40 <= capped.usage.reasoning_tokens <= 44  # cut within one multi-byte word of the budget
    assert capped.reasoning and capped.text  # the model went on to answer
    assert "</think>" not in capped.text + capped.reasoning


async def test_prompted_chain_of_thought_for_models_without_thinking(tmp_path: object) -> None:
    settings = ServerSettings(
        backend="mock", port=0, data_dir=str(tmp_path), metrics_port=0, embedder="lexical"
    )
    container = build_container(settings)
    script = ["<think>\n1. Paris is in France.\n2. It is the capital.\n</think>\n\nParis."]
    backend = MockBackend(behaviour=MockBehaviour(script=script * 2), supports_thinking=False)
    container.backend.override(providers.Object(backend))
    server = AutoGLMServer(settings, container)
    await server.start()
    from autoglm_client import AsyncAutoGLMClient

    try:
        async with AsyncAutoGLMClient(f"127.0.0.1:{server.port}") as client:
            plain = await client.generate("Capital of France?", max_new_tokens=200)
            thinking = await client.generate("Capital of France?", max_new_tokens=200, thinking=True)
        assert plain.text == "Paris." and plain.reasoning == ""  # no reasoning leaks with thinking off
        assert thinking.usage.prompt_tokens > plain.usage.prompt_tokens  # the CoT instruction was added
        assert thinking.reasoning_steps == ["Paris is in France.", "It is the capital."]
        assert thinking.text == "Paris."
    finally:
        await server.stop(grace_s=0)
