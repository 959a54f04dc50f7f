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
