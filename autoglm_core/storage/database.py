"""One SQLAlchemy database shared by the user, session and knowledge stores.

Why sync SQLAlchemy in worker threads rather than the asyncio engine: one code path serves every
driver (the stdlib sqlite3, psycopg, ...), nothing extra to install, and aiosqlite itself is only a
thread per connection. The calls run on private thread pools rather than asyncio.to_thread's shared
default pool, so database work neither starves nor is starved by other to_thread users, and its
concurrency stays within the connection pool.

SQLite specifics (the default): WAL journal (readers never block the writer), synchronous=FULL (a
commit is on disk before it is acknowledged, so acknowledged writes survive kill -9 and power loss),
writes serialised on one thread and opened with BEGIN IMMEDIATE (no "database is locked" upgrades
between our own writers; busy_timeout covers other processes on the same file).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from autoglm_core.errors import DataLoss

T = TypeVar("T")

DB_FILE_NAME = "autoglm.db"
_WRITE_OPTION = "autoglm_write"
# Any fixed number: the advisory lock that serialises schema creation among replicas.
_SCHEMA_LOCK = 0x6175746F676C6D
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


class Base(DeclarativeBase):
    """Declarative base of every table (users, api_keys, sessions, session_messages, knowledge)."""


def resolve_url(database_url: str, data_dir: str | Path) -> str:
    """The configured URL, or a SQLite file in data_dir (created if missing)."""
    if database_url:
        return database_url
    directory = Path(data_dir).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / DB_FILE_NAME}"


def _sqlite_engine(url: str, in_memory: bool) -> Engine:
    # One shared connection for an in-memory database: each new connection would be a new, empty one.
    pool: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {}
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit transactions are switched off; _on_begin issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """An engine plus the thread pools its blocking calls run on."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
        in_memory = self.is_sqlite and parsed.database in (None, "", ":memory:")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, in_memory)
        else:
            self.engine = create_engine(url, pool_size=pool_size, pool_pre_ping=True)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time anyway; queueing writes here avoids lock contention.
        writers = 1 if self.is_sqlite else pool_size
        readers = 1 if in_memory else pool_size
        self._write_pool = ThreadPoolExecutor(writers, thread_name_prefix="autoglm-db-write")
        self._read_pool = (
            self._write_pool if in_memory else ThreadPoolExecutor(readers, thread_name_prefix="autoglm-db")
        )
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def check_integrity(self) -> None:
        """Refuses a damaged SQLite file (blocking; run at start, before any call is served).

        `PRAGMA quick_check` reads every page, so damage anywhere is found now rather than as
        errors on some reads (and writes into a broken file) later. Other databases check their own.
        """
        if not self.is_sqlite:
            return
        try:
            with self.engine.connect() as connection:
                problems = [row[0] for row in connection.execute(text("PRAGMA quick_check(5)"))]
        except exc.DatabaseError as error:
            raise DataLoss(f"the database {self.url} cannot be read: {error.orig}") from None
        if problems != ["ok"]:
            raise DataLoss(
                f"the database {self.url} is damaged ({'; '.join(problems)}); restore it from a "
                "backup or move it away (a new one is then created)"
            )

    def ensure_schema(self) -> None:
        """Creates missing tables once (blocking). Schema changes would need migrations (Alembic).

        On PostgreSQL replicas starting together would race to create the same tables; a
        transaction-scoped advisory lock lets one create them while the others wait, then find them.
        """
        with self._schema_lock:
            if not self._schema_ready:
                with self.engine.begin() as connection:
                    if self.is_postgresql:
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                    Base.metadata.create_all(connection)
                self._schema_ready = True

    async def read(self, work: Callable[[Session], T]) -> T:
        """Runs work(session) in a read transaction on a worker thread."""
        return await self._run(self._read_pool, self._in_read, work)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Runs work(session) in a write transaction; returns once it is committed."""
        return await self._run(self._write_pool, self._in_write, work)

    def close(self) -> None:
        self._write_pool.shutdown(wait=True)
        self._read_pool.shutdown(wait=True)
        self.engine.dispose()

    async def _run(
        self,
        pool: ThreadPoolExecutor,
        runner: Callable[[Callable[[Session], T]], T],
        work: Callable[[Session], T],
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, functools.partial(runner, work))

    def _in_read(self, work: Callable[[Session], T]) -> T:
        self.ensure_schema()
        with _damage_is_data_loss(), self._reads() as session, session.begin():
            return work(session)

    def _in_write(self, work: Callable[[Session], T]) -> T:
        self.ensure_schema()
        with _damage_is_data_loss(), self._writes() as session, session.begin():
            return work(session)


# What SQLite says when a page it reads is damaged (SQLITE_CORRUPT, SQLITE_NOTADB), or when a
# damaged page yields a text column that is not UTF-8 any more.
_DAMAGE = ("malformed", "not a database", "corrupt", "could not decode to utf-8")


@contextmanager
def _damage_is_data_loss() -> Iterator[None]:
    """A read or write that hits a damaged page is DataLoss, not a bug of ours."""
    try:
        yield
    except exc.DatabaseError as error:
        if any(word in str(error.orig).lower() for word in _DAMAGE):
            raise DataLoss(f"the database is damaged: {error.orig}") from None
        raise
