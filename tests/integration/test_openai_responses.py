"""/v1/responses through the official openai SDK against a live server (mock backend): stored
responses continued by previous_response_id, per user; streaming events; client tools; cancel."""

from __future__ import annotations

import json

import openai
import pytest

from autoglm_core.backends.mock import MockBehaviour
from tests.conftest import caller_ids
from tests.integration.openai_support import eventually, http_server

ADMIN_KEY = "test-admin-secret-0123"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


async def test_previous_response_id_continues_the_stored_conversation() -> None:
    async with http_server() as s:
        first = await s.client.responses.create(model="mock", input="Name a colour.", max_output_tokens=12)
        follow = await s.client.responses.create(
            model="mock", input="And another?", previous_response_id=first.id, max_output_tokens=12
        )
        fresh = await s.client.responses.create(model="mock", input="And another?", max_output_tokens=12)
        # Stated by hand, the same conversation gets the same answer as the continued one.
        by_hand = await s.client.responses.create(
            model="mock",
            input=[
                {"role": "user", "content": "Name a colour."},
                {"role": "assistant", "content": first.output_text},
                {"role": "user", "content": "And another?"},
            ],
            max_output_tokens=12,
        )
        stored = await s.client.responses.retrieve(follow.id)
        await s.client.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            await s.client.responses.retrieve(first.id)
    assert first.output_text and first.status == "incomplete"  # cut by max_output_tokens
    assert follow.previous_response_id == first.id
    assert follow.output_text == by_hand.output_text != fresh.output_text
    assert follow.usage is not None and fresh.usage is not None
    assert follow.usage.input_tokens > fresh.usage.input_tokens
    assert stored.id == follow.id and stored.output_text == follow.output_text


async def test_stored_responses_belong_to_their_user() -> None:
    async with http_server(auth_enabled=True, admin_key=ADMIN_KEY) as s:
        users = s.running.server.container.users()
        secrets = []
        for name in ("alice", "bob"):
            user = await users.create(name, 30)
            secrets.append((await users.create_key(user.user_id))[1])
        async with s.sdk(secrets[0]) as alice, s.sdk(secrets[1]) as bob:
            mine = await alice.responses.create(model="mock", input="Hello", max_output_tokens=8)
            with pytest.raises(openai.NotFoundError):
                await bob.responses.retrieve(mine.id)
            with pytest.raises(openai.BadRequestError) as caught:
                await bob.responses.create(model="mock", input="Hi", previous_response_id=mine.id)
            assert (await alice.responses.retrieve(mine.id)).id == mine.id
    assert caught.value.param == "previous_response_id"


async def test_streamed_events_build_the_same_response() -> None:
    # With thinking on, the prompt opens a reasoning block: the "model" closes it, then answers.
    async with http_server(
        MockBehaviour(script=["\nLight scatters.\n</think>\n\nBecause of Rayleigh scattering."])
    ) as s:
        stream = await s.client.responses.create(
            model="mock", input="Why?", max_output_tokens=60, stream=True, reasoning={"effort": "high"}
        )
        events = [event async for event in stream]
        stored = await s.client.responses.retrieve(events[-1].response.id)  # type: ignore[union-attr]
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response  # type: ignore[union-attr]
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")  # type: ignore[union-attr]
    assert text.strip() == final.output_text == stored.output_text
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].content[0].text == "Light scatters."  # type: ignore[union-attr,index]
    assert final.output_text == "Because of Rayleigh scattering."


async def test_a_client_function_call_and_its_output() -> None:
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    async with http_server(MockBehaviour(script=[call, "It is sunny in Paris."])) as s:
        first = await s.client.responses.create(
            model="mock",
            input="Weather in Paris?",
            tools=[WEATHER],
            max_output_tokens=200,  # type: ignore[list-item]
        )
        [item] = first.output
        assert item.type == "function_call"
        assert item.name == "get_weather" and json.loads(item.arguments) == {"city": "Paris"}
        second = await s.client.responses.create(
            model="mock",
            previous_response_id=first.id,
            input=[{"type": "function_call_output", "call_id": item.call_id, "output": '{"sky": "sunny"}'}],
            tools=[WEATHER],  # type: ignore[list-item]
        )
    assert second.output_text == "It is sunny in Paris."


async def test_cancel_stops_a_streaming_response() -> None:
    async with http_server(MockBehaviour(token_latency_s=0.05)) as s:
        stream = await s.client.responses.create(
            model="mock",
            input="Tell a long story",
            max_output_tokens=300,
            stream=True,
            extra_headers={"x-request-id": "story-1"},
        )
        events = []
        async for event in stream:
            events.append(event)
            if event.type == "response.output_text.delta" and len(events) == 8:
                await s.client.responses.cancel(events[0].response.id)  # type: ignore[union-attr]
        backend = s.running.backend
        await eventually(lambda: "story-1" in caller_ids(backend.cancelled))
        stored = await s.client.responses.retrieve(events[0].response.id)  # type: ignore[union-attr]
    assert events[-1].response.status == stored.status == "cancelled"  # type: ignore[union-attr]
    assert sum(e.type == "response.output_text.delta" for e in events) < 300
