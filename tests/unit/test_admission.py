"""Priority admission: ordering, bounded queue, deadlines, cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from autoglm_core.errors import DeadlineExceeded, QueueFull
from autoglm_core.scheduling.admission import AdmissionController


async def hold(
    admission: AdmissionController, priority: int, order: list[str], name: str, release: asyncio.Event
) -> None:
    async with admission.slot(priority):
        order.append(name)
        await release.wait()


async def test_waiters_are_served_by_priority_then_arrival() -> None:
    admission = AdmissionController(max_running=1, max_queue=10)
    order: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(hold(admission, 5, order, "first", release))
    await asyncio.sleep(0)
    others = []
    for name, priority in (("low-a", 9), ("high", 0), ("low-b", 9), ("mid", 5)):
        others.append(asyncio.create_task(hold(admission, priority, order, name, release)))
        await asyncio.sleep(0)
    assert admission.queue_depth == 4
    release.set()
    await asyncio.gather(first, *others)
    assert order == ["first", "high", "mid", "low-a", "low-b"]
    assert admission.running == 0


async def test_full_queue_refuses_with_a_retry_hint() -> None:
    admission = AdmissionController(max_running=1, max_queue=1)
    release = asyncio.Event()
    tasks = [asyncio.create_task(hold(admission, 5, [], str(i), release)) for i in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(QueueFull) as caught:
        async with admission.slot(5):
            pass
    assert caught.value.retry_after_s > 0
    release.set()
    await asyncio.gather(*tasks)


async def test_deadline_in_the_queue() -> None:
    admission = AdmissionController(max_running=1, max_queue=5)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(admission, 5, [], "holder", release))
    await asyncio.sleep(0)
    with pytest.raises(DeadlineExceeded):
        async with admission.slot(0, deadline=time.monotonic() + 0.05):
            pass
    assert admission.queue_depth == 0
    release.set()
    await holder
    assert admission.running == 0


async def test_cancelled_waiter_leaves_the_queue_and_slots_are_not_lost() -> None:
    admission = AdmissionController(max_running=1, max_queue=5)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(admission, 5, [], "holder", release))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold(admission, 5, [], "waiter", release))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert admission.running == 0 and admission.queue_depth == 0
    async with admission.slot(5):
        assert admission.running == 1


async def test_reserved_slots_let_urgent_requests_past_a_saturating_bulk_load() -> None:
    admission = AdmissionController(max_running=2, max_queue=10, reserved_slots=1)
    order: list[str] = []
    release_bulk, release_urgent = asyncio.Event(), asyncio.Event()
    bulk = [asyncio.create_task(hold(admission, 9, order, f"bulk-{i}", release_bulk)) for i in range(4)]
    await asyncio.sleep(0)
    assert admission.running == 2 and admission.queue_depth == 2  # bulk never takes the reserve
    urgent = asyncio.create_task(hold(admission, 0, order, "urgent", release_urgent))
    await asyncio.sleep(0)
    assert order[-1] == "urgent" and admission.running == 3  # started at once, on the reserved slot
    second = asyncio.create_task(hold(admission, 0, order, "urgent-2", release_urgent))
    await asyncio.sleep(0)
    assert admission.queue_depth == 3  # the reserve is full too: it waits, ahead of the bulk
    release_urgent.set()
    await asyncio.gather(urgent, second)
    # The urgent requests' slots do not go to bulk waiters beyond max_running.
    assert admission.running == 2 and admission.queue_depth == 2
    release_bulk.set()
    await asyncio.gather(*bulk)
    assert order.index("urgent-2") < order.index("bulk-2")
    assert admission.running == 0 and admission.queue_depth == 0
