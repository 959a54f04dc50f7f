"""A battery of bad requests: each gets the right status and details; the server stays healthy."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status

from autoglm.v1 import generation_pb2, user_pb2, user_pb2_grpc
from autoglm_client import build_input
from tests.conftest import RunningServer


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "rich status details are missing"
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


BAD_INPUTS = [
    ({"max_new_tokens": 0}, "input.sampling.max_new_tokens"),
    ({"max_new_tokens": 10_000_000}, "input.sampling.max_new_tokens"),
    ({"max_new_tokens": 4, "min_new_tokens": 5}, "input.sampling.min_new_tokens"),
    ({"temperature": float("nan")}, "input.sampling.temperature"),
    ({"temperature": -1.0}, "input.sampling.temperature"),
    ({"temperature": float("inf")}, "input.sampling.temperature"),
    ({"top_p": 0.0}, "input.sampling.top_p"),
    ({"top_p": 1.5}, "input.sampling.top_p"),
    ({"repetition_penalty": 0.0}, "input.sampling.repetition_penalty"),
    ({"stop": [""]}, "input.sampling.stop[0]"),
    ({"stop": ["x"] * 17}, "input.sampling.stop"),
    ({"priority": 10}, "input.priority"),
    ({"thinking": True, "thinking_budget": 0}, "input.thinking.budget_tokens"),
    ({"time_limit_ms": 0}, "input.time_limit_ms"),
]


@pytest.mark.parametrize(("options", "field"), BAD_INPUTS)
async def test_bad_field_is_invalid_argument_with_violation(
    mock_server: RunningServer, options: dict[str, object], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("hello", **options)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in _violations(caught.value)
    # The same bad input on the stream gets the same answer.
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for _ in mock_server.client.stream("hello", **options):
            pass
    assert streamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await mock_server.client.health() == health_pb2.HealthCheckResponse.SERVING


async def test_several_bad_fields_are_reported_together(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("hello", temperature=-1.0, top_p=2.0, priority=11)
    assert {"input.sampling.temperature", "input.sampling.top_p", "input.priority"} <= set(
        _violations(caught.value)
    )


async def test_empty_prompt(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("   ")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.prompt" in _violations(caught.value)


async def test_missing_input(mock_server: RunningServer) -> None:
    request = generation_pb2.GenerateRequest(input=generation_pb2.GenerationInput(model=""))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generation.Generate(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.prompt" in _violations(caught.value)


async def test_unset_role_in_conversation(mock_server: RunningServer) -> None:
    given = build_input(messages=[{"role": "user", "content": "hi"}])
    given.conversation.messages.add(content="no role")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generation.Generate(generation_pb2.GenerateRequest(input=given))
    assert "input.conversation.messages[1].role" in _violations(caught.value)


async def test_ten_megabyte_prompt(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("a" * 10_000_000, max_new_tokens=1)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.prompt" in _violations(caught.value)
    assert await mock_server.client.health() == health_pb2.HealthCheckResponse.SERVING


async def test_message_over_the_transport_limit_is_resource_exhausted(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("a" * 20_000_000, max_new_tokens=1)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_prompt_longer_than_the_context(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("a" * 5000, max_new_tokens=1)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "context" in _violations(caught.value)["input.prompt"]


@pytest.mark.parametrize("model", ["no-such-model", "mock@9.9.9"])
async def test_unknown_model_or_version_is_not_found(mock_server: RunningServer, model: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("hello", model=model)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as tokenized:
        await mock_server.client.tokenize("hello", model=model)
    assert tokenized.value.code() == grpc.StatusCode.NOT_FOUND


async def test_unknown_option_in_tokenize(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generation.Tokenize(generation_pb2.TokenizeRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_unknown_user_is_not_found(mock_server: RunningServer) -> None:
    stub = user_pb2_grpc.UserServiceStub(mock_server.client.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetUser(user_pb2.GetUserRequest(user_id="u1"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
