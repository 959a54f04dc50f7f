"""GenerationService and health through the client: unary, streams, cancel, deadlines, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import LiveServer
from grpc_health.v1 import health_pb2

from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors


def test_generate_stream_tokenize_and_health(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=30) as client:
        reply = client.generate("hello", max_new_tokens=8, request_id="client-test-1")
        assert reply.text and reply.usage.completion_tokens == 8 and reply.model.name == "mock"
        events = list(client.stream("hello", max_new_tokens=8))
        streamed = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
        assert streamed == reply.text  # the mock is deterministic
        assert events[-1].finished.usage.completion_tokens == 8
        assert client.tokenize("hello world").token_ids
        assert client.health() == health_pb2.HealthCheckResponse.SERVING
        assert client.health("autoglm.v1.GenerationService") == health_pb2.HealthCheckResponse.SERVING


def test_cancelled_stream_raises_cancelled(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=30) as client:
        stream = client.stream("a long one", max_new_tokens=2000)
        next(stream)
        assert stream.cancel()
        with pytest.raises(errors.Cancelled):
            list(stream)


def test_bad_sampling_is_invalid_argument_with_the_field_path(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=30) as client:
        with pytest.raises(errors.InvalidArgument) as raised:
            client.generate("hello", temperature=-1)
        assert [path for path, _ in raised.value.field_violations] == ["input.sampling.temperature"]
        with pytest.raises(errors.InvalidArgument):
            list(client.stream("hello", top_p=2.0))  # a stream's error arrives typed as well


def test_unknown_model_is_not_found_with_the_resource(server: LiveServer) -> None:
    with AutoGLMClient(server.target, timeout=30) as client, pytest.raises(errors.NotFound) as raised:
        client.generate("hello", model="no-such-model")
    assert raised.value.resource is not None and "no-such-model" in raised.value.resource[1]


def test_deadline_exceeded(server: LiveServer) -> None:
    # The session's server takes 2 ms per token: 3,000 tokens cannot finish in 0.2 s.
    with AutoGLMClient(server.target, timeout=30) as client, pytest.raises(errors.DeadlineExceeded):
        client.generate("hello", max_new_tokens=3000, min_new_tokens=3000, timeout=0.2)


def test_full_queue_is_resource_exhausted_with_retry_info(server_with: Callable[..., LiveServer]) -> None:
    flags = ("--max-running", "1", "--max-queue", "0", "--mock-token-latency-ms", "20")
    busy = server_with(*flags)
    with AutoGLMClient(busy.target, timeout=30) as client:
        running = client.stream("occupy the only slot", max_new_tokens=2000, min_new_tokens=2000)
        next(running)
        with pytest.raises(errors.ResourceExhausted) as raised:
            client.generate("one more", max_new_tokens=4)
        running.cancel()
    assert raised.value.retry_delay_s is not None and raised.value.retry_delay_s > 0


async def test_async_generation(server: LiveServer) -> None:
    async with AsyncAutoGLMClient(server.target, timeout=30) as client:
        reply = await client.generate("hello", max_new_tokens=6)
        events = [e async for e in client.stream("hello", max_new_tokens=6)]
        assert "".join(e.content_delta.text for e in events if e.HasField("content_delta")) == reply.text
        assert (await client.tokenize("hello")).token_ids
        assert await client.health() == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(errors.InvalidArgument):
            async for _ in client.stream("hello", temperature=-1):
                pass
        with pytest.raises(errors.NotFound):
            await client.generate("hello", model="no-such-model")
