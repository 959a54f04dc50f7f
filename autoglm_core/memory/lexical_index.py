"""An inverted index for lexical knowledge search, kept in the database beside the entries.

Scoring every entry meant decompressing and tokenizing all of a user's texts on every request
(seconds for a thousand 9 KB entries). The index stores each entry's term counts once, at add
time: a search reads only the postings of the query's terms and the user's entry count and total
length, scores those entries with the same scaled BM25 as `lexical.scores`, and decompresses only
the top few. Plain tables, so SQLite and PostgreSQL alike; entries added before the index existed
are indexed on their user's next search.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import Index, Integer, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.memory import lexical
from autoglm_core.storage.database import Base

# Terms of a query that are looked up (a long query is cut; its first terms carry it).
MAX_QUERY_TERMS = 64
# Longest term indexed, characters (longer "words" are noise: hashes, base64).
MAX_TERM_CHARS = 64


class TermRow(Base):
    """One posting: how often `term` occurs in one entry of one user."""

    __tablename__ = "knowledge_terms"
    __table_args__ = (Index("ix_knowledge_terms_lookup", "user_id", "term"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(MAX_TERM_CHARS))
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    count: Mapped[int] = mapped_column(Integer)


class IndexedRow(Base):
    """An entry that is in the index, with its length in terms."""

    __tablename__ = "knowledge_indexed"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    length: Mapped[int] = mapped_column(Integer)


def add_entry(session: Session, user_id: str, entry_id: str, text: str) -> None:
    """Indexes one entry (inside the transaction that stores it)."""
    counts = Counter(t for t in lexical.terms(text) if len(t) <= MAX_TERM_CHARS)
    session.add(IndexedRow(entry_id=entry_id, user_id=user_id, length=sum(counts.values())))
    postings = [{"user_id": user_id, "term": t, "entry_id": entry_id, "count": n} for t, n in counts.items()]
    if postings:  # one executemany, not an ORM object per term
        session.execute(insert(TermRow), postings)


def remove_entries(session: Session, entry_ids: Iterable[str]) -> None:
    ids = list(entry_ids)
    session.execute(delete(TermRow).where(TermRow.entry_id.in_(ids)))
    session.execute(delete(IndexedRow).where(IndexedRow.entry_id.in_(ids)))


def remove_user(session: Session, user_id: str) -> None:
    session.execute(delete(TermRow).where(TermRow.user_id == user_id))
    session.execute(delete(IndexedRow).where(IndexedRow.user_id == user_id))


def indexed_count(session: Session, user_id: str) -> int:
    return int(session.scalar(select(func.count()).where(IndexedRow.user_id == user_id)) or 0)


def search(session: Session, user_id: str, query: str, limit: int) -> list[tuple[str, float]]:
    """(entry id, scaled BM25 score) of the user's best entries for the query, best first."""
    wanted = list(dict.fromkeys(t for t in lexical.terms(query) if len(t) <= MAX_TERM_CHARS))
    wanted = wanted[:MAX_QUERY_TERMS]
    if not wanted:
        return []
    stats = select(func.count(), func.coalesce(func.sum(IndexedRow.length), 0))
    n, total = session.execute(stats.where(IndexedRow.user_id == user_id)).one()
    if not n:
        return []
    postings = session.execute(
        select(TermRow.entry_id, TermRow.term, TermRow.count, IndexedRow.length)
        .join(IndexedRow, IndexedRow.entry_id == TermRow.entry_id)
        .where(TermRow.user_id == user_id, TermRow.term.in_(wanted))
    ).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    lengths: dict[str, int] = {}
    for entry_id, term, count, length in postings:
        counts[entry_id][term] = count
        lengths[entry_id] = length
    df = Counter(term for _, term, _, _ in postings)
    document_freq = {t: df.get(t, 0) for t in wanted}
    average = total / n
    scored = [
        (entry_id, lexical.scaled_bm25(found, lengths.get(entry_id, 0), document_freq, n, average))
        for entry_id, found in counts.items()
    ]
    scored.sort(key=lambda pair: -pair[1])
    return [(entry_id, score) for entry_id, score in scored[:limit] if score > 0]
