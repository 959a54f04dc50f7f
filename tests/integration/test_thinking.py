"""Thinking mode through a real server: the reasoning budget and prompted chain-of-thought."""

from __future__ import annotations

from dependency_injector import providers

from autoglm.v1 import generation_pb2
from autoglm_client import AsyncAutoGLMClient
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.prompts.profiles import PromptProfile
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.conftest import RunningServer

FOLLOWS = PromptProfile("follows-prompted-thinking", thinking_without_native="prompted")


async def test_thinking_budget_caps_reasoning_then_answers(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.reasoning_words = 200
    free = await mock_server.client.generate("why?", max_new_tokens=400, thinking=True)
    assert free.usage.reasoning_tokens > 300 and free.text == ""  # reasoning alone used the tokens

    capped = await mock_server.client.generate("why?", max_new_tokens=400, thinking=True, thinking_budget=40)
    assert 40 <= capped.usage.reasoning_tokens <= 44  # cut within one multi-byte word of the budget
    assert capped.reasoning and capped.text  # the model went on to answer
    assert "</think>" not in capped.text + capped.reasoning


async def test_thinking_on_models_without_a_native_mode(tmp_path: object) -> None:
    """By default no instruction is added and the response says the model does not think natively;
    a family whose profile says it follows the prompted format gets the <think> instruction."""
    script = ["<think>\n1. Paris is in France.\n2. It is the capital.\n</think>\n\nParis."]
    for profiles, expected in (((), "unsupported"), ((("mock", FOLLOWS),), "prompted")):
        settings = ServerSettings(
            backend="mock", port=0, data_dir=str(tmp_path), metrics_port=0, embedder="lexical"
        )
        container = build_container(settings)
        backend = MockBackend(behaviour=MockBehaviour(script=script * 2), supports_thinking=False)
        container.backend.override(providers.Object(backend))
        container.conversation().profiles = profiles
        server = AutoGLMServer(settings, container)
        await server.start()
        try:
            async with AsyncAutoGLMClient(f"127.0.0.1:{server.port}") as client:
                plain = await client.generate("Capital of France?", max_new_tokens=200)
                thinking = await client.generate("Capital of France?", max_new_tokens=200, thinking=True)
                events = [e async for e in client.stream("Capital of France?", thinking=True)]
            assert plain.text == "Paris." and plain.reasoning == ""  # no reasoning leaks with thinking off
            assert plain.thinking_mode == generation_pb2.THINKING_MODE_OFF
            assert thinking.thinking_mode == events[-1].finished.thinking_mode
            if expected == "prompted":
                assert thinking.usage.prompt_tokens > plain.usage.prompt_tokens  # the instruction
                assert thinking.reasoning_steps == ["Paris is in France.", "It is the capital."]
                assert thinking.thinking_mode == generation_pb2.THINKING_MODE_PROMPTED
            else:
                assert thinking.usage.prompt_tokens == plain.usage.prompt_tokens
                assert thinking.reasoning == "" and thinking.reasoning_steps == []
                assert thinking.thinking_mode == generation_pb2.THINKING_MODE_UNSUPPORTED
            assert thinking.text == "Paris."
        finally:
            await server.stop(grace_s=0)
