"""The per-user token bucket."""

from __future__ import annotations

from autoglm_core.users.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bursts_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.acquire("a")
    assert 19 < wait <= 20  # one token every 20 s
    clock.now += 20
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0


def test_buckets_are_per_key_and_zero_is_off() -> None:
    limiter = RateLimiter(1, clock=FakeClock())
    assert limiter.acquire("a") == 0 and limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0
    off = RateLimiter(0)
    assert not off.enabled and all(off.acquire("a") == 0 for _ in range(100))
