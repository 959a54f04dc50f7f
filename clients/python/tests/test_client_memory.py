"""MemoryService through the client: sessions kept by generation, and the knowledge cache."""

from __future__ import annotations

import uuid

import pytest
from conftest import LiveServer

from autoglm.v1 import common_pb2
from autoglm_client import AsyncAutoGLMClient, AutoGLMClient, errors


def test_sessions_are_kept_listed_and_deleted(server: LiveServer) -> None:
    session_id = f"s-{uuid.uuid4().hex[:8]}"
    with AutoGLMClient(server.target, timeout=30) as client:
        client.generate("My name is Ada.", session_id=session_id, max_new_tokens=4)
        session = client.get_session(session_id)
        assert [m.role for m in session.messages] == [common_pb2.ROLE_USER, common_pb2.ROLE_ASSISTANT]
        assert session.messages[0].content == "My name is Ada."
        assert session_id in [s.session_id for s in client.iter_sessions(page_size=1)]
        assert client.list_sessions(page_size=1).sessions
        client.delete_session(session_id)
        with pytest.raises(errors.NotFound):
            client.get_session(session_id)


def test_knowledge_add_search_delete(server: LiveServer) -> None:
    fact = f"The {uuid.uuid4().hex[:6]} river flows through Zorbania."
    with AutoGLMClient(server.target, timeout=30) as client:
        entry = client.add_knowledge(fact, metadata={"source": "atlas"})
        assert entry.entry_id and entry.metadata["source"] == "atlas"
        matches = client.search_knowledge("Which river flows through Zorbania?", limit=3)
        assert matches and matches[0].entry.entry_id == entry.entry_id and matches[0].score > 0
        client.delete_knowledge(entry.entry_id)
        assert entry.entry_id not in [m.entry.entry_id for m in client.search_knowledge("Zorbania river")]
        with pytest.raises(errors.NotFound):
            client.delete_knowledge(entry.entry_id)
        with pytest.raises(errors.InvalidArgument) as raised:
            client.add_knowledge("")
        assert [path for path, _ in raised.value.field_violations] == ["text"]


async def test_async_memory(server: LiveServer) -> None:
    session_id = f"a-{uuid.uuid4().hex[:8]}"
    async with AsyncAutoGLMClient(server.target, timeout=30) as client:
        await client.generate("hello", session_id=session_id, max_new_tokens=2)
        assert len((await client.get_session(session_id)).messages) == 2
        assert session_id in [s.session_id async for s in client.iter_sessions()]
        assert (await client.list_sessions()).sessions
        await client.delete_session(session_id)
        entry = await client.add_knowledge("Quokkas live on Rottnest Island.")
        assert (await client.search_knowledge("Where do quokkas live?"))[0].entry.entry_id == entry.entry_id
        await client.delete_knowledge(entry.entry_id)
