"""The response cache through a real server on the mock backend: hits, misses, bypasses, metrics,
the `autoglm.cache` span and invalidation when versions change."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from autoglm.v1 import generation_pb2, model_pb2, user_pb2
from autoglm_client import AsyncAutoGLMClient
from autoglm_client.messages import build_input
from autoglm_server.app import AutoGLMServer
from tests.conftest import RunningServer, start_mock_server
from tests.integration.auth_support import bearer, users_stub
from tests.integration.ops_support import OpsServer, start_ops_server
from tests.integration.test_auth import ADMIN_KEY
from tests.integration.test_observability import _finished_spans, spans  # noqa: F401 (a fixture)


async def _events(client: AsyncAutoGLMClient, prompt: str, **options: Any) -> list[bytes]:
    """The stream's events as wire bytes, minus what differs by call (ids, timings) and the
    usage's cache marks (compared separately)."""
    out = []
    async for event in client.stream(prompt, **options):
        event.ClearField("request_id")
        if event.HasField("finished"):
            event.finished.ClearField("timings")
            event.finished.usage.ClearField("cached_tokens")
            event.finished.usage.ClearField("cached_completion_tokens")
        out.append(event.SerializeToString(deterministic=True))
    return out


async def _final(client: AsyncAutoGLMClient, prompt: str, **options: Any) -> generation_pb2.StreamFinished:
    events = [e async for e in client.stream(prompt, **options)]
    return events[-1].finished


