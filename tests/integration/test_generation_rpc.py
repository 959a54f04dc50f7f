"""GenerationService through a real server and channel, on the mock backend."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from autoglm.v1 import common_pb2, generation_pb2
from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import RunningServer, caller_ids, start_mock_server


async def test_generate_is_deterministic_and_reports_usage(mock_server: RunningServer) -> None:
    first = await mock_server.client.generate("hello", max_new_tokens=20)
    second = await mock_server.client.generate("hello", max_new_tokens=20)
    assert first.text and first.text == second.text
    assert first.usage.completion_tokens == 20
    assert first.usage.prompt_tokens > len("hello")
    assert first.finish_reason == common_pb2.FINISH_REASON_LENGTH
    assert first.model.name == "mock" and first.model.version == "1.0.0"
    assert first.request_id and first.request_id != second.request_id


async def test_request_id_from_metadata_is_echoed(mock_server: RunningServer) -> None:
    response = await mock_server.client.generate("hi", max_new_tokens=3, request_id="req-42")
    assert response.request_id == "req-42"


async def test_stream_matches_unary_and_ends_with_finished(mock_server: RunningServer) -> None:
    unary = await mock_server.client.generate("stream me", max_new_tokens=40)
    events = [e async for e in mock_server.client.stream("stream me", max_new_tokens=40)]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-1] == "finished" and kinds.count("finished") == 1
    text = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
    assert text.strip() == unary.text
    assert events[-1].finished.usage.completion_tokens == 40
    assert len({e.request_id for e in events}) == 1


async def test_multibyte_characters_are_never_split_in_deltas(mock_server: RunningServer) -> None:
    # The mock tokenizer is byte-level, so each Chinese character / emoji spans 3-4 tokens.
    mock_server.backend.behaviour.script = ["模型服务 🙂 ok 北京"]
    deltas = [
        e.content_delta.text
        async for e in mock_server.client.stream("x", max_new_tokens=100)
        if e.HasField("content_delta")
    ]
    assert "".join(deltas) == "模型服务 🙂 ok 北京"
    assert all("\ufffd" not in d for d in deltas)
    assert len(deltas) > 5  # really streamed, not one blob


async def test_eos_finish_reason(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["short answer"]
    response = await mock_server.client.generate("x", max_new_tokens=100)
    assert response.text == "short answer"
    assert response.finish_reason == common_pb2.FINISH_REASON_EOS


async def test_min_new_tokens_keeps_a_short_answer_going(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["short answer"]
    response = await mock_server.client.generate("x", max_new_tokens=30, min_new_tokens=30)
    assert response.text.startswith("short answer ") and response.usage.completion_tokens == 30
    assert response.finish_reason == common_pb2.FINISH_REASON_LENGTH
    # A minimum the answer already reaches changes nothing.
    response = await mock_server.client.generate("x", max_new_tokens=30, min_new_tokens=3)
    assert response.text == "short answer" and response.finish_reason == common_pb2.FINISH_REASON_EOS


async def test_stop_sequence_cuts_output_and_never_leaks(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["one two STOP three"]
    events = [e async for e in mock_server.client.stream("x", max_new_tokens=100, stop=["STOP"])]
    text = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
    assert text == "one two "
    assert events[-1].finished.finish_reason == common_pb2.FINISH_REASON_STOP_SEQUENCE
    assert events[-1].finished.stop_sequence == "STOP"
    # The backend was told to stop: it did not run to the end of its script.
    assert mock_server.backend.cancelled == [events[-1].request_id]


async def test_partial_stop_sequence_at_the_end_is_output(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["value ST"]
    response = await mock_server.client.generate("x", max_new_tokens=100, stop=["STOP"])
    assert response.text == "value ST"
    assert response.finish_reason == common_pb2.FINISH_REASON_EOS


async def test_thinking_splits_reasoning_from_answer(mock_server: RunningServer) -> None:
    events = [e async for e in mock_server.client.stream("why?", max_new_tokens=150, thinking=True)]
    reasoning = "".join(e.reasoning_delta.text for e in events if e.HasField("reasoning_delta"))
    answer = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
    assert reasoning.strip() and answer.strip()
    assert "think>" not in reasoning + answer
    assert events[-1].finished.usage.reasoning_tokens > 0

    unary = await mock_server.client.generate("why?", max_new_tokens=150, thinking=True)
    assert unary.reasoning == reasoning.strip() and unary.text == answer.strip()
    assert unary.reasoning_steps


async def test_thinking_off_leaks_no_reasoning(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["<think>secret plan</think>\n\nthe answer"]
    response = await mock_server.client.generate("x", max_new_tokens=100)
    assert response.text == "the answer" and response.reasoning == ""


async def test_logprobs_when_asked(mock_server: RunningServer) -> None:
    response = await mock_server.client.generate("x", max_new_tokens=5, logprobs=True)
    assert len(response.logprobs) == 5
    assert all(lp.logprob == pytest.approx(-0.5) for lp in response.logprobs)
    plain = await mock_server.client.generate("x", max_new_tokens=5)
    assert len(plain.logprobs) == 0
    assert all(not lp.top_logprobs for lp in response.logprobs)


async def test_top_logprobs_list_the_alternatives_unary_and_streamed(mock_server: RunningServer) -> None:
    reply = await mock_server.client.generate("x", max_new_tokens=5, logprobs=True, top_logprobs=3)
    for lp in reply.logprobs:
        # The mock's made-up alternatives: the chosen token first, then the ids after it.
        assert [t.token_id for t in lp.top_logprobs] == [lp.token_id, lp.token_id + 1, lp.token_id + 2]
        assert lp.top_logprobs[0].token == lp.token
        assert [t.logprob for t in lp.top_logprobs] == pytest.approx([-0.5, -1.5, -2.5])
    events = [
        e async for e in mock_server.client.stream("x", max_new_tokens=5, logprobs=True, top_logprobs=2)
    ]
    streamed = [lp for e in events if e.HasField("content_delta") for lp in e.content_delta.logprobs]
    assert [[t.token_id for t in lp.top_logprobs] for lp in streamed] == [
        [t.token_id for t in lp.top_logprobs[:2]] for lp in reply.logprobs
    ]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("x", logprobs=True, top_logprobs=21)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "response.top_logprobs" in (caught.value.details() or "")


async def test_seed_is_reported_and_reproduces(mock_server: RunningServer) -> None:
    a = await mock_server.client.generate("x", max_new_tokens=10, temperature=0.8, seed=7)
    b = await mock_server.client.generate("x", max_new_tokens=10, temperature=0.8, seed=7)
    c = await mock_server.client.generate("x", max_new_tokens=10, temperature=0.8, seed=8)
    assert a.seed == 7 and a.text == b.text and a.text != c.text


async def test_chat_conversation_input(mock_server: RunningServer) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    response = await mock_server.client.generate(messages=messages, max_new_tokens=4)
    plain = await mock_server.client.generate("hi", max_new_tokens=4)
    assert response.usage.prompt_tokens > plain.usage.prompt_tokens


async def test_tokenize(mock_server: RunningServer) -> None:
    response = await mock_server.client.tokenize("héllo")
    assert len(response.token_ids) == len("héllo".encode())
    assert response.tokens[0] == "h"


async def test_time_limit_returns_partial_output() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.02))
    try:
        response = await running.client.generate("x", max_new_tokens=500, time_limit_ms=200)
        assert response.finish_reason == common_pb2.FINISH_REASON_TIME_LIMIT
        assert 0 < response.usage.completion_tokens < 500
        assert running.backend.cancelled == [response.request_id]
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def _eventually(condition: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_cancelled_stream_stops_the_backend() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.02))
    try:
        call = running.client.stream("x", max_new_tokens=1000, request_id="to-cancel")
        received = 0
        async for _ in call:  # type: ignore[attr-defined]
            received += 1
            if received == 3:
                break
        call.cancel()  # type: ignore[attr-defined]
        await _eventually(lambda: "to-cancel" in caller_ids(running.backend.cancelled))
        assert not running.backend.active
        # The server keeps serving.
        assert (await running.client.generate("y", max_new_tokens=2)).usage.completion_tokens == 2
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_deadline_exceeded_stops_the_backend() -> None:
    running = await start_mock_server(MockBehaviour(token_latency_s=0.02))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.client.generate("x", max_new_tokens=1000, timeout=0.3, request_id="slow")
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await _eventually(lambda: "slow" in caller_ids(running.backend.cancelled))
        assert not running.backend.active
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_backend_failure_is_unavailable_and_server_survives(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.fail_after_tokens = 2
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("x", max_new_tokens=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "failure injected" in (caught.value.details() or "")
    mock_server.backend.behaviour.fail_after_tokens = None
    assert (await mock_server.client.generate("x", max_new_tokens=2)).usage.completion_tokens == 2


async def test_generate_raw_stub_with_empty_request(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generation.Generate(generation_pb2.GenerateRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
