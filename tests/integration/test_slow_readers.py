"""Streams whose clients stop reading: cancelled after the write timeout, slot freed, others served."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from autoglm.v1 import generation_pb2, generation_pb2_grpc
from autoglm_client import build_input
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.runtime.scheduler import SchedulerConfig
from autoglm_server import slow_readers
from autoglm_server.services import generation
from tests.conftest import start_mock_server

# Far more output than the client's flow-control window (BDP probing off keeps it at 64 KiB).
LONG = 100_000
STUBBORN_CLIENT = [("grpc.http2.bdp_probe", 0)]
# Each token with 20 alternatives: hundreds of bytes, so a stream outgrows the window within a few
# hundred tokens even when a writer that falls behind merges its tokens into one message (a token
# alone is a byte or so: the window would then hold tens of thousands of them, and a loaded machine
# would see the stream run on past the call's deadline instead of stalling).
TOP_LOGPROBS = 20


@pytest.mark.parametrize("writer", ["keeps up", "falls behind"])
async def test_streams_nobody_reads_are_cancelled_and_others_are_served(
    writer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if writer == "falls behind":
        # As on a loaded machine: each write waits a little, so the tokens queued meanwhile go out
        # merged into one message (step_loop.COALESCE_FROM), and a stream carries fewer bytes a token.
        async def slow_send(context: Any, message: Any, timeout_s: float) -> bool:
            await asyncio.sleep(0.01)
            return await slow_readers.send(context, message, timeout_s)

        monkeypatch.setattr(generation, "send", slow_send)
    backend = MockBackend(
        name="mock",
        context_length=LONG + 1000,
        # Steps of a fraction of a millisecond: the streams outgrow the client's window long before
        # they could end by themselves.
        behaviour=MockBehaviour(token_latency_s=0.0005),
        scheduler=SchedulerConfig(max_running=4),
    )
    running = await start_mock_server(backend=backend, stream_write_timeout_s=0.5, max_running=4)
    channel = grpc.aio.insecure_channel(running.target, options=STUBBORN_CLIENT)
    try:
        stub = generation_pb2_grpc.GenerationServiceStub(channel)
        request = generation_pb2.GenerateStreamRequest(
            input=build_input(
                prompt="x", max_new_tokens=LONG, min_new_tokens=LONG, logprobs=True, top_logprobs=TOP_LOGPROBS
            )
        )
        stalled = []
        for _ in range(4):  # every slot taken by a stream whose client reads one event, then nothing
            # A deadline well short of the test's timeout: a stream the server never ended would
            # show as DEADLINE_EXCEEDED, with the server's counts below to tell why.
            call = stub.GenerateStream(request, timeout=30)
            await call.read()
            stalled.append(call)
        # The slots come free: a well-behaved caller is served (before: it waited for ever).
        reply = await running.client.generate("y", max_new_tokens=5, timeout=30)
        assert reply.usage.completion_tokens == 5
        labels = {"rpc": "/autoglm.v1.GenerationService/GenerateStream"}
        registry = running.server.ops.metrics.registry
        # One freed slot served it; the server gives up on each stream at its own time. Reading one it
        # has not given up on yet would resume it (its client reads again), so wait for all four.
        for _ in range(200):
            if len(backend.cancelled) == 4:
                break
            await asyncio.sleep(0.1)
        for number, call in enumerate(stalled):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                while await call.read() is not grpc.aio.EOF:
                    pass
            cancels = registry.get_sample_value("autoglm_slow_reader_cancels_total", labels)
            assert caught.value.code() == grpc.StatusCode.CANCELLED, (
                f"stalled stream {number}: {caught.value.code()} {caught.value.details()!r}; "
                f"server: {cancels} slow-reader cancels, {len(backend.cancelled)} cancelled, "
                f"{len(backend.active)} active"
            )
        assert len(backend.cancelled) == 4 and not backend.active
        assert registry.get_sample_value("autoglm_slow_reader_cancels_total", labels) == 4
    finally:
        await channel.close()
        await running.client.close()
        await running.server.stop(grace_s=0)
