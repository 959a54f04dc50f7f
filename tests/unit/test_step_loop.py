"""The step loop with the fake runner: many callers, cancels and faults, and nothing left behind."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import aclosing
from dataclasses import dataclass

import pytest

from autoglm_core.errors import BackendFailure, DeadlineExceeded, QueueFull
from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.runners.fake import FakeRunner
from autoglm_core.runtime.scheduler import Scheduler, SchedulerConfig
from autoglm_core.runtime.step_loop import MAX_BACKLOG, StepLoop
from autoglm_core.runtime.types import BackendRequest, SamplingConfig, TokenChunk

EOS = 0


@dataclass
class Knobs:
    token_latency_s: float = 0.0
    fail_after_tokens: int | None = None
    hang_after_tokens: int | None = None
    honour_constraints: bool = True


def reply(request: BackendRequest) -> list[int]:
    return [len(request.prompt_ids) % 50 + 1] * 200  # never EOS: requests end at their length


def make_loop(knobs: Knobs | None = None, **config: object) -> tuple[StepLoop, FakeRunner]:
    runner = FakeRunner(reply, EOS, knobs or Knobs())
    scheduler = Scheduler(SchedulerConfig(**config), KVCacheManager(4096, 16))  # type: ignore[arg-type]
    loop = StepLoop(scheduler, runner)
    loop.start()
    return loop, runner


def request(name: str, max_new: int, priority: int = 5, prompt: int = 5) -> BackendRequest:
    return BackendRequest(
        name, list(range(1, prompt + 1)), SamplingConfig(max_new_tokens=max_new), priority=priority
    )


async def tokens_of(loop: StepLoop, req: BackendRequest) -> list[int]:
    out: list[int] = []
    async with aclosing(loop.generate(req, req.sampling.max_new_tokens, (EOS,))) as chunks:
        async for chunk in chunks:
            out += chunk.token_ids
    return out


def assert_empty(loop: StepLoop, runner: FakeRunner) -> None:
    assert not loop.scheduler.has_work and loop.scheduler.kv_cache.used_blocks == 0
    assert not loop._sinks and not runner._replies and loop.in_flight == 0


async def settle(loop: StepLoop) -> None:
    for _ in range(200):
        if not loop.scheduler.has_work and loop.inbox.empty():
            return
        await asyncio.sleep(0.01)


async def test_many_callers_with_random_cancels_leave_nothing_behind() -> None:
    loop, runner = make_loop(Knobs(token_latency_s=0.001), max_running=4)
    rng = random.Random(3)
    try:

        async def caller(i: int) -> None:
            req = request(f"r{i}", rng.randint(1, 30), rng.randint(0, 9), rng.randint(1, 40))
            if rng.random() < 0.3:
                async with aclosing(loop.generate(req, req.sampling.max_new_tokens, (EOS,))) as chunks:
                    async for chunk in chunks:
                        if chunk.token_ids and rng.random() < 0.2:
                            return  # the caller lets go mid-stream
            else:
                assert len(await tokens_of(loop, req)) == req.sampling.max_new_tokens

        await asyncio.gather(*(caller(i) for i in range(200)))
        await settle(loop)
        assert_empty(loop, runner)
    finally:
        loop.stop()
        await loop.join()


async def test_the_first_chunk_says_how_long_the_request_queued() -> None:
    loop, _runner = make_loop()
    try:
        req = request("a", 3)
        async with aclosing(loop.generate(req, 3, (EOS,))) as chunks:
            first: TokenChunk = await anext(chunks)
            assert first.queued_s is not None and not first.token_ids
    finally:
        loop.stop()
        await loop.join()


async def test_a_full_queue_refuses_at_once_and_a_deadline_expires_in_the_queue() -> None:
    loop, runner = make_loop(Knobs(token_latency_s=0.01), max_running=1, max_queue=1)
    try:
        busy = asyncio.create_task(tokens_of(loop, request("busy", 50)))
        await asyncio.sleep(0.05)
        waiting = request("waiting", 2)
        late = BackendRequest("late", [1], SamplingConfig(max_new_tokens=2), deadline=0.0)
        waiter = asyncio.create_task(tokens_of(loop, waiting))
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull):
            await tokens_of(loop, request("refused", 2))
        busy.cancel()
        await asyncio.gather(busy, return_exceptions=True)
        assert len(await waiter) == 2
        with pytest.raises(DeadlineExceeded):
            await tokens_of(loop, late)
        await settle(loop)
        assert_empty(loop, runner)
    finally:
        loop.stop()
        await loop.join()


async def test_a_failing_request_fails_alone_and_a_stopped_loop_fails_the_rest() -> None:
    loop, _runner = make_loop(Knobs(token_latency_s=0.002, fail_after_tokens=3))
    try:
        doomed = asyncio.create_task(tokens_of(loop, request("doomed", 10)))
        survivor = await tokens_of(loop, request("survivor", 3))  # done before the failure point
        assert len(survivor) == 3
        with pytest.raises(BackendFailure):
            await doomed
        loop.runner.behaviour.fail_after_tokens = None  # type: ignore[attr-defined]
        loop.runner.behaviour.hang_after_tokens = 5  # type: ignore[attr-defined]
        stuck = asyncio.create_task(tokens_of(loop, request("stuck", 10)))
        await asyncio.sleep(0.1)
    finally:
        loop.stop()
        await loop.join()
    with pytest.raises(BackendFailure, match="hung"):
        await stuck


async def test_a_caller_that_stops_reading_is_held_and_resumes_when_it_reads_on() -> None:
    runner = FakeRunner(lambda request: [7] * 5000, EOS, Knobs())
    loop = StepLoop(Scheduler(SchedulerConfig(max_running=4), KVCacheManager(8192, 16)), runner)
    loop.start()
    try:
        stalled = loop.generate(request("stalled", 5000), 5000, (EOS,))
        first = await anext(stalled)  # started (with any tokens already waiting); then no reads
        others = await asyncio.gather(*(tokens_of(loop, request(f"o{i}", 50)) for i in range(3)))
        assert [len(o) for o in others] == [50, 50, 50]  # the others run while it is held
        [seq] = loop.scheduler.running
        await asyncio.sleep(0.2)
        produced = len(seq.output_ids)
        # No backlog past the bound (the first read may have taken a full queue at once, merged).
        assert seq.held and produced <= 2 * MAX_BACKLOG + 8
        await asyncio.sleep(0.2)
        assert len(seq.output_ids) == produced
        read = len(first.token_ids)
        async for chunk in stalled:  # reading on resumes it, to the end
            read += len(chunk.token_ids)
        assert read == 5000
        await settle(loop)
        assert_empty(loop, runner)
    finally:
        loop.stop()
        await loop.join()


async def test_a_caller_that_falls_behind_gets_the_queued_tokens_merged_into_one_chunk() -> None:
    runner = FakeRunner(lambda request: list(range(10, 110)), EOS, Knobs())
    loop = StepLoop(Scheduler(SchedulerConfig(max_running=4), KVCacheManager(8192, 16)), runner)
    loop.start()
    try:
        behind = loop.generate(request("behind", 500), 500, (EOS,))
        chunks = [await anext(behind)]  # started (with whatever tokens were already queued)
        await settle(loop)  # the rest, and the end of sequence, wait in the caller's queue
        for _ in range(500):  # the thread has handed everything over (it forgets the sink after)
            if not loop._sinks:
                break
            await asyncio.sleep(0.01)
        # That hand-over is already scheduled on this event loop, ahead of this coroutine's wake-up.
        await asyncio.sleep(0)
        chunks += [chunk async for chunk in behind]
        assert chunks[0].queued_s is not None
        assert [t for c in chunks for t in c.token_ids] == list(range(10, 110))
        assert len(chunks) <= 2 and chunks[-1].eos  # one or two messages' worth: not a hundred
        assert_empty(loop, runner)
    finally:
        loop.stop()
        await loop.join()


async def test_a_running_request_ends_when_its_deadline_passes() -> None:
    loop, runner = make_loop(Knobs(token_latency_s=0.002), max_running=4)
    try:
        late = BackendRequest(
            "late", [1, 2, 3], SamplingConfig(max_new_tokens=150), deadline=time.monotonic() + 0.1
        )
        got: list[int] = []
        with pytest.raises(DeadlineExceeded, match="deadline passed after"):
            async with aclosing(loop.generate(late, 150, (EOS,))) as chunks:
                async for chunk in chunks:
                    got += chunk.token_ids
        assert 0 < len(got) < 150  # it ran, and stopped at its deadline rather than at its length
        assert len(await tokens_of(loop, request("next", 5))) == 5
        await settle(loop)
        assert_empty(loop, runner)
    finally:
        loop.stop()
        await loop.join()
