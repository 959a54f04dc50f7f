"""The agent loop through a real server: the mock "model" is scripted to call tools (Hermes format)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from autoglm.v1 import common_pb2, tool_pb2, tool_pb2_grpc
from autoglm_core.backends.base import BackendRequest
from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import RunningServer, start_mock_server
from tests.integration.auth_support import violations
from tests.tool_support import http_tool, local_http_server

CONVERT = {"value": 5, "from_unit": "km", "to_unit": "mile"}


def call(name: str = "convert_units", arguments: Any = None) -> str:
    body = {"name": name, "arguments": CONVERT if arguments is None else arguments}
    return f"<tool_call>\n{json.dumps(body)}\n</tool_call>"


class Recorder:
    """Wraps the mock's reply_text to keep every prompt the backend was given."""

    def __init__(self, running: RunningServer) -> None:
        self.prompts: list[str] = []
        backend = running.backend
        original = backend.reply_text

        def reply(request: BackendRequest) -> str:
            self.prompts.append(backend.tokenizer.decode(request.prompt_ids))
            return original(request)

        backend.reply_text = reply  # type: ignore[method-assign]


async def start(*script: str, constrained: bool = True, **settings: Any) -> tuple[RunningServer, Recorder]:
    behaviour = MockBehaviour(script=list(script), honour_constraints=constrained)
    running = await start_mock_server(behaviour, **settings)
    return running, Recorder(running)


async def register(running: RunningServer, tool: tool_pb2.Tool) -> None:
    await tool_pb2_grpc.ToolServiceStub(running.client.channel).RegisterTool(
        tool_pb2.RegisterToolRequest(tool=tool)
    )


async def stop(running: RunningServer) -> None:
    await running.client.close()
    await running.server.stop(grace_s=0)


@pytest.fixture
async def one_call() -> AsyncIterator[tuple[RunningServer, Recorder]]:
    running, recorder = await start("Let me convert that." + call(), "5 km is about 3.1 miles.")
    yield running, recorder
    await stop(running)


async def test_one_call_result_is_fed_back_and_reported(one_call: tuple[RunningServer, Recorder]) -> None:
    running, recorder = one_call
    response = await running.client.generate(
        "5 km in miles?", allowed_tools=["convert_units"], max_new_tokens=500
    )
    assert response.text == "Let me convert that.\n\n5 km is about 3.1 miles."
    assert response.finish_reason == common_pb2.FINISH_REASON_EOS
    [record] = response.tool_calls
    assert record.name == "convert_units" and record.id == "call_0" and not record.error
    assert json.loads(record.arguments_json) == CONVERT
    assert json.loads(record.result_json)["result"] == pytest.approx(3.106856, rel=1e-5)
    # Turn 1 saw the tool list; turn 2 also the call and its result, after the assistant message.
    first, second = recorder.prompts
    assert first.startswith('<|tools|>["convert_units"]')
    assert second.startswith(first.rsplit("<|assistant|>", 1)[0])
    assert '<|assistant|>Let me convert that.<tool_call>{"name": "convert_units"' in second
    assert '<|tool|>{"result": 3.106856, "unit": "mile", "value": 5, "from_unit": "km"}' in second
    # Usage adds up over both turns.
    scripts = ["Let me convert that." + call(), "5 km is about 3.1 miles."]
    assert response.usage.completion_tokens == sum(len(s.encode()) for s in scripts)
    assert response.usage.prompt_tokens == sum(len(p.encode()) for p in recorder.prompts)


async def test_stream_event_order_and_no_markup_in_content(one_call: tuple[RunningServer, Recorder]) -> None:
    running, _ = one_call
    events = [
        e async for e in running.client.stream("x", allowed_tools=["convert_units"], max_new_tokens=500)
    ]
    kinds = [e.WhichOneof("event") for e in events]
    compact = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert compact == [
        "content_delta",
        "tool_call_started",
        "tool_call_finished",
        "content_delta",
        "finished",
    ]
    started = next(e.tool_call_started for e in events if e.HasField("tool_call_started"))
    finished = next(e.tool_call_finished.call for e in events if e.HasField("tool_call_finished"))
    assert started.id == finished.id and started.name == finished.name == "convert_units"
    content = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
    assert content == "Let me convert that.\n\n5 km is about 3.1 miles."
    assert all("tool_call" not in e.content_delta.text and "{" not in e.content_delta.text for e in events)
    assert len([e for e in events if e.HasField("content_delta")]) > 10  # streamed byte by byte


