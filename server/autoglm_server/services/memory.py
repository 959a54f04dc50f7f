"""autoglm.v1.MemoryService: every call acts on the caller's own sessions and knowledge."""

from __future__ import annotations

from typing import Any

import grpc

from autoglm.v1 import common_pb2, memory_pb2, memory_pb2_grpc
from autoglm_core.memory.knowledge import KnowledgeEntry, KnowledgeStore
from autoglm_core.memory.sessions import SessionInfo, SessionStore
from autoglm_server.auth import current_caller
from autoglm_server.errors import unary_errors

Context = grpc.aio.ServicerContext[Any, Any]

_ROLES = {
    "system": common_pb2.ROLE_SYSTEM,
    "user": common_pb2.ROLE_USER,
    "assistant": common_pb2.ROLE_ASSISTANT,
    "tool": common_pb2.ROLE_TOOL,
}


def session_to_proto(session: SessionInfo) -> memory_pb2.Session:
    return memory_pb2.Session(
        session_id=session.session_id,
        user_id=session.user_id,
        update_time=session.update_time,
        messages=[
            common_pb2.ChatMessage(
                role=_ROLES.get(m["role"], common_pb2.ROLE_UNSPECIFIED),
                content=m.get("content", ""),
                name=m.get("name", ""),
                tool_call_id=m.get("tool_call_id", ""),
            )
            for m in session.messages
        ],
    )


def entry_to_proto(entry: KnowledgeEntry) -> memory_pb2.KnowledgeEntry:
    return memory_pb2.KnowledgeEntry(
        entry_id=entry.entry_id, text=entry.text, metadata=entry.metadata, create_time=entry.create_time
    )


class MemoryService(memory_pb2_grpc.MemoryServiceServicer):
    def __init__(self, sessions: SessionStore, knowledge: KnowledgeStore) -> None:
        self._sessions = sessions
        self._knowledge = knowledge

    @unary_errors
    async def GetSession(
        self, request: memory_pb2.GetSessionRequest, context: Context
    ) -> memory_pb2.GetSessionResponse:
        session = await self._sessions.get(current_caller().user_id, request.session_id)
        return memory_pb2.GetSessionResponse(session=session_to_proto(session))

    @unary_errors
    async def ListSessions(
        self, request: memory_pb2.ListSessionsRequest, context: Context
    ) -> memory_pb2.ListSessionsResponse:
        sessions, token = await self._sessions.list_page(
            current_caller().user_id, request.page.page_size, request.page.page_token
        )
        return memory_pb2.ListSessionsResponse(
            sessions=[session_to_proto(s) for s in sessions], next_page_token=token
        )

    @unary_errors
    async def DeleteSession(
        self, request: memory_pb2.DeleteSessionRequest, context: Context
    ) -> memory_pb2.DeleteSessionResponse:
        await self._sessions.delete(current_caller().user_id, request.session_id)
        return memory_pb2.DeleteSessionResponse()

    @unary_errors
    async def AddKnowledge(
        self, request: memory_pb2.AddKnowledgeRequest, context: Context
    ) -> memory_pb2.AddKnowledgeResponse:
        entry = await self._knowledge.add(current_caller().user_id, request.text, dict(request.metadata))
        return memory_pb2.AddKnowledgeResponse(entry=entry_to_proto(entry))

    @unary_errors
    async def SearchKnowledge(
        self, request: memory_pb2.SearchKnowledgeRequest, context: Context
    ) -> memory_pb2.SearchKnowledgeResponse:
        matches = await self._knowledge.search(current_caller().user_id, request.query, request.limit)
        return memory_pb2.SearchKnowledgeResponse(
            matches=[memory_pb2.KnowledgeMatch(entry=entry_to_proto(e), score=s) for e, s in matches]
        )

    @unary_errors
    async def DeleteKnowledge(
        self, request: memory_pb2.DeleteKnowledgeRequest, context: Context
    ) -> memory_pb2.DeleteKnowledgeResponse:
        await self._knowledge.delete(current_caller().user_id, request.entry_id)
        return memory_pb2.DeleteKnowledgeResponse()
