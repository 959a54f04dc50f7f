"""The token bucket in PostgreSQL: one budget however many limiters (replicas) share the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from autoglm_core.storage.database import Database
from autoglm_core.users.shared_ratelimit import SharedRateLimiter
from tests.unit.db_support import empty_postgres, postgres_url


@pytest.fixture
async def databases() -> AsyncIterator[list[Database]]:
    """Three connection pools on one database: what three replicas hold."""
    url = postgres_url()
    empty_postgres(url)
    pools = [Database(url) for _ in range(3)]
    yield pools
    for pool in pools:
        pool.close()


async def test_three_limiters_admit_the_limit_once_in_total(databases: list[Database]) -> None:
    limiters = [SharedRateLimiter(db, per_minute=10) for db in databases]
    waits = await asyncio.gather(*(limiters[i % 3].take("user-a") for i in range(30)))
    assert sum(1 for w in waits if w == 0) == 10
    refused = [w for w in waits if w > 0]
    # The next token comes in at most 60 / 10 seconds.
    assert len(refused) == 20 and all(0 < w <= 6.0 for w in refused)
    # Buckets are per caller.
    assert await limiters[0].take("user-b") == 0


async def test_a_call_that_waited_for_the_row_lock_is_told_at_most_one_tokens_wait(
    databases: list[Database],
) -> None:
    # Calls that began before the current holder of the bucket's row lock see an earlier now();
    # many concurrent calls on three pools make that ordering happen in most rounds.
    limiters = [SharedRateLimiter(db, per_minute=10) for db in databases]
    for round_ in range(10):
        calls = (limiters[i % 3].take(f"burst-{round_}") for i in range(60))
        waits = await asyncio.gather(*calls)
        assert max(waits) <= 6.0, sorted(waits)[-3:]


async def test_off_admits_everything(databases: list[Database]) -> None:
    limiter = SharedRateLimiter(databases[0], per_minute=0)
    assert not limiter.enabled
    assert all(w == 0 for w in await asyncio.gather(*(limiter.take("a") for _ in range(5))))
