"""Stored responses: a finished generation kept so a later request can continue it by id (the
Responses API's previous_response_id), persisted with SQLAlchemy in the same database as sessions.

Each row is keyed by (user_id, response_id): one user can neither read nor continue another's
responses (an id of another user's is simply not found). Rows expire after the retention period;
expired rows are deleted whenever a new one is stored.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import NotFound
from autoglm_core.storage.database import Base, Database

Message = dict[str, Any]


@dataclass(frozen=True)
class StoredResponse:
    response_id: str
    user_id: str
    # The response object as the API returned it.
    body: dict[str, Any]
    # The whole conversation up to and including this response's output (what a follow-up continues).
    messages: list[Message]


class ResponseRow(Base):
    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_id", "user_id", "response_id", unique=True),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    response_id: Mapped[str] = mapped_column(String(64))
    create_time: Mapped[int] = mapped_column(Integer)
    expire_time: Mapped[int] = mapped_column(Integer, index=True)
    body: Mapped[str] = mapped_column(Text)
    messages: Mapped[str] = mapped_column(Text)

    def to_stored(self) -> StoredResponse:
        return StoredResponse(
            self.response_id, self.user_id, json.loads(self.body), json.loads(self.messages)
        )


class ResponseStore:
    """Keeps responses for `retention_s` seconds, per user."""

    def __init__(self, database: Database, retention_s: float) -> None:
        self._db = database
        self._retention_s = retention_s

    async def put(
        self, user_id: str, response_id: str, body: dict[str, Any], messages: list[Message]
    ) -> None:
        now = int(time.time())

        def work(session: Session) -> None:
            session.execute(delete(ResponseRow).where(ResponseRow.expire_time < now))
            session.add(
                ResponseRow(
                    user_id=user_id,
                    response_id=response_id,
                    create_time=now,
                    expire_time=now + int(self._retention_s),
                    body=json.dumps(body, ensure_ascii=False),
                    messages=json.dumps(messages, ensure_ascii=False, default=str),
                )
            )

        await self._db.write(work)

    async def get(self, user_id: str, response_id: str) -> StoredResponse:
        now = int(time.time())

        def work(session: Session) -> StoredResponse | None:
            row = session.scalar(_query(user_id, response_id).where(ResponseRow.expire_time >= now))
            return row.to_stored() if row is not None else None

        stored = await self._db.read(work)
        if stored is None:
            raise NotFound("response", response_id)
        return stored

    async def delete(self, user_id: str, response_id: str) -> None:
        def work(session: Session) -> int:
            rows = list(session.scalars(_query(user_id, response_id)))
            for row in rows:
                session.delete(row)
            return len(rows)

        if not await self._db.write(work):
            raise NotFound("response", response_id)


def _query(user_id: str, response_id: str) -> Any:
    return select(ResponseRow).where(ResponseRow.user_id == user_id, ResponseRow.response_id == response_id)
