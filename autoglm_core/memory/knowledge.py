"""The knowledge cache (long-term memory): each user's facts and documents, searched by meaning.

Texts are stored LZ4-compressed. With an embedder, each entry also stores its unit vector and a
search is a brute-force dot product over the user's vectors (fine for thousands of entries per
user; pgvector or an ANN index would be the next step). Entries written while another embedder (or
none) was configured are embedded on their first search. Without an embedder, search is scaled
BM25 (lexical.py) over an inverted index kept in the database (lexical_index.py): a search reads
the postings of the query's terms, not the texts. Every database call, compression and scoring
runs on the database's worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Integer, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.errors import FieldViolation, InvalidArgument, NotFound
from autoglm_core.memory import compression, lexical, lexical_index
from autoglm_core.memory.embedding import Embedder, Vectors
from autoglm_core.storage.database import Base, Database

MAX_TEXT_BYTES = 1 << 20
MAX_METADATA_ENTRIES = 64
MAX_METADATA_KEY_CHARS = 128
MAX_METADATA_VALUE_CHARS = 1024
DEFAULT_LIMIT = 5
MAX_LIMIT = 100
# How long "this user has no knowledge" is believed without asking the database again. Adds through
# this process clear it at once; adds through another replica sharing the database show within this.
EMPTY_USER_TTL_S = 5.0


@dataclass(frozen=True)
class KnowledgeEntry:
    entry_id: str
    text: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: int = 0


class KnowledgeRow(Base):
    __tablename__ = "knowledge"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    codec: Mapped[str] = mapped_column(String(8))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    raw_bytes: Mapped[int] = mapped_column(Integer)
    metadata_json: Mapped[str] = mapped_column(Text)
    create_time: Mapped[int] = mapped_column(Integer)
    # Which embedder produced `vector` ("" and None: not embedded).
    embedder: Mapped[str] = mapped_column(String(64), default="")
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    def to_entry(self) -> KnowledgeEntry:
        text = compression.unpack(self.codec, self.body)
        return KnowledgeEntry(self.entry_id, text, json.loads(self.metadata_json), self.create_time)


@dataclass(frozen=True)
class StorageStats:
    entries: int
    raw_bytes: int
    stored_bytes: int


def _check_entry(text: str, metadata: dict[str, str]) -> None:
    violations = []
    size = len(text.encode("utf-8"))
    if not text.strip():
        violations.append(FieldViolation("text", "must not be empty"))
    elif size > MAX_TEXT_BYTES:
        violations.append(FieldViolation("text", f"is {size} bytes; the limit is {MAX_TEXT_BYTES}"))
    if len(metadata) > MAX_METADATA_ENTRIES:
        violations.append(FieldViolation("metadata", f"at most {MAX_METADATA_ENTRIES} entries"))
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY_CHARS or len(value) > MAX_METADATA_VALUE_CHARS:
            violations.append(
                FieldViolation(
                    f"metadata[{key}]",
                    f"keys are 1 to {MAX_METADATA_KEY_CHARS} characters, values at most "
                    f"{MAX_METADATA_VALUE_CHARS}",
                )
            )
    if violations:
        raise InvalidArgument(violations)


def _check_search(query: str, limit: int) -> int:
    if not query.strip():
        raise InvalidArgument.one("query", "must not be empty")
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidArgument.one("limit", f"must be between 0 and {MAX_LIMIT}")
    return limit or DEFAULT_LIMIT


class KnowledgeStore:
    """Adds, searches and deletes knowledge entries, each owned by one user."""

    def __init__(
        self,
        database: Database,
        embedder: Embedder | None = None,
        *,
        min_score: float | None = None,
        empty_user_ttl_s: float = EMPTY_USER_TTL_S,
    ) -> None:
        self._db = database
        self._embedder = embedder
        # Embedding is CPU-bound model work: one thread, off the loop and off the database pools.
        self._embed_pool = ThreadPoolExecutor(1, thread_name_prefix="autoglm-embed")
        default = embedder.default_min_score if embedder else lexical.DEFAULT_MIN_SCORE
        self.min_score = default if min_score is None else min_score
        # user id -> monotonic time until which the user is known to have no entries. Most requests
        # come from users without knowledge; measured on the mock server, skipping their database
        # read took a unary Generate from ~3 ms to ~1 ms of server CPU.
        self._empty_until: dict[str, float] = {}
        self.empty_user_ttl_s = empty_user_ttl_s
        self._adds = 0  # so that a search racing an add never marks the user empty

    @property
    def embedder_name(self) -> str:
        return self._embedder.name if self._embedder else "lexical"

    async def add(self, user_id: str, text: str, metadata: dict[str, str] | None = None) -> KnowledgeEntry:
        metadata = dict(metadata or {})
        _check_entry(text, metadata)
        vector = (await self._embed([text]))[0].tobytes() if self._embedder else None
        row = KnowledgeRow(
            entry_id="kn_" + uuid.uuid4().hex,
            user_id=user_id,
            codec="",
            body=b"",
            raw_bytes=len(text.encode("utf-8")),
            metadata_json=json.dumps(metadata, ensure_ascii=False, sort_keys=True),
            create_time=int(time.time()),
            embedder=self._embedder.name if self._embedder else "",
            vector=vector,
        )

        def work(session: Session) -> None:  # compressing and indexing: on the writer thread
            row.codec, row.body = compression.pack(text)
            session.add(row)
            lexical_index.add_entry(session, user_id, row.entry_id, text)

        await self._db.write(work)
        self._adds += 1
        self._empty_until.pop(user_id, None)
        return KnowledgeEntry(row.entry_id, text, metadata, row.create_time)

    async def search(self, user_id: str, query: str, limit: int = 0) -> list[tuple[KnowledgeEntry, float]]:
        """The user's entries most similar to the query, best first, with their scores."""
        matches, _ = await self._search(user_id, query, _check_search(query, limit))
        return matches

    async def relevant(self, user_id: str, query: str, limit: int) -> list[KnowledgeEntry]:
        """Entries relevant enough to put in front of the model (score >= min_score)."""
        if not query.strip() or self._known_empty(user_id):
            return []
        adds = self._adds
        matches, entries = await self._search(user_id, query, min(max(limit, 1), MAX_LIMIT))
        if entries == 0 and adds == self._adds:
            if len(self._empty_until) > 100_000:  # bound the memory of many one-off users
                self._empty_until.clear()
            self._empty_until[user_id] = time.monotonic() + self.empty_user_ttl_s
        return [entry for entry, score in matches if score >= self.min_score]

    async def _search(
        self, user_id: str, query: str, limit: int
    ) -> tuple[list[tuple[KnowledgeEntry, float]], int]:
        """The best matches, and how many entries the user has (the search reads them all anyway)."""
        if self._embedder is None:
            return await self._search_lexical(user_id, query, limit)
        return await self._search_vectors(user_id, query, limit)

    def _known_empty(self, user_id: str) -> bool:
        until = self._empty_until.get(user_id)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self._empty_until[user_id]
        return False

    async def delete(self, user_id: str, entry_id: str) -> None:
        if not entry_id:
            raise InvalidArgument.one("entry_id", "must be set")

        def work(session: Session) -> None:
            result = session.execute(
                delete(KnowledgeRow).where(KnowledgeRow.user_id == user_id, KnowledgeRow.entry_id == entry_id)
            )
            if not getattr(result, "rowcount", 0):
                raise NotFound("knowledge entry", entry_id)
            lexical_index.remove_entries(session, [entry_id])

        await self._db.write(work)

    async def delete_user(self, user_id: str) -> None:
        def work(session: Session) -> None:
            session.execute(delete(KnowledgeRow).where(KnowledgeRow.user_id == user_id))
            lexical_index.remove_user(session, user_id)

        await self._db.write(work)

    async def stats(self) -> StorageStats:
        """Entry count and text bytes before and after compression, over all users."""

        def work(session: Session) -> StorageStats:
            rows = session.execute(select(KnowledgeRow.raw_bytes, KnowledgeRow.body)).all()
            return StorageStats(len(rows), sum(r[0] for r in rows), sum(len(r[1]) for r in rows))

        return await self._db.read(work)

    def close(self) -> None:
        self._embed_pool.shutdown(wait=True)

    async def _embed(self, texts: Sequence[str]) -> Vectors:
        assert self._embedder is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._embed_pool, self._embedder.embed, list(texts))

    async def _search_lexical(
        self, user_id: str, query: str, limit: int
    ) -> tuple[list[tuple[KnowledgeEntry, float]], int]:
        def work(session: Session) -> tuple[list[tuple[KnowledgeEntry, float]], int, bool]:
            entries = _count(session, user_id)
            if entries != lexical_index.indexed_count(session, user_id):
                return [], entries, False  # entries from before the index, or removed behind it
            ranked = lexical_index.search(session, user_id, query, limit)
            ids = [entry_id for entry_id, _ in ranked]
            rows = {
                r.entry_id: r
                for r in session.scalars(select(KnowledgeRow).where(KnowledgeRow.entry_id.in_(ids)))
            }
            return [(rows[i].to_entry(), score) for i, score in ranked if i in rows], entries, True

        matches, entries, current = await self._db.read(work)
        if not current:
            await self._db.write(lambda session: _reindex(session, user_id))
            matches, entries, _ = await self._db.read(work)
        return matches, entries

    async def _search_vectors(
        self, user_id: str, query: str, limit: int
    ) -> tuple[list[tuple[KnowledgeEntry, float]], int]:
        assert self._embedder is not None
        name = self._embedder.name
        columns = select(KnowledgeRow.entry_id, KnowledgeRow.embedder, KnowledgeRow.vector)
        rows = await self._db.read(lambda s: s.execute(columns.where(KnowledgeRow.user_id == user_id)).all())
        if not rows:
            return [], 0
        vectors = {r[0]: r[2] for r in rows if r[1] == name and r[2] is not None}
        missing = [r[0] for r in rows if r[0] not in vectors]
        if missing:
            vectors.update(await self._backfill(missing))
        ids = list(vectors)
        matrix = np.stack([np.frombuffer(vectors[i], dtype=np.float32) for i in ids])
        similarity = matrix @ (await self._embed([query]))[0]
        best = np.argsort(-similarity)[:limit]
        chosen = [ids[i] for i in best]
        found = await self._db.read(
            lambda s: {
                r.entry_id: r.to_entry()
                for r in s.scalars(select(KnowledgeRow).where(KnowledgeRow.entry_id.in_(chosen)))
            }
        )
        return [(found[ids[i]], float(similarity[i])) for i in best if ids[i] in found], len(rows)

    async def _backfill(self, entry_ids: list[str]) -> dict[str, bytes]:
        """Embeds entries stored without a (current) vector, and saves the vectors."""
        assert self._embedder is not None
        name = self._embedder.name
        rows = await self._db.read(
            lambda s: list(s.scalars(select(KnowledgeRow).where(KnowledgeRow.entry_id.in_(entry_ids))))
        )
        vectors = await self._embed([r.to_entry().text for r in rows])
        found = {r.entry_id: v.tobytes() for r, v in zip(rows, vectors, strict=True)}

        def work(session: Session) -> None:
            for row in session.scalars(select(KnowledgeRow).where(KnowledgeRow.entry_id.in_(list(found)))):
                row.embedder, row.vector = name, found[row.entry_id]

        await self._db.write(work)
        return found


def _count(session: Session, user_id: str) -> int:
    return int(session.scalar(select(func.count()).where(KnowledgeRow.user_id == user_id)) or 0)


def _reindex(session: Session, user_id: str) -> None:
    """Brings the user's index in line with the entries: drops what is gone, adds what is missing."""
    stored = set(session.scalars(select(KnowledgeRow.entry_id).where(KnowledgeRow.user_id == user_id)))
    indexed = set(
        session.scalars(
            select(lexical_index.IndexedRow.entry_id).where(lexical_index.IndexedRow.user_id == user_id)
        )
    )
    lexical_index.remove_entries(session, indexed - stored)
    missing = select(KnowledgeRow).where(KnowledgeRow.entry_id.in_(list(stored - indexed)))
    for row in session.scalars(missing):
        lexical_index.add_entry(session, user_id, row.entry_id, row.to_entry().text)