async def test_two_calls_in_one_turn_run_in_parallel() -> None:
    running, recorder = await start(call("nap", {"seconds": 0.3}) + call("nap", {"seconds": 0.3}), "done")
    try:
        napping: list[int] = [0]
        most_at_once: list[int] = [0]

        async def nap(seconds: float) -> dict[str, float]:
            """Sleep for a while.

            Args:
                seconds: How long.
            """
            napping[0] += 1
            most_at_once[0] = max(most_at_once[0], napping[0])
            await asyncio.sleep(seconds)
            napping[0] -= 1
            return {"slept": seconds}

        running.server.container.tools().registry.add(nap)
        events = [e async for e in running.client.stream("x", allowed_tools=["nap"], max_new_tokens=500)]
        assert most_at_once == [2]  # the second call started before the first one ended
        kinds = [e.WhichOneof("event") for e in events if e.WhichOneof("event") != "content_delta"]
        assert kinds == ["tool_call_started"] * 2 + ["tool_call_finished"] * 2 + ["finished"]
        calls = [e.tool_call_finished.call for e in events if e.HasField("tool_call_finished")]
        assert [c.id for c in calls] == ["call_0", "call_1"] and not any(c.error for c in calls)
        assert recorder.prompts[1].count("<|tool|>") == 2
    finally:
        await stop(running)


async def test_invalid_arguments_become_an_error_the_model_sees() -> None:
    running, recorder = await start(
        # Unconstrained: a model whose calls are not held to the schema (no Hermes call grammar).
        call(arguments={"value": "five", "from_unit": "km"}),
        "Sorry, I could not.",
        constrained=False,
    )
    try:
        response = await running.client.generate("x", allowed_tools=["convert_units"], max_new_tokens=500)
        [record] = response.tool_calls
        assert record.error.startswith("invalid arguments") and record.result_json == ""
        assert "'to_unit' is a required property" in record.error
        assert '<|tool|>{"error": "invalid arguments' in recorder.prompts[1]
        assert response.text == "Sorry, I could not."
    finally:
        await stop(running)


async def test_unknown_and_malformed_calls_are_errors_fed_back() -> None:
    script = [call("launch_rockets", {}) + "<tool_call>{not json</tool_call>", "I cannot do that."]
    running, recorder = await start(*script, constrained=False)
    try:
        response = await running.client.generate("x", allowed_tools=["get_time"], max_new_tokens=500)
        unknown, malformed = response.tool_calls
        assert unknown.name == "launch_rockets" and unknown.error == "unknown tool 'launch_rockets'"
        assert malformed.name == "" and malformed.error.startswith("malformed tool call")
        assert recorder.prompts[1].count("<|tool|>") == 2
        assert response.text == "I cannot do that."
    finally:
        await stop(running)


async def test_unknown_allowed_tool_is_invalid_argument(one_call: tuple[RunningServer, Recorder]) -> None:
    running, recorder = one_call
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.client.generate("x", allowed_tools=["convert_units", "nope"])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "nope" in violations(caught.value)["input.allowed_tools"]
    assert recorder.prompts == []


async def test_max_tool_iterations_ends_with_tool_calls() -> None:
    running, recorder = await start(call(), max_tool_iterations=2)
    try:
        response = await running.client.generate("x", allowed_tools=["convert_units"], max_new_tokens=2000)
        assert response.finish_reason == common_pb2.FINISH_REASON_TOOL_CALLS
        assert [c.id for c in response.tool_calls] == ["call_0", "call_1", "call_2"]
        assert [bool(c.error) for c in response.tool_calls] == [False, False, True]
        assert "max_tool_iterations (2)" in response.tool_calls[2].error
        assert len(recorder.prompts) == 3 and response.text == ""
    finally:
        await stop(running)


