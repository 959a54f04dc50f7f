"""Every failure gets a status a client can act on: bad bodies, bad tokens, not ready, restarts."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
from collections.abc import Awaitable, Callable

import grpc
import pytest
from dependency_injector import providers
from grpc_health.v1 import health_pb2

from autoglm.v1 import common_pb2, memory_pb2, memory_pb2_grpc, user_pb2, user_pb2_grpc
from autoglm_client import AsyncAutoGLMClient
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.storage.paging import encode_token
from autoglm_core.wiring.container import build_container
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings
from tests.conftest import RunningServer, caller_ids, start_mock_server
from tests.integration.ops_support import start_ops_server


def _raw(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
    """A method that sends bytes as they are: what a broken or hostile client sends."""
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _nested(depth: int) -> bytes:
    """Field 1 (input) of a GenerateRequest, nested as unknown groups far past protobuf's limit."""
    return b"\x0b" * depth + b"\x0c" * depth  # start-group / end-group of field 1


BAD_BODIES = [
    ("/autoglm.v1.GenerationService/Generate", b"\xff\xff\xff\xff"),  # not protobuf at all
    ("/autoglm.v1.GenerationService/Tokenize", b"\x0a\x02\xc3\x28"),  # text = invalid UTF-8
    ("/autoglm.v1.GenerationService/Generate", _nested(5000)),  # absurd nesting
    ("/autoglm.v1.UserService/GetUser", b"\x0a\x05ab\xffcd"),  # user_id = invalid UTF-8
    ("/grpc.health.v1.Health/Check", b"\xff"),
]


