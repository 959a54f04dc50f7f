"""Errors, auth, rate limits, models, completions, embeddings and metrics of the HTTP API, through
the official openai SDK against a live server (mock backend)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import openai
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from autoglm_core.backends.mock import MockBehaviour
from tests.integration.openai_support import USER, http_server
from tests.integration.test_observability import CLIENT_SPAN_ID, TRACE_ID, _finished_spans, spans

__all__ = ["spans"]  # the in-memory span exporter fixture, shared with the gRPC tracing tests

ADMIN_KEY = "test-admin-secret-0123"


async def test_bad_fields_are_400_naming_the_param() -> None:
    async with http_server(max_message_mb=2) as s:
        cases = [
            ({"temperature": -1}, "temperature"),
            ({"top_p": 0}, "top_p"),
            ({"max_completion_tokens": 0}, "max_completion_tokens"),
            ({"n": 17}, "n"),
            ({"n": 0}, "n"),
            ({"presence_penalty": 0.5}, "presence_penalty"),
            ({"tool_choice": "required"}, "tool_choice"),
        ]
        for fields, param in cases:
            with pytest.raises(openai.BadRequestError) as caught:
                await s.client.chat.completions.create(model="mock", messages=USER, **fields)  # type: ignore[call-overload]
            assert caught.value.param == param, fields
        with pytest.raises(openai.BadRequestError) as caught:
            await s.client.chat.completions.create(
                model="mock", messages=[{"role": "wizard", "content": "x"}]
            )  # type: ignore[list-item]
        assert caught.value.param == "messages[0].role"
        with pytest.raises(openai.BadRequestError) as caught:
            await s.client.chat.completions.create(model="mock", messages="not a list")  # type: ignore[arg-type]
        assert caught.value.param == "messages"
        async with httpx.AsyncClient(base_url=s.base_url) as raw:
            broken = await raw.post(
                "/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
            )
            huge = await raw.post("/chat/completions", content=b" " * (2 * 1024 * 1024 + 1))
    assert huge.status_code == 413 and "larger than" in huge.json()["error"]["message"]
    assert broken.status_code == 400
    assert broken.json()["error"] == {
        "message": "the request body is not valid JSON",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_bad_response_formats_are_400_naming_the_field() -> None:
    async with http_server() as s:
        chat_cases: list[tuple[Any, str, str]] = [
            (
                {"type": "json_schema", "json_schema": {"name": "x"}},
                "response_format.json_schema.schema",
                "required",
            ),
            (
                {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "strng"}}},
                "response_format.json_schema.schema",
                "strng",
            ),
            ({"type": "yaml"}, "response_format.type", "must be one of"),
            ({"type": "regex", "pattern": "(a"}, "response_format.pattern", "unclosed group"),
        ]
        for given, param, reason in chat_cases:
            with pytest.raises(openai.BadRequestError) as caught:
                await s.client.chat.completions.create(model="mock", messages=USER, response_format=given)
            assert caught.value.param == param, given
            assert reason in caught.value.message
        with pytest.raises(openai.BadRequestError) as caught:
            await s.client.responses.create(
                model="mock",
                input="hi",
                text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "strng"}}},
            )
        assert caught.value.param == "text.format.schema"


async def test_unknown_model_is_404_and_models_lists_names_aliases_and_versions() -> None:
    async with http_server() as s:
        with pytest.raises(openai.NotFoundError) as caught:
            await s.client.chat.completions.create(model="no-such-model", messages=USER)
        with pytest.raises(openai.NotFoundError):
            await s.client.chat.completions.create(model="mock@9.9.9", messages=USER)
        ids = [m.id async for m in s.client.models.list()]
        one = await s.client.models.retrieve("mock@1.0.0")
    assert caught.value.code == "model_not_found"
    assert {"mock", "mock@1.0.0", "openautoglm-base-v1"} <= set(ids)
    assert one.id == "mock@1.0.0"


async def test_keys_users_and_rate_limits_are_the_grpc_ones() -> None:
    async with http_server(auth_enabled=True, admin_key=ADMIN_KEY, rate_limit_per_minute=2) as s:
        users = s.running.server.container.users()
        alice = await users.create("alice", 30)
        _key, secret = await users.create_key(alice.user_id)
        with pytest.raises(openai.AuthenticationError):
            await s.client.chat.completions.create(model="mock", messages=USER)
        async with s.sdk(api_key=secret) as sdk:
            for _ in range(2):
                await sdk.chat.completions.create(model="mock", messages=USER, max_tokens=4)
            with pytest.raises(openai.RateLimitError) as caught:
                await sdk.chat.completions.create(model="mock", messages=USER, max_tokens=4)
        # Another user has a budget of their own.
        async with s.sdk(api_key=ADMIN_KEY) as admin:
            await admin.models.list()
    assert int(caught.value.response.headers["retry-after"]) >= 1


async def test_not_ready_is_503_with_retry_after() -> None:
    async with http_server() as s:
        http = s.running.server.http
        assert http is not None
        http.set_ready(False)
        with pytest.raises(openai.InternalServerError) as caught:
            await s.client.chat.completions.create(model="mock", messages=USER)
    assert caught.value.status_code == 503
    assert caught.value.response.headers["retry-after"] == "1"


async def test_completions_unary_and_streamed() -> None:
    async with http_server() as s:
        reply = await s.client.completions.create(model="mock", prompt="Once upon a time", max_tokens=16)
        stream = await s.client.completions.create(
            model="mock",
            prompt="Once upon a time",
            max_tokens=16,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
        grpc_reply = await s.running.client.generate("Once upon a time", max_new_tokens=16)
    assert reply.choices[0].text == grpc_reply.text
    assert reply.choices[0].finish_reason == "length"
    assert "".join(c.choices[0].text for c in chunks if c.choices).strip() == reply.choices[0].text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 16


async def test_requests_are_counted_per_route_and_status() -> None:
    async with http_server() as s:
        await s.client.chat.completions.create(model="mock", messages=USER, max_tokens=4)
        with pytest.raises(openai.NotFoundError):
            await s.client.chat.completions.create(model="nope", messages=USER)
        registry = s.running.server.ops.metrics.registry
        ok = registry.get_sample_value(
            "autoglm_http_requests_total", {"route": "/v1/chat/completions", "status": "200"}
        )
        missing = registry.get_sample_value(
            "autoglm_http_requests_total", {"route": "/v1/chat/completions", "status": "404"}
        )
        tokens = registry.get_sample_value(
            "autoglm_completion_tokens_total", {"model": "mock", "version": "1.0.0"}
        )
    assert ok == 1 and missing == 1
    assert tokens == 4  # the engine's own metrics count HTTP generations too


async def test_embeddings_come_from_minilm() -> None:
    async with http_server() as s:
        reply = await s.client.embeddings.create(
            model="all-MiniLM-L6-v2",
            input=["The cat sits on the mat.", "A cat is sitting on a mat.", "Interest rates rose in May."],
        )
        as_floats = await s.client.embeddings.create(
            model="all-MiniLM-L6-v2", input="The cat sits on the mat.", encoding_format="float"
        )
        with pytest.raises(openai.BadRequestError) as caught:
            await s.client.embeddings.create(model="all-MiniLM-L6-v2", input="x", dimensions=12)
    vectors = np.array([d.embedding for d in reply.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert np.allclose(as_floats.data[0].embedding, vectors[0], atol=1e-5)
    assert reply.usage.prompt_tokens > 10
    assert caught.value.param == "dimensions"


@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_a_request_span_under_the_clients_trace_holds_the_generation(
    spans: InMemorySpanExporter, streaming: bool
) -> None:
    traceparent = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"
    async with http_server() as s:
        reply = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            max_tokens=4,
            stream=streaming,
            extra_headers={"traceparent": traceparent},
        )
        if streaming:
            [_ async for _ in reply]  # type: ignore[union-attr]
        found = await _finished_spans(spans, "POST /v1/chat/completions")
    by_name = {span.name: span for span in found}
    request, generate = by_name["POST /v1/chat/completions"], by_name["autoglm.generate"]
    assert request.parent is not None and format(request.parent.span_id, "016x") == CLIENT_SPAN_ID
    assert format(request.context.trace_id, "032x") == TRACE_ID
    assert generate.parent is not None and generate.parent.span_id == request.context.span_id
    assert (request.attributes or {})["http.response.status_code"] == 200
    assert [span.name for span in found].count("POST /v1/chat/completions") == 1


async def test_a_full_queue_is_429_with_retry_after() -> None:
    slow = MockBehaviour(token_latency_s=0.05)
    async with http_server(slow, max_running=1, max_queue=0) as s:
        busy = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=100, stream=True
        )
        async for _chunk in busy:
            break  # the only slot is taken
        with pytest.raises(openai.RateLimitError) as caught:
            await s.client.chat.completions.create(model="mock", messages=USER, max_tokens=4)
        await busy.close()
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1