async def test_reasoning_and_calls_with_thinking_on() -> None:
    running, _ = await start("I should convert.</think>\n\n" + call(), "Checked.</think>\n\nAbout 3.1 miles.")
    try:
        response = await running.client.generate(
            "x", allowed_tools=["convert_units"], thinking=True, max_new_tokens=500
        )
        assert response.reasoning == "I should convert.\nChecked."
        assert response.text == "About 3.1 miles." and len(response.tool_calls) == 1
        assert response.usage.reasoning_tokens > 0
    finally:
        await stop(running)


async def test_token_budget_covers_all_turns(one_call: tuple[RunningServer, Recorder]) -> None:
    running, recorder = one_call
    first_turn = len(("Let me convert that." + call()).encode())
    response = await running.client.generate(
        "x", allowed_tools=["convert_units"], max_new_tokens=first_turn + 5
    )
    assert response.usage.completion_tokens == first_turn + 5
    assert response.finish_reason == common_pb2.FINISH_REASON_LENGTH
    assert len(response.tool_calls) == 1 and len(recorder.prompts) == 2


async def test_http_tool_registered_over_grpc_is_called_by_the_model() -> None:
    with local_http_server() as base_url:
        running, recorder = await start(
            call("weather", {"city": "Tokyo"}), "It is sunny in Tokyo.", tool_allowlist=["127.0.0.1"]
        )
        try:
            tool = http_tool(base_url + "/weather/{city}", description="Current weather in a city.")
            await register(running, tool)
            response = await running.client.generate("x", allowed_tools=["weather"], max_new_tokens=500)
            [record] = response.tool_calls
            assert json.loads(record.result_json)["conditions"] == "sunny", record.error
            assert '"temperature_c": 26' in recorder.prompts[1]
        finally:
            await stop(running)


async def test_router_mode_calls_the_tool_before_generation() -> None:
    running, recorder = await start("About 3.1 miles.", tool_modes={"*": "router"}, tool_router="lexical")
    try:
        response = await running.client.generate(
            "Convert 5 km to miles", allowed_tools=["convert_units", "get_time"], max_new_tokens=100
        )
        [record] = response.tool_calls
        assert record.name == "convert_units" and not record.error
        assert json.loads(record.arguments_json) == {"value": 5.0, "from_unit": "km", "to_unit": "mile"}
        # One backend turn, whose prompt has no tool list but carries the result next to the question.
        [prompt] = recorder.prompts
        assert "<|tools|>" not in prompt
        # The result comes first with its unit named: the form a small model copies.
        assert "Convert 5 km to miles\n\nTool result: 3.11 mile (convert_units: value 5" in prompt
        assert response.text == "About 3.1 miles."

        events = [
            e async for e in running.client.stream("Convert 2 kg to pounds", allowed_tools=["convert_units"])
        ]
        kinds = [e.WhichOneof("event") for e in events]
        assert kinds[:2] == ["tool_call_started", "tool_call_finished"] and kinds[-1] == "finished"

        plain = await running.client.generate("Tell me a joke", allowed_tools=["convert_units"])
        assert len(plain.tool_calls) == 0
    finally:
        await stop(running)


async def test_choice_mode_lets_the_model_pick_the_tool_by_constrained_generation() -> None:
    choice = json.dumps({"tool": "convert_units", "arguments": CONVERT})
    running, recorder = await start(choice, "About 3.1 miles.", tool_modes={"*": "choice"})
    try:
        response = await running.client.generate(
            "Convert 5 km to miles", allowed_tools=["convert_units", "get_time"], max_new_tokens=100
        )
        [record] = response.tool_calls
        assert record.name == "convert_units" and not record.error
        assert json.loads(record.arguments_json) == CONVERT
        # Two backend turns: the selection prompt lists the tools; the answer's carries the result.
        selection, answer = recorder.prompts
        assert "Pick the tool" in selection and "- convert_units(value: number" in selection
        assert "- get_time(" in selection and "<|tools|>" not in answer
        assert "Convert 5 km to miles\n\nTool result: 3.11 mile" in answer
        assert response.text == "About 3.1 miles."
        # The selection turn is part of the usage.
        tokenizer = running.backend.tokenizer
        prompts = len(tokenizer.encode(selection)) + len(tokenizer.encode(answer))
        assert response.usage.prompt_tokens == prompts
        assert response.usage.completion_tokens == len(tokenizer.encode(choice)) + len(
            tokenizer.encode("About 3.1 miles.")
        )
    finally:
        await stop(running)


