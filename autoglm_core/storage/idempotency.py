"""Idempotent create calls: a client names its request (`request_id`), and a retry of it, on this or
any other replica sharing the database, returns the first call's result instead of creating again.

The result is remembered in the same transaction as the write it describes, so either both are
committed or neither: a replica killed mid-call leaves nothing to replay, and the retry creates.
Two concurrent calls with one id race on the primary key; the loser's transaction rolls back whole
and it replays the winner's result.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, String, Text, delete, exc
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import InvalidArgument
from autoglm_core.storage.database import Base, Database

MAX_REQUEST_ID_CHARS = 128
# Long enough for any client's retries; short, because a created API key's secret is kept here
# (to be replayed) until the record expires.
RETENTION_S = 3600

Result = dict[str, Any]


class IdempotencyRow(Base):
    __tablename__ = "idempotent_requests"

    # What was called ("CreateUser", ...) and the client's id of the call.
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(MAX_REQUEST_ID_CHARS), primary_key=True)
    # SHA-256 of the call's arguments: the same id with other arguments is a client's mistake.
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    expire_time: Mapped[int] = mapped_column(Integer, index=True)


def check_request_id(request_id: str) -> None:
    if len(request_id) > MAX_REQUEST_ID_CHARS:
        raise InvalidArgument.one("request_id", f"at most {MAX_REQUEST_ID_CHARS} characters")


def fingerprint(*arguments: object) -> str:
    return hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()


async def write_once(
    database: Database,
    scope: str,
    request_id: str,
    arguments: str,
    work: Callable[[Session], Result],
) -> Result:
    """Runs work in a write transaction once per (scope, request_id); later calls get its result.

    Without a request id it simply runs work.
    """
    if not request_id:
        return await database.write(work)
    check_request_id(request_id)

    def once(session: Session) -> Result:
        row = session.get(IdempotencyRow, (scope, request_id))
        if row is not None and row.expire_time > time.time():
            if row.fingerprint != arguments:
                raise InvalidArgument.one("request_id", "was used before for a call with other arguments")
            loaded: Result = json.loads(row.result)
            return loaded
        if row is not None:
            session.delete(row)
            session.flush()
        result = work(session)
        now = int(time.time())
        session.execute(delete(IdempotencyRow).where(IdempotencyRow.expire_time < now))
        session.add(
            IdempotencyRow(
                scope=scope,
                request_id=request_id,
                fingerprint=arguments,
                result=json.dumps(result),
                expire_time=now + RETENTION_S,
            )
        )
        session.flush()
        return result

    try:
        return await database.write(once)
    except exc.IntegrityError:
        # Another replica committed this request id first: replay its result.
        return await database.write(once)
