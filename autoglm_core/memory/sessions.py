"""Conversation sessions (short-term memory), persisted with SQLAlchemy.

A session is keyed by (user_id, session_id): the client picks the session id, and each user has
its own namespace of them, so one user can neither read nor extend another's conversation, and
guessing an id reveals nothing (it simply names a new, empty session of one's own). With auth
off every caller is the user "".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.storage import paging
from autoglm_core.storage.database import Base, Database

MAX_SESSION_ID_CHARS = 128
Message = dict[str, Any]


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    user_id: str
    update_time: int
    messages: list[Message] = field(default_factory=list)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("user_id", "session_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(MAX_SESSION_ID_CHARS))
    create_time: Mapped[int] = mapped_column(Integer)
    update_time: Mapped[int] = mapped_column(Integer)


class MessageRow(Base):
    __tablename__ = "session_messages"
    __table_args__ = (Index("ix_session_messages_session", "user_id", "session_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(MAX_SESSION_ID_CHARS))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(128), default="")
    tool_call_id: Mapped[str] = mapped_column(String(128), default="")
    create_time: Mapped[int] = mapped_column(Integer)

    def to_message(self) -> Message:
        message: Message = {"role": self.role, "content": self.content}
        if self.name:
            message["name"] = self.name
        if self.tool_call_id:
            message["tool_call_id"] = self.tool_call_id
        return message


def check_session_id(session_id: str, field: str = "session_id") -> None:
    if not session_id:
        raise InvalidArgument.one(field, "must be set")
    if len(session_id) > MAX_SESSION_ID_CHARS or not session_id.isprintable():
        raise InvalidArgument.one(field, f"must be 1 to {MAX_SESSION_ID_CHARS} printable characters")


def _session_row(session: Session, user_id: str, session_id: str) -> SessionRow | None:
    query = select(SessionRow).where(SessionRow.user_id == user_id, SessionRow.session_id == session_id)
    return session.scalar(query)


def _touch(session: Session, user_id: str, session_id: str, now: int) -> None:
    """Creates the session row if missing (race-free: insert-or-ignore), else bumps update_time."""
    values = {"user_id": user_id, "session_id": session_id, "create_time": now, "update_time": now}
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        session.execute(module.insert(SessionRow).values(**values).on_conflict_do_nothing())
    elif _session_row(session, user_id, session_id) is None:
        session.add(SessionRow(**values))
        session.flush()
    row = _session_row(session, user_id, session_id)
    assert row is not None
    row.update_time = now


class SessionStore:
    """Stores and returns the messages of conversation sessions."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def history(self, user_id: str, session_id: str, limit: int = 0) -> list[Message]:
        """The session's messages, oldest first; only the newest `limit` when limit > 0."""

        def work(session: Session) -> list[Message]:
            query = select(MessageRow).where(
                MessageRow.user_id == user_id, MessageRow.session_id == session_id
            )
            query = query.order_by(MessageRow.seq.desc())
            if limit > 0:
                query = query.limit(limit)
            return [r.to_message() for r in reversed(list(session.scalars(query)))]

        return await self._db.read(work)

    async def append(self, user_id: str, session_id: str, messages: list[Message]) -> None:
        """Appends messages in one transaction, creating the session on first use."""
        check_session_id(session_id)
        now = int(time.time())

        def work(session: Session) -> None:
            _touch(session, user_id, session_id, now)
            for m in messages:
                session.add(
                    MessageRow(
                        user_id=user_id,
                        session_id=session_id,
                        role=m["role"],
                        content=str(m.get("content", "")),
                        name=m.get("name", ""),
                        tool_call_id=m.get("tool_call_id", ""),
                        create_time=now,
                    )
                )

        await self._db.write(work)

    async def get(self, user_id: str, session_id: str) -> SessionInfo:
        check_session_id(session_id)
        row = await self._db.read(lambda s: _session_row(s, user_id, session_id))
        if row is None:
            raise NotFound("session", session_id)
        messages = await self.history(user_id, session_id)
        return SessionInfo(session_id, user_id, row.update_time, messages)

    async def list_page(
        self, user_id: str, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[SessionInfo], str]:
        """One page of the user's sessions (without messages) in creation order."""
        size = paging.page_size(page_size)
        after = paging.decode_token(page_token)

        def work(session: Session) -> tuple[list[SessionInfo], str]:
            query = (
                select(SessionRow)
                .where(SessionRow.user_id == user_id, SessionRow.seq > after)
                .order_by(SessionRow.seq)
                .limit(size + 1)
            )
            rows = list(session.scalars(query))
            token = paging.encode_token(rows[size - 1].seq) if len(rows) > size else ""
            return [SessionInfo(r.session_id, r.user_id, r.update_time) for r in rows[:size]], token

        return await self._db.read(work)

    async def delete(self, user_id: str, session_id: str) -> None:
        check_session_id(session_id)

        def work(session: Session) -> None:
            row = _session_row(session, user_id, session_id)
            if row is None:
                raise NotFound("session", session_id)
            session.execute(
                delete(MessageRow).where(MessageRow.user_id == user_id, MessageRow.session_id == session_id)
            )
            session.delete(row)

        await self._db.write(work)

    async def delete_user(self, user_id: str) -> None:
        """Forgets every session of a user (when the user is deleted)."""

        def work(session: Session) -> None:
            session.execute(delete(MessageRow).where(MessageRow.user_id == user_id))
            session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))

        await self._db.write(work)
