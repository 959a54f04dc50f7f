"""The database of store tests: a fresh SQLite file, or the PostgreSQL (or other) database named by
AUTOGLM_TEST_DATABASE_URL, emptied before each test, e.g.

    AUTOGLM_TEST_DATABASE_URL=postgresql+psycopg://autoglm:autoglm@127.0.0.1/autoglm_test \
        python -m pytest tests/unit/test_user_store.py tests/unit/test_memory_stores.py
"""

from __future__ import annotations

import os
from pathlib import Path

from autoglm_core.storage.database import Base, Database, resolve_url

TEST_DATABASE_URL_ENV = "AUTOGLM_TEST_DATABASE_URL"


def fresh_database(tmp_path: Path) -> Database:
    url = os.environ.get(TEST_DATABASE_URL_ENV, "")
    database = Database(resolve_url(url, tmp_path))
    if url:
        Base.metadata.drop_all(database.engine)
    return database


def postgres_url() -> str:
    """The test PostgreSQL's URL; skips the test without one, unless CI requires it (.ci/run)."""
    import pytest

    url = os.environ.get(TEST_DATABASE_URL_ENV, "")
    if url.startswith("postgresql"):
        return url
    reason = f"needs PostgreSQL: set {TEST_DATABASE_URL_ENV} (scripts/test_postgres.sh start DIR)"
    if os.environ.get("AUTOGLM_TEST_REQUIRE_DATABASE"):
        pytest.fail(reason)
    pytest.skip(reason)


def empty_postgres(url: str) -> None:
    """Drops every table of the test database (all of the schema, whoever created it)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
