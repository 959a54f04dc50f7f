"""The response cache with the real default model: a repeated greedy question is answered from
the cache, with the same events as the model's own answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autoglm_client import AsyncAutoGLMClient
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings

pytestmark = pytest.mark.model


async def _events(client: AsyncAutoGLMClient, prompt: str, **options: Any) -> tuple[list[bytes], Any]:
    out, final = [], None
    async for event in client.stream(prompt, **options):
        event.ClearField("request_id")
        if event.HasField("finished"):
            usage = event.finished.usage
            final = (usage.completion_tokens, usage.cached_completion_tokens)
            event.finished.ClearField("timings")
            event.finished.usage.ClearField("cached_tokens")
            event.finished.usage.ClearField("cached_completion_tokens")
        out.append(event.SerializeToString(deterministic=True))
    return out, final


async def test_a_repeated_greedy_question_is_replayed_from_the_cache(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend="transformers",
        port=0,
        data_dir=tmp_path,
        metrics_port=0,
        embedder="lexical",
        grace_period_s=1,
    )
    server = AutoGLMServer(settings)
    await server.start()
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=300)
    try:
        question = "用一句话介绍一下巴黎。"
        miss, miss_usage = await _events(client, question, max_new_tokens=32, temperature=0)
        hit, hit_usage = await _events(client, question, max_new_tokens=32, temperature=0)
        assert hit == miss and len(miss) > 3
        assert miss_usage[1] == 0  # (completion tokens, of which cached)
        assert hit_usage[1] == hit_usage[0] > 0
        stats = server.container.response_cache().stats()
        assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
        assert stats.ratio > 1  # the stored events compress
        # Sampling without a seed runs the model every time.
        await client.generate(question, max_new_tokens=8, temperature=0.9)
        assert server.container.response_cache().stats().bypasses == 1
    finally:
        await client.close()
        await server.stop(grace_s=0)