def _metric(server: AutoGLMServer, name: str) -> float:
    text = generate_latest(server.ops.metrics.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no metric {name}")


async def test_a_repeated_greedy_request_is_a_byte_identical_hit(mock_server: RunningServer) -> None:
    client, backend = mock_server.client, mock_server.backend
    miss = await _events(client, "hello 模型", max_new_tokens=24, logprobs=True)
    hit = await _events(client, "hello 模型", max_new_tokens=24, logprobs=True)
    assert len(backend.started) == 1  # the second call never reached the model
    assert hit == miss and len(hit) > 3

    first = await client.generate("unary question", max_new_tokens=16)
    second = await client.generate("unary question", max_new_tokens=16)
    assert len(backend.started) == 2
    assert second.text.encode() == first.text.encode() and second.finish_reason == first.finish_reason
    assert first.usage.cached_completion_tokens == 0 and first.usage.cached_tokens == 0
    assert second.usage.completion_tokens == first.usage.completion_tokens
    assert second.usage.cached_completion_tokens == second.usage.completion_tokens == 16
    assert second.usage.cached_tokens == second.usage.prompt_tokens > 0

    server = mock_server.server
    assert _metric(server, "autoglm_response_cache_hits_total") == 2
    assert _metric(server, "autoglm_response_cache_misses_total") == 2
    assert _metric(server, "autoglm_response_cache_entries") == 2
    assert _metric(server, "autoglm_response_cache_bytes") > 0
    assert _metric(server, "autoglm_response_cache_compression_ratio") > 1


async def test_what_changes_the_answer_is_a_miss(mock_server: RunningServer) -> None:
    client, backend = mock_server.client, mock_server.backend
    seeded = {"temperature": 0.8, "max_new_tokens": 12}
    await client.generate("q", seed=1, **seeded)
    await client.generate("q", seed=1, **seeded)
    assert len(backend.started) == 1  # a fixed seed is deterministic: a hit
    await client.generate("q", seed=2, **seeded)
    assert len(backend.started) == 2
    await client.generate("q", seed=1, stop=["zzz"], **seeded)
    templated = build_input("q", seed=1, **seeded)
    templated.prompt_template = "qa"
    await client.generation.Generate(generation_pb2.GenerateRequest(input=templated))
    await client.generate("q", seed=1, thinking=True, **seeded)
    assert len(backend.started) == 5
    await client.generate("q", seed=1, cache=False, **seeded)  # asked not to use the cache
    assert len(backend.started) == 6


async def test_sampling_without_a_seed_is_never_cached(mock_server: RunningServer) -> None:
    client, backend = mock_server.client, mock_server.backend
    for _ in range(3):
        await client.generate("q", temperature=0.8, max_new_tokens=8)
    assert len(backend.started) == 3
    assert _metric(mock_server.server, "autoglm_response_cache_bypasses_total") == 3
    assert _metric(mock_server.server, "autoglm_response_cache_entries") == 0


async def test_sessions_and_server_tools_bypass_the_cache(mock_server: RunningServer) -> None:
    client, backend = mock_server.client, mock_server.backend
    for _ in range(2):
        await client.generate("what is 2 plus 3", allowed_tools=["calculate"], max_new_tokens=8)
    assert len(backend.started) == 2
    for _ in range(2):
        await client.generate("remember me", session_id="s1", max_new_tokens=8)
    assert len(backend.started) == 4


async def _load(ops: OpsServer, version: str) -> None:
    request = model_pb2.LoadModelRequest(name="mock", version=version, source="mock")
    await ops.client.models.LoadModel(request, timeout=10)


def _calls(ops: OpsServer) -> int:
    return len(ops.backend.started) + sum(len(b.started) for b in ops.built)


async def test_versions_are_keys_and_promote_or_rollback_invalidates() -> None:
    ops = await start_ops_server()
    try:
        await ops.client.generate("q", max_new_tokens=8)
        await ops.client.generate("q", max_new_tokens=8)
        assert _calls(ops) == 1
        await _load(ops, "2.0.0")
        pinned = await ops.client.generate("q", model="mock@2.0.0", max_new_tokens=8)
        assert pinned.model.version == "2.0.0" and _calls(ops) == 2  # another version: a miss
        await ops.client.generate("q", model="mock@1.0.0", max_new_tokens=8)
        assert _calls(ops) == 2  # 1.0.0's entry outlived the load of 2.0.0

        promote = model_pb2.PromoteModelVersionRequest(name="mock", version="2.0.0")
        await ops.client.models.PromoteModelVersion(promote)
        assert _metric(ops.server, "autoglm_response_cache_entries") == 0
        await ops.client.generate("q", model="mock@1.0.0", max_new_tokens=8)
        assert _calls(ops) == 3  # the promote dropped the model's entries
        await ops.client.generate("q", model="mock@1.0.0", max_new_tokens=8)
        assert _calls(ops) == 3

        rollback = model_pb2.RollbackTrafficSplitRequest(name="mock")
        await ops.client.models.RollbackTrafficSplit(rollback)
        await ops.client.generate("q", model="mock@1.0.0", max_new_tokens=8)
        assert _calls(ops) == 4
    finally:
        await ops.close()


async def test_the_cache_can_be_turned_off() -> None:
    ops = await start_ops_server(response_cache=False)
    try:
        for _ in range(2):
            await ops.client.generate("q", max_new_tokens=8)
        assert _calls(ops) == 2
    finally:
        await ops.close()


async def test_a_lookup_is_traced_as_hit_or_miss(spans: InMemorySpanExporter) -> None:  # noqa: F811
    ops = await start_ops_server(tracing="on")
    try:
        results = []
        for _ in range(2):
            spans.clear()
            await ops.client.generate("traced", max_new_tokens=8)
            found = await _finished_spans(spans, "autoglm.generate")
            [cache_span] = [s for s in found if s.name == "autoglm.cache"]
            generate = next(s for s in found if s.name == "autoglm.generate")
            assert cache_span.parent is not None and cache_span.parent.span_id == generate.context.span_id
            results.append((cache_span.attributes or {})["autoglm.cache.result"])
        assert results == ["miss", "hit"]
    finally:
        await ops.close()


@pytest.mark.parametrize("public", [False, True], ids=["private", "public"])
async def test_users_share_entries_only_when_marked_public(public: bool) -> None:
    running = await start_mock_server(auth_enabled=True, admin_key=ADMIN_KEY)
    users = users_stub(running.client.channel)
    admin = bearer(ADMIN_KEY)
    try:
        for name in ("alice", "bob"):
            user = (
                await users.CreateUser(user_pb2.CreateUserRequest(name=name, age=30), metadata=admin)
            ).user
            key = await users.CreateApiKey(user_pb2.CreateApiKeyRequest(user_id=user.user_id), metadata=admin)
            client = AsyncAutoGLMClient(f"127.0.0.1:{running.server.port}", api_key=key.secret)
            try:
                await client.generate("shared?", max_new_tokens=8, cache_public=public)
            finally:
                await client.close()
        assert len(running.backend.started) == (1 if public else 2)
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
