"""Structured output served end to end by the real default model: over gRPC (the runtime's batched
sampler applies the constraint) and over the OpenAI-compatible HTTP API through the official SDK.
Every answer must parse and validate against the schema asked for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import openai
import pytest

from autoglm.v1 import common_pb2
from autoglm_client import AsyncAutoGLMClient
from autoglm_server.app import AutoGLMServer
from autoglm_server.server_settings import ServerSettings

pytestmark = pytest.mark.model

# Every string is short and plain, so a document is at most about 200 tokens whatever the model
# writes (a greedy small model otherwise fills long strings with repeated syllables).
NAME = {"type": "string", "maxLength": 30, "pattern": "^[A-Za-z ,.'-]*$"}
CITY = {
    "type": "object",
    "properties": {
        "city": NAME,
        "country": NAME,
        "population_millions": {"type": "integer", "minimum": 0, "maximum": 100},
        "landmarks": {"type": "array", "items": NAME, "maxItems": 3},
        "capital": {"type": "boolean"},
    },
    "required": ["city", "country", "population_millions", "landmarks", "capital"],
    "additionalProperties": False,
}
COLOUR = {
    "type": "object",
    "properties": {"colour": {"enum": ["red", "green", "blue"]}, "score": {"type": "integer"}},
    "required": ["colour", "score"],
    "additionalProperties": False,
}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[AsyncAutoGLMClient, openai.AsyncOpenAI]]:
    settings = ServerSettings(
        backend="transformers",
        port=0,
        http_port=0,
        data_dir=tmp_path,
        metrics_port=0,
        embedder="lexical",
        max_running=4,
        grace_period_s=1,
    )
    server = AutoGLMServer(settings)
    await server.start()
    assert server.http is not None
    client = AsyncAutoGLMClient(f"127.0.0.1:{server.port}", timeout=300)
    sdk = openai.AsyncOpenAI(
        base_url=f"http://127.0.0.1:{server.http.port}/v1", api_key="unused", max_retries=0, timeout=300
    )
    yield client, sdk
    await sdk.close()
    await client.close()
    await server.stop(grace_s=0)


def _valid(text: str, schema: dict[str, Any]) -> Any:
    value = json.loads(text)
    jsonschema.validate(value, schema)
    return value


async def test_grpc_json_schema_answers_validate_in_one_batch(
    served: tuple[AsyncAutoGLMClient, openai.AsyncOpenAI],
) -> None:
    client, _ = served
    prompts = ["Describe Paris.", "Describe Tokyo.", "Describe a small town in Peru."]
    constrained = [
        client.generate(p, response_format=CITY, max_new_tokens=160, temperature=0) for p in prompts
    ]
    # A free request shares the batch with the constrained ones.
    free = client.generate("Describe Paris.", max_new_tokens=24, temperature=0)
    *replies, plain = await asyncio.gather(*constrained, free)
    for reply in replies:
        assert reply.finish_reason == common_pb2.FINISH_REASON_EOS and not reply.incomplete, reply.text
        _valid(reply.text, CITY)
    assert not plain.text.lstrip().startswith("{")
    # Streamed: every prefix is the start of the document the final text completes.
    events = [e async for e in client.stream("Pick a colour.", response_format=COLOUR, max_new_tokens=40)]
    text = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
    assert (
        events[-1].finished.finish_reason == common_pb2.FINISH_REASON_EOS
        and not events[-1].finished.incomplete
    )
    _valid(text, COLOUR)


async def test_openai_sdk_json_schema_and_json_object_validate(
    served: tuple[AsyncAutoGLMClient, openai.AsyncOpenAI],
) -> None:
    _, sdk = served
    messages: Any = [{"role": "user", "content": "Describe Paris as JSON."}]
    chat = await sdk.chat.completions.create(
        model="openautoglm-base-v1",
        messages=messages,
        max_tokens=160,
        temperature=0,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": CITY, "strict": True},
        },
    )
    assert chat.choices[0].finish_reason == "stop"
    _valid(chat.choices[0].message.content or "", CITY)

    # Streamed chunks concatenate into a valid document.
    stream = await sdk.chat.completions.create(
        model="openautoglm-base-v1",
        messages=[{"role": "user", "content": "Pick a colour."}],
        max_tokens=40,
        response_format={"type": "json_schema", "json_schema": {"name": "colour", "schema": COLOUR}},
        stream=True,
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    _valid("".join(pieces), COLOUR)

    anything = await sdk.chat.completions.create(
        model="openautoglm-base-v1",
        messages=messages,
        max_tokens=40,
        response_format={"type": "json_object"},
    )
    if anything.choices[0].finish_reason == "stop":  # a free object may run past max_tokens
        assert isinstance(json.loads(anything.choices[0].message.content or ""), dict)
    else:
        assert (anything.choices[0].message.content or "").startswith("{")

    response = await sdk.responses.create(
        model="openautoglm-base-v1",
        input="Pick a colour for a car and rate it.",
        max_output_tokens=40,
        temperature=0,
        text={"format": {"type": "json_schema", "name": "colour", "schema": COLOUR, "strict": True}},
    )
    assert response.status == "completed"
    _valid(response.output_text, COLOUR)
