"""Users and API keys, persisted with SQLAlchemy.

API key secrets are 256-bit random strings; only their SHA-256 is stored. A fast unsalted hash is
enough here (unlike for passwords): with 256 bits of entropy a stolen hash cannot be brute-forced
however fast the hash is, and being deterministic it can be looked up through a unique index, so
authenticating a call is one indexed query instead of a slow KDF per request.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import Boolean, ForeignKey, Integer, String, delete, exc, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import FieldViolation, InvalidArgument, NotFound
from autoglm_core.storage import idempotency, paging
from autoglm_core.storage.database import Base, Database

MAX_NAME_CHARS = 200
MAX_AGE = 150
MAX_LABEL_CHARS = 200
SECRET_PREFIX = "agk_"
BOOTSTRAP_ADMIN_NAME = "admin"


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    age: int
    admin: bool
    create_time: int


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    user_id: str
    label: str
    create_time: int
    revoked: bool


class UserRow(Base):
    __tablename__ = "users"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    age: Mapped[int] = mapped_column(Integer)
    admin: Mapped[bool] = mapped_column(Boolean)
    create_time: Mapped[int] = mapped_column(Integer)

    def to_user(self) -> User:
        return User(self.user_id, self.name, self.age, self.admin, self.create_time)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(MAX_LABEL_CHARS))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    create_time: Mapped[int] = mapped_column(Integer)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    def to_key(self) -> ApiKey:
        return ApiKey(self.key_id, self.user_id, self.label, self.create_time, self.revoked)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_user_fields(name: str | None, age: int | None) -> None:
    violations = []
    if name is not None and not name.strip():
        violations.append(FieldViolation("name", "must not be empty"))
    elif name is not None and len(name) > MAX_NAME_CHARS:
        violations.append(FieldViolation("name", f"at most {MAX_NAME_CHARS} characters"))
    if age is not None and not 0 <= age <= MAX_AGE:
        violations.append(FieldViolation("age", f"must be between 0 and {MAX_AGE}"))
    if violations:
        raise InvalidArgument(violations)


def _check_id(value: str, field: str) -> None:
    if not value:
        raise InvalidArgument.one(field, "must be set")


def _user_row(session: Session, user_id: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.user_id == user_id))
    if row is None:
        raise NotFound("user", user_id)
    return row


class UserStore:
    """CRUD of users and API keys. Every method is async; the database work runs off the loop."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, name: str, age: int, admin: bool = False, request_id: str = "") -> User:
        """A new user; a retry with the same request_id returns the user the first call created."""
        _check_user_fields(name, age)

        def work(session: Session) -> idempotency.Result:
            row = UserRow(
                user_id="u_" + uuid.uuid4().hex,
                name=name.strip(),
                age=age,
                admin=admin,
                create_time=int(time.time()),
            )
            session.add(row)
            session.flush()
            return asdict(row.to_user())

        arguments = idempotency.fingerprint(name, age, admin)
        created = await idempotency.write_once(self._db, "CreateUser", request_id, arguments, work)
        return User(**created)

    async def get(self, user_id: str) -> User:
        _check_id(user_id, "user_id")
        return await self._db.read(lambda s: _user_row(s, user_id).to_user())

    async def update(self, user_id: str, *, name: str | None = None, age: int | None = None) -> User:
        _check_id(user_id, "user_id")
        _check_user_fields(name, age)

        def work(session: Session) -> User:
            row = _user_row(session, user_id)
            if name is not None:
                row.name = name.strip()
            if age is not None:
                row.age = age
            return row.to_user()

        return await self._db.write(work)

    async def delete(self, user_id: str) -> None:
        """Deletes the user and its keys (explicitly: not every database enforces the cascade)."""
        _check_id(user_id, "user_id")

        def work(session: Session) -> None:
            row = _user_row(session, user_id)
            session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == user_id))
            session.delete(row)

        await self._db.write(work)

    async def list_page(self, page_size: int = 0, page_token: str = "") -> tuple[list[User], str]:
        """One page of users in creation order, and the token of the next page ("" on the last)."""
        size = paging.page_size(page_size)
        after = paging.decode_token(page_token)

        def work(session: Session) -> tuple[list[User], str]:
            query = select(UserRow).where(UserRow.seq > after).order_by(UserRow.seq).limit(size + 1)
            rows = list(session.scalars(query))
            more = len(rows) > size
            rows = rows[:size]
            token = paging.encode_token(rows[-1].seq) if more else ""
            return [r.to_user() for r in rows], token

        return await self._db.read(work)

    async def create_key(self, user_id: str, label: str = "", request_id: str = "") -> tuple[ApiKey, str]:
        """A new key for the user and its secret; the secret cannot be recovered later, except by a
        retry with the same request_id within idempotency.RETENTION_S."""
        _check_id(user_id, "user_id")
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidArgument.one("label", f"at most {MAX_LABEL_CHARS} characters")

        def work(session: Session) -> idempotency.Result:
            secret = SECRET_PREFIX + secrets.token_urlsafe(32)
            key = self._insert_key(session, user_id, label, hash_secret(secret))
            return {"key": asdict(key), "secret": secret}

        arguments = idempotency.fingerprint(user_id, label)
        created = await idempotency.write_once(self._db, "CreateApiKey", request_id, arguments, work)
        return ApiKey(**created["key"]), str(created["secret"])

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        _check_id(user_id, "user_id")

        def work(session: Session) -> list[ApiKey]:
            _user_row(session, user_id)
            rows = session.scalars(
                select(ApiKeyRow).where(ApiKeyRow.user_id == user_id).order_by(ApiKeyRow.seq)
            )
            return [r.to_key() for r in rows]

        return await self._db.read(work)

    async def revoke_key(self, key_id: str) -> None:
        """Revokes a key; revoking it again is a no-op."""
        _check_id(key_id, "key_id")

        def work(session: Session) -> None:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
            if row is None:
                raise NotFound("api key", key_id)
            row.revoked = True

        await self._db.write(work)

    async def authenticate(self, secret: str) -> User | None:
        """The owner of a valid, unrevoked key with this secret; None otherwise."""
        if not secret:
            return None
        digest = hash_secret(secret)

        def work(session: Session) -> User | None:
            query = (
                select(UserRow)
                .join(ApiKeyRow, ApiKeyRow.user_id == UserRow.user_id)
                .where(ApiKeyRow.secret_hash == digest, ApiKeyRow.revoked.is_(False))
            )
            row = session.scalar(query)
            return row.to_user() if row is not None else None

        return await self._db.read(work)

    async def ensure_admin_key(self, secret: str) -> None:
        """Bootstrap: makes `secret` an admin's key, creating an admin user the first time.

        Idempotent across restarts and replicas. A bootstrap key that was revoked stays revoked.
        """
        digest = hash_secret(secret)

        def work(session: Session) -> None:
            if session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_hash == digest)) is not None:
                return
            user = UserRow(
                user_id="u_" + uuid.uuid4().hex,
                name=BOOTSTRAP_ADMIN_NAME,
                age=0,
                admin=True,
                create_time=int(time.time()),
            )
            session.add(user)
            session.flush()
            self._insert_key(session, user.user_id, "bootstrap admin key", digest)

        # Replicas starting together: when another one created it first, this transaction (its
        # admin user included) rolls back whole.
        with contextlib.suppress(exc.IntegrityError):
            await self._db.write(work)

    @staticmethod
    def _insert_key(session: Session, user_id: str, label: str, digest: str) -> ApiKey:
        _user_row(session, user_id)
        row = ApiKeyRow(
            key_id="k_" + uuid.uuid4().hex,
            user_id=user_id,
            label=label,
            secret_hash=digest,
            create_time=int(time.time()),
            revoked=False,
        )
        session.add(row)
        session.flush()
        return row.to_key()
