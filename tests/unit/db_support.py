"""The databases of store tests: a fresh SQLite file, and the PostgreSQL database named by
AUTOGLM_TEST_DATABASE_URL, emptied before each test (store fixtures run every test on both; the
PostgreSQL runs skip without the URL, and fail without it where AUTOGLM_TEST_REQUIRE_DATABASE is
set, as in CI), e.g.

    eval "$(scripts/test_postgres.sh start /tmp/pg)"
    python -m pytest tests/unit/test_user_store.py tests/unit/test_memory_stores.py
"""

from __future__ import annotations

import os
from pathlib import Path

from autoglm_core.storage.database import Database, resolve_url

TEST_DATABASE_URL_ENV = "AUTOGLM_TEST_DATABASE_URL"


# What store fixtures run on: `@pytest.fixture(params=DATABASES)`, then fresh_database(tmp_path, kind).
DATABASES = ["sqlite", "postgresql"]


def fresh_database(tmp_path: Path, kind: str = "sqlite") -> Database:
    if kind == "postgresql":
        url = postgres_url()
        empty_postgres(url)
        return Database(url)
    return Database(resolve_url("", tmp_path))


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
