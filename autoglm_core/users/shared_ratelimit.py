"""Per-caller token buckets kept in PostgreSQL, so that a limit holds across every replica.

Why the database rather than a library: the replicas already share PostgreSQL, and the libraries
with a shared backend (`limits` and friends) need Redis, Memcached or MongoDB, one more service to
run. One statement per call does the whole bucket update: an upsert that refills the bucket by the
time elapsed on the database's clock (one clock for all replicas), takes a token when there is one,
and returns whether it did. PostgreSQL's row lock on the bucket serialises concurrent calls of one
caller, on any replica, so N calls a minute admit N in total.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, String, case, cast, extract, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from autoglm_core.storage.database import Base, Database


class RateBucketRow(Base):
    __tablename__ = "rate_buckets"

    bucket_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch, on the database's clock, of the last refill.
    updated_s: Mapped[float] = mapped_column(Float)
    # Whether the last call took a token (what the upsert reports back).
    admitted: Mapped[bool] = mapped_column(Boolean)


class SharedRateLimiter:
    """A token bucket per key in the shared database: `per_minute` calls a minute, bursts as many."""

    def __init__(self, database: Database, per_minute: int) -> None:
        self._db = database
        self.per_minute = per_minute
        self._rate_per_s = per_minute / 60

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    async def take(self, key: str) -> float:
        """Takes one token: 0 when the call may proceed, else seconds until it may retry."""
        if not self.enabled:
            return 0.0
        admitted, tokens = await self._db.write(lambda session: self._upsert(session, key))
        return 0.0 if admitted else (1 - tokens) / self._rate_per_s

    def _upsert(self, session: Session, key: str) -> tuple[bool, float]:
        bucket = RateBucketRow
        now = cast(extract("epoch", func.now()), Float)
        capacity = float(self.per_minute)
        # now() is when this call's transaction began; a call that began earlier but waited for the
        # row lock would see a later updated_s, and a negative elapsed time would take tokens away.
        elapsed = func.greatest(0.0, now - bucket.updated_s)
        refilled = func.least(capacity, bucket.tokens + elapsed * self._rate_per_s)
        statement = (
            insert(bucket)
            .values(bucket_key=key, tokens=capacity - 1, updated_s=now, admitted=True)
            .on_conflict_do_update(
                index_elements=[bucket.bucket_key],
                set_={
                    "tokens": case((refilled >= 1, refilled - 1), else_=refilled),
                    "updated_s": func.greatest(now, bucket.updated_s),
                    "admitted": refilled >= 1,
                },
            )
            .returning(bucket.admitted, bucket.tokens)
        )
        # A bucket need not survive a database crash (it would only forget a moment of use), so its
        # commit does not wait for the WAL flush: the disk sync per call was its main cost.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        admitted, tokens = session.execute(statement).one()
        return admitted, tokens
