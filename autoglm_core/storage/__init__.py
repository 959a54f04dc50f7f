"""Persistence shared by the stores: the SQLAlchemy database and paging helpers."""

from autoglm_core.storage.database import Base, Database, resolve_url

__all__ = ["Base", "Database", "resolve_url"]