@pytest.mark.parametrize(("method", "body"), BAD_BODIES)
async def test_a_body_that_does_not_parse_is_invalid_argument(
    mock_server: RunningServer, method: str, body: bytes
) -> None:
    channel = mock_server.client.channel
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _raw(channel, method)(body, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid" in (caught.value.details() or "")
    assert await mock_server.client.health() == health_pb2.HealthCheckResponse.SERVING
    registry = mock_server.server.ops.metrics.registry
    if method.startswith("/autoglm."):
        labels = {"rpc": method, "code": "INVALID_ARGUMENT"}
        assert registry.get_sample_value("autoglm_rpc_requests_total", labels) == 1


async def test_a_stream_with_a_bad_body_is_invalid_argument(mock_server: RunningServer) -> None:
    method = "/autoglm.v1.GenerationService/GenerateStream"
    call = mock_server.client.channel.unary_stream(
        method, request_serializer=lambda b: b, response_deserializer=lambda b: b
    )(b"\xff\xff", timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in call:
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_oversize_body_is_refused_before_parsing(mock_server: RunningServer) -> None:
    body = b"\x0a" + _varint(200_000) + b"u" * 200_000  # GetUser with a 200 kB user id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _raw(mock_server.client.channel, "/autoglm.v1.UserService/GetUser")(body, timeout=10)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "GetUser takes requests of at most" in (caught.value.details() or "")


async def test_tokenize_refuses_input_over_the_prompt_cap_at_once(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.tokenize("a" * 1_000_001)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit" in (caught.value.details() or "")


@pytest.mark.parametrize(
    "token",
    [
        encode_token(2**63),  # past SQLite's integer range (was INTERNAL: integer overflow)
        encode_token(10**30),
        base64.urlsafe_b64encode(b"v1:" + b"9" * 5000).decode(),
        "!!not-base64!!",
    ],
)
async def test_a_page_token_that_is_not_ours_is_invalid_argument(
    mock_server: RunningServer, token: str
) -> None:
    memory = memory_pb2_grpc.MemoryServiceStub(mock_server.client.channel)
    users = user_pb2_grpc.UserServiceStub(mock_server.client.channel)
    page = common_pb2.PageRequest(page_token=token)
    for call in (
        memory.ListSessions(memory_pb2.ListSessionsRequest(page=page)),
        users.ListUsers(user_pb2.ListUsersRequest(page=page)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_call_before_the_model_has_loaded_is_unavailable() -> None:
    config = ServerSettings(backend="mock", port=0, grace_period_s=0, embedder="lexical")
    container = build_container(config)
    backend = MockBackend(name="mock", behaviour=MockBehaviour(load_latency_s=3.0))
    container.backend.override(providers.Object(backend))
    server = AutoGLMServer(config, container)
    starting = asyncio.ensure_future(server.start())
    while server.port == 0:  # listening happens before the model loads
        await asyncio.sleep(0.01)
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=10)
    try:
        for attempt in (client.generate("hi", max_new_tokens=2), client.tokenize("hi")):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await attempt
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # retryable, not NOT_FOUND
        await starting
        assert (await client.generate("hi", max_new_tokens=2)).usage.completion_tokens == 2
    finally:
        await client.close()
        await server.stop(grace_s=0)


async def test_calls_queued_behind_a_wedged_backend_run_on_its_replacement() -> None:
    ops = await start_ops_server(
        MockBehaviour(hang_after_tokens=2),
        later=lambda spec: MockBehaviour(),
        watchdog_interval_s=0.05,
        watchdog_stall_s=0.5,
        stream_write_timeout_s=0.25,
        max_running=1,
    )
    try:
        hung = asyncio.ensure_future(ops.client.generate("x", max_new_tokens=20, timeout=20))
        await asyncio.sleep(0.1)
        queued = [
            asyncio.ensure_future(ops.client.generate(f"q{i}", max_new_tokens=5, timeout=20))
            for i in range(3)
        ]
        outcomes = await asyncio.gather(hung, *queued, return_exceptions=True)
        codes = [o.code() if isinstance(o, grpc.aio.AioRpcError) else grpc.StatusCode.OK for o in outcomes]
        assert codes[0] == grpc.StatusCode.UNAVAILABLE  # the wedged call itself
        # The queued calls ran on the fresh backend or were told to retry; never "not loaded".
        assert set(codes[1:]) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
        (fresh,) = ops.built
        assert len(fresh.finished) == codes[1:].count(grpc.StatusCode.OK) > 0
    finally:
        await ops.close()


async def test_calls_sharing_a_request_id_are_kept_apart() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.005))
    try:
        lengths = list(range(1, 21))
        replies = await asyncio.gather(
            *(running.client.generate("x", max_new_tokens=n, request_id="same") for n in lengths)
        )
        assert [r.usage.completion_tokens for r in replies] == lengths
        assert {r.request_id for r in replies} == {"same"}  # echoed as sent
        assert len(set(running.backend.finished)) == 20  # but 20 distinct calls inside
        assert set(caller_ids(running.backend.finished)) == {"same"}
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_deadlines_are_counted_as_such_and_logged_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.02), max_running=1)
    try:
        with caplog.at_level(logging.INFO):
            calls = [running.client.generate("x", max_new_tokens=100, timeout=0.3) for _ in range(4)]
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            await asyncio.sleep(0.2)
        assert all(
            isinstance(o, grpc.aio.AioRpcError) and o.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            for o in outcomes
        )
        labels = {"rpc": "/autoglm.v1.GenerationService/Generate", "code": "DEADLINE_EXCEEDED"}
        assert running.server.ops.metrics.registry.get_sample_value("autoglm_rpc_requests_total", labels) == 4
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        access = [r for r in caplog.records if r.name == "autoglm.access"]
        assert len(access) == 4 and all(r.status == "DEADLINE_EXCEEDED" for r in access)  # type: ignore[attr-defined]
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_each_call_writes_one_access_line(
    mock_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="autoglm.access"):
        await mock_server.client.generate("hi", max_new_tokens=3, request_id="req-7")
        await mock_server.client.health()  # health probes are not logged
    (line,) = [r for r in caplog.records if r.name == "autoglm.access"]
    fields = vars(line)
    assert fields["rpc"] == "/autoglm.v1.GenerationService/Generate" and fields["status"] == "OK"
    assert fields["completion_tokens"] == 3 and fields["prompt_tokens"] > 0
    assert fields["request_id"] == "req-7" and fields["call_id"].startswith("req-7/")
    assert fields["duration_ms"] > 0 and fields["user"] == ""


async def test_refused_calls_leave_no_more_garbage_cycles_than_answered_ones(
    mock_server: RunningServer,
) -> None:
    """A refused call ends by status, not by an exception unwinding the server's frames: under a
    flood of bad calls, such cycles would make every caller pay for full garbage collections."""
    garbage = _raw(mock_server.client.channel, "/autoglm.v1.GenerationService/Generate")

    async def answered() -> None:
        await mock_server.client.generate("hello", max_new_tokens=1)
        await mock_server.client.generate("hello", max_new_tokens=1)

    async def refused() -> None:
        try:
            await garbage(b"\xff\xff\xff\xff", timeout=10)  # a body that does not parse
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        try:
            await mock_server.client.generate("hello", max_new_tokens=0)  # an engine refusal
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def cycles_left(calls: Callable[[], Awaitable[None]]) -> int:
        await calls()  # first calls build caches; count what later ones leave
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                await calls()
            return gc.collect()
        finally:
            gc.enable()

    baseline, left = await cycles_left(answered), await cycles_left(refused)
    assert left <= baseline + 20, f"40 refused calls left {left} objects in cycles, 40 answered {baseline}"
