"""/v1/chat/completions through the official openai SDK against a live server (mock backend)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import caller_ids
from tests.integration.openai_support import TIME, USER, WEATHER, eventually, http_server


async def test_chat_answers_as_grpc_does_for_the_same_request() -> None:
    async with http_server() as s:
        reply = await s.client.chat.completions.with_raw_response.create(
            model="mock", messages=USER, max_tokens=12, extra_headers={"x-request-id": "http-req-1"}
        )
        completion = reply.parse()
        grpc_reply = await s.running.client.generate(messages=USER, max_new_tokens=12)
    assert reply.headers["x-request-id"] == "http-req-1"
    choice = completion.choices[0]
    assert choice.message.content == grpc_reply.text
    assert choice.finish_reason == "length"
    assert completion.model == "mock"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 12
    assert completion.usage.prompt_tokens == grpc_reply.usage.prompt_tokens


async def test_streamed_chat_carries_the_same_text_and_usage_last() -> None:
    async with http_server() as s:
        unary = await s.client.chat.completions.create(model="mock", messages=USER, max_completion_tokens=20)
        stream = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            max_completion_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == unary.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert not chunks[-1].choices and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 20


async def test_reasoning_comes_in_both_fields_unary_and_streamed() -> None:
    async with http_server(MockBehaviour(reasoning_words=3)) as s:
        thinking = {"enable_thinking": True}
        reply = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=60, extra_body=thinking
        )
        stream = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=60, stream=True, reasoning_effort="high"
        )
        deltas = [c.choices[0].delta async for c in stream if c.choices]
        plain = await s.client.chat.completions.create(model="mock", messages=USER, max_tokens=60)
    message = reply.model_dump()["choices"][0]["message"]
    assert message["reasoning_content"] and message["reasoning_content"] == message["reasoning"]
    assert message["content"] and message["content"] not in message["reasoning_content"]
    streamed = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    assert streamed.strip() == message["reasoning_content"]
    assert plain.model_dump()["choices"][0]["message"]["reasoning_content"] is None


async def test_a_forced_tool_choice_makes_the_model_call_that_tool() -> None:
    # The turn is pre-filled with the call's opening: the "model" writes only the arguments.
    behaviour = MockBehaviour(script=['{"city": "Paris"}}\n</tool_call>'])
    async with http_server(behaviour) as s:
        reply = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            tools=[WEATHER, TIME],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


async def test_parallel_calls_stream_as_tool_call_deltas_unless_turned_off() -> None:
    calls = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
        '<tool_call>{"name": "get_time", "arguments": {"tz": "CET"}}</tool_call>'
    )
    async with http_server(MockBehaviour(script=[calls])) as s:
        stream = await s.client.chat.completions.create(
            model="mock", messages=USER, tools=[WEATHER, TIME], stream=True, max_tokens=200
        )
        chunks = [c async for c in stream]
        single = await s.client.chat.completions.create(
            model="mock", messages=USER, tools=[WEATHER, TIME], parallel_tool_calls=False, max_tokens=200
        )
    deltas = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or []]
    assert [(d.index, d.function and d.function.name) for d in deltas] == [
        (0, "get_weather"),
        (1, "get_time"),
    ]
    assert json.loads(deltas[1].function.arguments or "") == {"tz": "CET"}  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in single.choices[0].message.tool_calls or []] == ["get_weather"]


async def test_tool_results_sent_back_reach_the_model() -> None:
    def conversation(result: str) -> list[dict[str, object]]:
        call = {
            "id": "call_7",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        return [
            *USER,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_7", "content": result},
        ]

    async with http_server() as s:
        sunny = await s.client.chat.completions.create(
            model="mock",
            messages=conversation('{"sky": "sunny"}'),
            tools=[WEATHER],
            max_tokens=16,  # type: ignore[arg-type]
        )
        rainy = await s.client.chat.completions.create(
            model="mock",
            messages=conversation('{"sky": "rainy"}'),
            tools=[WEATHER],
            max_tokens=16,  # type: ignore[arg-type]
        )
    # The mock's answer is a function of its whole prompt: the tool result is in it.
    assert sunny.choices[0].finish_reason == "length"
    assert sunny.choices[0].message.content != rainy.choices[0].message.content


async def test_closing_a_stream_stops_its_generation() -> None:
    async with http_server(MockBehaviour(token_latency_s=0.05)) as s:
        stream = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=200, stream=True, extra_headers={"x-request-id": "gone-1"}
        )
        async for _chunk in stream:
            break
        await stream.close()
        backend = s.running.backend
        await eventually(lambda: "gone-1" in caller_ids(backend.cancelled))
        assert "gone-1" not in caller_ids(backend.finished)


async def test_a_client_timing_out_on_a_unary_call_stops_its_generation() -> None:
    async with http_server(MockBehaviour(token_latency_s=0.05)) as s:
        body = {"model": "mock", "messages": USER, "max_tokens": 200}
        async with httpx.AsyncClient(base_url=s.base_url, timeout=0.5) as raw:
            with pytest.raises(httpx.ReadTimeout):
                await raw.post("/chat/completions", json=body, headers={"x-request-id": "gone-2"})
        backend = s.running.backend
        await eventually(lambda: "gone-2" in caller_ids(backend.cancelled))


async def test_logprobs_seed_and_stop() -> None:
    async with http_server() as s:
        reply = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=30, logprobs=True, seed=7, temperature=0.8
        )
        again = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=30, logprobs=True, seed=7, temperature=0.8
        )
        text = reply.choices[0].message.content or ""
        word = text.split()[1]
        stopped = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=30, seed=7, temperature=0.8, stop=[word]
        )
    assert text == again.choices[0].message.content  # the same seed, the same sample
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.content
    # One entry per generated token (the mock's tokens are bytes: a Chinese character spans three).
    assert reply.usage is not None and len(logprobs.content) == reply.usage.completion_tokens
    assert all(t.logprob <= 0 for t in logprobs.content)
    assert stopped.choices[0].finish_reason == "stop"
    assert word not in (stopped.choices[0].message.content or "")


async def test_tool_choice_required_lets_the_model_pick_and_none_hides_the_tools() -> None:
    # "required" pre-fills the opening up to the name: the "model" writes the rest of the call.
    picked = 'get_time", "arguments": {"tz": "CET"}}\n</tool_call>'
    async with http_server(MockBehaviour(script=[picked])) as s:
        reply = await s.client.chat.completions.create(
            model="mock", messages=USER, tools=[WEATHER, TIME], tool_choice="required"
        )
    assert reply.choices[0].finish_reason == "tool_calls"
    assert [
        (c.function.name, json.loads(c.function.arguments)) for c in reply.choices[0].message.tool_calls or []
    ] == [("get_time", {"tz": "CET"})]
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    async with http_server(MockBehaviour(script=[call])) as s:
        hidden = await s.client.chat.completions.create(
            model="mock", messages=USER, tools=[WEATHER], tool_choice="none", max_tokens=200
        )
    # No tools shown, none parsed: what the model wrote is plain content.
    assert hidden.choices[0].finish_reason == "stop" and not hidden.choices[0].message.tool_calls
    assert hidden.choices[0].message.content == call


async def test_server_tools_run_in_the_agent_loop_and_are_reported_apart() -> None:
    convert = {"name": "convert_units", "arguments": {"value": 5, "from_unit": "km", "to_unit": "mile"}}
    script = [f"<tool_call>\n{json.dumps(convert)}\n</tool_call>", "5 km is about 3.1 miles."]
    async with http_server(MockBehaviour(script=script)) as s:
        reply = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=500, extra_body={"allowed_tools": ["convert_units"]}
        )
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "stop" and not message.tool_calls
    assert message.content == "5 km is about 3.1 miles."
    [ran] = (message.model_extra or {})["server_tool_calls"]
    assert ran["name"] == "convert_units" and ran["error"] is None
    assert abs(ran["result"]["result"] - 3.107) < 0.01


async def test_a_turn_calling_server_and_client_tools_runs_the_server_one_and_hands_back() -> None:
    convert = {"name": "convert_units", "arguments": {"value": 5, "from_unit": "km", "to_unit": "mile"}}
    weather = {"name": "get_weather", "arguments": {"city": "Paris"}}
    script = [f"<tool_call>{json.dumps(convert)}</tool_call><tool_call>{json.dumps(weather)}</tool_call>"]
    async with http_server(MockBehaviour(script=script)) as s:
        reply = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            tools=[WEATHER],
            max_tokens=500,
            extra_body={"allowed_tools": ["convert_units"]},
        )
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in message.tool_calls or []] == ["get_weather"]
    [ran] = (message.model_extra or {})["server_tool_calls"]
    assert ran["name"] == "convert_units" and ran["result"]["result"] > 3


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


async def test_json_schema_and_json_object_constrain_the_answer() -> None:
    # The mock "model" would write prose around its JSON; the constraint keeps only the document.
    script = 'Sure! {"name": "Ada", "age": 36} Hope that helps.'
    async with http_server(MockBehaviour(script=[script])) as s:
        schema = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
        chat = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            max_tokens=100,
            response_format=schema,  # type: ignore[arg-type]
        )
        stream = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=100, response_format={"type": "json_object"}, stream=True
        )
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        cut = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            max_tokens=8,
            response_format=schema,  # type: ignore[arg-type]
        )
        response = await s.client.responses.create(
            model="mock",
            input="hi",
            max_output_tokens=100,
            text={"format": {"type": "json_schema", "name": "person", "schema": PERSON}},
        )
        free = await s.client.chat.completions.create(model="mock", messages=USER, max_tokens=100)
    assert json.loads(chat.choices[0].message.content or "") == {"name": "Ada", "age": 36}
    assert chat.choices[0].finish_reason == "stop"
    assert json.loads(streamed) == {"name": "Ada", "age": 36}
    assert cut.choices[0].finish_reason == "length" and cut.choices[0].message.content == '{"name":'
    assert json.loads(response.output_text) == {"name": "Ada", "age": 36}
    assert response.status == "completed" and response.text.format.type == "json_schema"
    assert free.choices[0].message.content == script


async def test_n_choices_are_sampled_together_with_their_own_seeds() -> None:
    async with http_server() as s:
        three = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=12, n=3, seed=5, temperature=0.9
        )
        alone = [
            await s.client.chat.completions.create(
                model="mock", messages=USER, max_tokens=12, seed=5 + i, temperature=0.9
            )
            for i in range(3)
        ]
        stream = await s.client.chat.completions.create(
            model="mock",
            messages=USER,
            max_tokens=12,
            n=3,
            seed=5,
            temperature=0.9,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        with pytest.raises(openai.BadRequestError) as caught:
            await s.client.chat.completions.create(
                model="mock", messages=USER, n=2, extra_body={"session_id": "s1"}
            )
    assert caught.value.param == "n"
    texts = [c.message.content for c in three.choices]
    assert [c.index for c in three.choices] == [0, 1, 2]
    # Choice i is what a request with seed + i gets alone; different seeds, different samples.
    assert texts == [a.choices[0].message.content for a in alone]
    assert len(set(texts)) == 3
    assert three.usage is not None and alone[0].usage is not None
    assert three.usage.completion_tokens == 36
    assert three.usage.prompt_tokens == alone[0].usage.prompt_tokens
    # Streamed: each choice's deltas carry its index and end with its own finish reason.
    streamed = {
        i: "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].index == i)
        for i in range(3)
    }
    assert [streamed[i].strip() for i in range(3)] == texts
    finishes = [c.choices[0] for c in chunks if c.choices and c.choices[0].finish_reason]
    assert sorted(f.index for f in finishes) == [0, 1, 2]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 36


async def test_top_logprobs_list_the_alternatives_unary_and_streamed() -> None:
    async with http_server(MockBehaviour(script=["Hi there"])) as s:
        reply = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=10, logprobs=True, top_logprobs=3
        )
        stream = await s.client.chat.completions.create(
            model="mock", messages=USER, max_tokens=10, logprobs=True, top_logprobs=2, stream=True
        )
        streamed = [
            t
            for c in [c async for c in stream]
            if c.choices and c.choices[0].logprobs
            for t in c.choices[0].logprobs.content or []
        ]
        with pytest.raises(openai.BadRequestError) as without:
            await s.client.chat.completions.create(model="mock", messages=USER, top_logprobs=2)
        with pytest.raises(openai.BadRequestError) as too_many:
            await s.client.chat.completions.create(
                model="mock", messages=USER, logprobs=True, top_logprobs=21
            )
    assert without.value.param == "top_logprobs" and too_many.value.param == "top_logprobs"
    assert reply.choices[0].logprobs is not None
    content = reply.choices[0].logprobs.content or []
    assert "".join(t.token for t in content) == "Hi there"
    for token in content:
        # The mock's made-up alternatives: the chosen byte first, then the bytes after it.
        assert [t.token for t in token.top_logprobs] == [
            token.token,
            chr(ord(token.token) + 1),
            chr(ord(token.token) + 2),
        ]
        assert [t.logprob for t in token.top_logprobs] == [-0.5, -1.5, -2.5]
    assert [[t.token for t in token.top_logprobs] for token in streamed] == [
        [t.token for t in token.top_logprobs[:2]] for token in content
    ]