async def test_choice_mode_none_and_invented_arguments() -> None:
    # The model's "none" runs no tool; arguments the tool does not take are steered away by the
    # constraint, so the call still validates.
    invented = json.dumps({"tool": "get_time", "arguments": {"timezone": "UTC", "colour": "red"}})
    running, _ = await start(
        json.dumps({"tool": "none", "arguments": {}}),
        "A joke.",
        invented,
        "It is noon.",
        tool_modes={"*": "choice"},
    )
    try:
        plain = await running.client.generate("Tell me a joke", allowed_tools=["convert_units", "get_time"])
        assert len(plain.tool_calls) == 0 and plain.text == "A joke."
        timed = await running.client.generate("What time is it?", allowed_tools=["convert_units", "get_time"])
        [record] = timed.tool_calls
        assert record.name == "get_time" and not record.error, record
        assert "colour" not in json.loads(record.arguments_json)
    finally:
        await stop(running)


async def test_choice_mode_falls_back_to_the_router_when_a_tool_schema_cannot_be_compiled() -> None:
    running, recorder = await start(
        "About 3.1 miles.", tool_modes={"*": "choice"}, tool_router="lexical", tool_allowlist=["127.0.0.1"]
    )
    try:
        # A valid JSON Schema whose pattern (a look-behind) the grammar compiler cannot take.
        schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "(?<=a)b"}}}
        tool = http_tool(
            "http://127.0.0.1:9/{code}", "lookup_code", json.dumps(schema), description="Looks up a code."
        )
        await register(running, tool)
        response = await running.client.generate(
            "Convert 5 km to miles", allowed_tools=["convert_units", "lookup_code"], max_new_tokens=100
        )
        # No selection turn: the router picked the tool, and the answer turn is the only one.
        [record] = response.tool_calls
        assert record.name == "convert_units" and not record.error
        [prompt] = recorder.prompts
        assert "Pick the tool" not in prompt and "Tool result: 3.11 mile" in prompt
        assert response.text == "About 3.1 miles."
    finally:
        await stop(running)


async def _slow_tool_server(**settings: Any) -> tuple[RunningServer, Recorder, list[str]]:
    running, recorder = await start(call("nap", {"seconds": 5}), "done", **settings)
    log: list[str] = []

    async def nap(seconds: float) -> dict[str, float]:
        """Sleep for a while.

        Args:
            seconds: How long.
        """
        log.append("started")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        return {"slept": seconds}

    running.server.container.tools().registry.add(nap)
    return running, recorder, log


async def test_time_limit_also_bounds_the_tools() -> None:
    running, recorder, log = await _slow_tool_server()
    try:
        began = time.monotonic()
        response = await running.client.generate(
            "x", allowed_tools=["nap"], max_new_tokens=500, time_limit_ms=400
        )
        assert time.monotonic() - began < 2
        assert response.finish_reason == common_pb2.FINISH_REASON_TIME_LIMIT
        assert response.tool_calls[0].error.startswith("timed out")
        assert len(recorder.prompts) == 1 and log == ["started", "cancelled"]
    finally:
        await stop(running)


async def test_cancelling_the_call_cancels_running_tools() -> None:
    running, _, log = await _slow_tool_server()
    try:
        stream = running.client.stream("x", allowed_tools=["nap"], max_new_tokens=500)
        async for event in stream:  # type: ignore[attr-defined]
            if event.HasField("tool_call_started"):
                break
        await asyncio.sleep(0.1)
        stream.cancel()  # type: ignore[attr-defined]
        deadline = time.monotonic() + 3
        while log != ["started", "cancelled"] and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert log == ["started", "cancelled"]
    finally:
        await stop(running)
