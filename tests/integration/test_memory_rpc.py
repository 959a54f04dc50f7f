"""Sessions, knowledge and prompt templates through a real server on the mock backend."""

from __future__ import annotations

import grpc
import pytest

from autoglm.v1 import common_pb2, generation_pb2, memory_pb2
from autoglm_client.client import build_input
from tests.conftest import RunningServer
from tests.integration.auth_support import memory_stub, violations


def _request(prompt: str, template: str = "", **options: object) -> generation_pb2.GenerateRequest:
    given = build_input(prompt, max_new_tokens=32, **options)  # type: ignore[arg-type]
    given.prompt_template = template
    return generation_pb2.GenerateRequest(input=given)


async def test_a_session_continues_the_conversation(mock_server: RunningServer) -> None:
    mock_server.backend.behaviour.script = ["Paris.", "About two million.", "Yes."]
    generation = mock_server.client.generation
    memory = memory_stub(mock_server.client.channel)
    first = await generation.Generate(_request("Capital of France?", session_id="trip"))
    second = await generation.Generate(_request("How many people live there?", session_id="trip"))
    assert second.usage.prompt_tokens > first.usage.prompt_tokens + len("Capital of France?Paris.")
    # The streaming path stores its turn too.
    events = [
        e
        async for e in mock_server.client.generation.GenerateStream(
            generation_pb2.GenerateStreamRequest(input=_request("Sure?", session_id="trip").input)
        )
    ]
    assert events[-1].finished.usage.prompt_tokens > second.usage.prompt_tokens
    session = (await memory.GetSession(memory_pb2.GetSessionRequest(session_id="trip"))).session
    assert [(m.role, m.content) for m in session.messages] == [
        (common_pb2.ROLE_USER, "Capital of France?"),
        (common_pb2.ROLE_ASSISTANT, "Paris."),
        (common_pb2.ROLE_USER, "How many people live there?"),
        (common_pb2.ROLE_ASSISTANT, "About two million."),
        (common_pb2.ROLE_USER, "Sure?"),
        (common_pb2.ROLE_ASSISTANT, "Yes."),
    ]
    assert session.update_time > 0
    listed = await memory.ListSessions(memory_pb2.ListSessionsRequest())
    assert [s.session_id for s in listed.sessions] == ["trip"] and not listed.sessions[0].messages
    await memory.DeleteSession(memory_pb2.DeleteSessionRequest(session_id="trip"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await memory.GetSession(memory_pb2.GetSessionRequest(session_id="trip"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # A stateless call stores nothing.
    await generation.Generate(_request("no session"))
    assert not (await memory.ListSessions(memory_pb2.ListSessionsRequest())).sessions


async def test_knowledge_search_ranks_and_feeds_prompts(mock_server: RunningServer) -> None:
    memory = memory_stub(mock_server.client.channel)
    texts = [
        "The office Wi-Fi password is rotated every Monday.",
        "Our cafeteria serves dumplings on Fridays.",
        "The quarterly report is due on the 5th of April.",
    ]
    before = await mock_server.client.generation.Generate(_request("When is the quarterly report due?"))
    ids = []
    for text in texts:
        added = await memory.AddKnowledge(memory_pb2.AddKnowledgeRequest(text=text, metadata={"src": "wiki"}))
        assert added.entry.text == text and added.entry.metadata["src"] == "wiki" and added.entry.entry_id
        ids.append(added.entry.entry_id)
    found = await memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="quarterly report due date"))
    assert found.matches[0].entry.entry_id == ids[2]
    assert [m.score for m in found.matches] == sorted((m.score for m in found.matches), reverse=True)
    one = await memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="dumplings Friday", limit=1))
    assert [m.entry.entry_id for m in one.matches] == [ids[1]]
    after = await mock_server.client.generation.Generate(_request("When is the quarterly report due?"))
    assert after.usage.prompt_tokens > before.usage.prompt_tokens + len(texts[2])
    await memory.DeleteKnowledge(memory_pb2.DeleteKnowledgeRequest(entry_id=ids[2]))
    again = await mock_server.client.generation.Generate(_request("When is the quarterly report due?"))
    assert again.usage.prompt_tokens == before.usage.prompt_tokens
    for call, field in (
        (memory.AddKnowledge(memory_pb2.AddKnowledgeRequest(text="  ")), "text"),
        (memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="")), "query"),
        (memory.SearchKnowledge(memory_pb2.SearchKnowledgeRequest(query="x", limit=500)), "limit"),
        (memory.GetSession(memory_pb2.GetSessionRequest()), "session_id"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in violations(caught.value)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await memory.DeleteKnowledge(memory_pb2.DeleteKnowledgeRequest(entry_id=ids[2]))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("prompt", "template", "used"),
    [
        # By default the model family's profile decides: the mock's (generic) keeps its own prompt.
        ("What is the capital of France?", "", ""),
        ("What is the capital of France?", "auto", "qa"),
        ("请把这段话翻译成英文：你好", "auto", "translate"),
        ("Summarize: the meeting moved to Tuesday.", "auto", "summarize"),
        ("Fix this Python traceback", "auto", "code"),
        ("hello!", "auto", "chat"),
        ("What is the capital of France?", "translate", "translate"),
        ("What is the capital of France?", "none", ""),
    ],
)
async def test_prompt_template_choice_and_override(
    mock_server: RunningServer, prompt: str, template: str, used: str
) -> None:
    response = await mock_server.client.generation.Generate(_request(prompt, template))
    assert response.prompt_template == used
    stream = mock_server.client.generation.GenerateStream(
        generation_pb2.GenerateStreamRequest(input=_request(prompt, template).input)
    )
    events = [e async for e in stream]
    assert events[-1].finished.prompt_template == used


async def test_unknown_prompt_template_is_invalid_argument(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generation.Generate(_request("hi", "sonnet"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sonnet" in violations(caught.value)["input.prompt_template"]


async def test_knowledge_never_pushes_a_short_prompt_over_the_context(mock_server: RunningServer) -> None:
    memory = memory_stub(mock_server.client.channel)
    # Three relevant notes of 1,500 characters each: more than the mock's 4,096-token context.
    for i in range(3):
        text = f"Quarterly report note {i}: " + "the quarterly report is due in April. " * 40
        await memory.AddKnowledge(memory_pb2.AddKnowledgeRequest(text=text))
    alone = await mock_server.client.generate("x", max_new_tokens=32)
    reply = await mock_server.client.generation.Generate(_request("When is the quarterly report due?"))
    assert reply.usage.completion_tokens > 0  # served, with as many notes as fit
    assert alone.usage.prompt_tokens + 1500 < reply.usage.prompt_tokens < 4096 - 32
