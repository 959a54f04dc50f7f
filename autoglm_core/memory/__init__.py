"""Conversation sessions (short-term) and the knowledge cache (long-term), per user."""

from autoglm_core.memory.knowledge import KnowledgeEntry, KnowledgeStore
from autoglm_core.memory.sessions import SessionInfo, SessionStore

__all__ = ["KnowledgeEntry", "KnowledgeStore", "SessionInfo", "SessionStore"]
