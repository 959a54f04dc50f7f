"""The scheduler without a model: plans, priorities, aging, chunked prefill, the cache's capacity.

The pattern of vLLM's scheduler tests (tests/v1/core/utils.py): build a scheduler, feed it
requests, play the runner's part by hand, and check every plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.scheduler import RunnerOutput, Sampled, Scheduler, SchedulerConfig, StepPlan
from autoglm_core.runtime.sequence import Sequence, Status
from autoglm_core.runtime.types import BackendRequest, SamplingConfig

EOS = 0


def create_scheduler(blocks: int = 10_000, block_size: int = 4, **config: object) -> Scheduler:
    return Scheduler(SchedulerConfig(**config), KVCacheManager(blocks, block_size))  # type: ignore[arg-type]


def add(
    scheduler: Scheduler,
    name: str,
    prompt: int = 8,
    priority: int = 5,
    max_new: int = 4,
    now: float = 0.0,
    deadline: float | None = None,
) -> Sequence:
    request = BackendRequest(
        request_id=name,
        prompt_ids=list(range(1, prompt + 1)),
        sampling=SamplingConfig(max_new_tokens=max_new),
        priority=priority,
        deadline=deadline,
    )
    seq = scheduler.new_sequence(request, now, max_new, (EOS,))
    scheduler.add(seq)
    return seq


def run(plan: StepPlan, token: int = 7) -> RunnerOutput:
    """The runner's part: every chunk computed, a token for every finished prefill and every decode."""
    output = RunnerOutput()
    for chunk in plan.prefills:
        output.computed[chunk.seq.order] = chunk.start + len(chunk.token_ids)
        if chunk.completes:
            output.sampled[chunk.seq.order] = Sampled(token)
    for seq in plan.decodes:
        output.sampled[seq.order] = Sampled(token)
    return output


def step(scheduler: Scheduler, now: float = 0.0, token: int = 7) -> StepPlan:
    plan = scheduler.schedule(now)
    scheduler.update(plan, run(plan, token))
    return plan


def names(seqs: list[Sequence]) -> list[str]:
    return [s.request_id for s in seqs]


def test_a_request_prefills_then_decodes_to_its_length_and_frees_its_blocks() -> None:
    scheduler = create_scheduler()
    seq = add(scheduler, "a", prompt=8, max_new=3)
    first = step(scheduler)
    assert [(c.start, len(c.token_ids)) for c in first.prefills] == [(0, 8)] and not first.decodes
    assert seq.output_ids == [7] and seq.num_computed == 8
    assert names(step(scheduler).decodes) == ["a"]
    step(scheduler)
    assert seq.status is Status.FINISHED and seq.output_ids == [7, 7, 7]
    assert scheduler.kv_cache.used_blocks == 0 and not scheduler.has_work


def test_eos_ends_a_request_without_adding_the_token() -> None:
    scheduler = create_scheduler()
    seq = add(scheduler, "a", max_new=10)
    step(scheduler)
    step(scheduler, token=EOS)
    assert seq.status is Status.FINISHED and seq.output_ids == [7]
    assert scheduler.kv_cache.used_blocks == 0


def test_a_long_prompt_is_prefilled_in_chunks_while_the_others_decode_every_step() -> None:
    scheduler = create_scheduler(max_step_tokens=1024, chunk_tokens=16)
    streams = [add(scheduler, f"s{i}", prompt=4, max_new=100) for i in range(3)]
    step(scheduler)  # the three short prompts in one prefill
    long = add(scheduler, "long", prompt=100, max_new=2)
    chunks = []
    while long.prefilling:
        plan = step(scheduler)
        assert names(plan.decodes) == ["s0", "s1", "s2"]  # no stream misses a step
        chunks += [len(c.token_ids) for c in plan.prefills]
    assert chunks == [16] * 6 + [4] and long.output_ids == [7]
    assert all(len(s.output_ids) == 1 + 7 for s in streams)


def test_chunks_shrink_as_the_context_grows_when_attention_is_counted() -> None:
    # attention_context 32: a token at context 32 costs twice one at the start.
    scheduler = create_scheduler(chunk_tokens=16, attention_context=32)
    add(scheduler, "stream", prompt=4, max_new=100)
    step(scheduler)
    long = add(scheduler, "long", prompt=100, max_new=2)
    chunks = []
    while long.prefilling:
        plan = step(scheduler)
        assert names(plan.decodes) == ["stream"]
        chunks += [(c.start, len(c.token_ids)) for c in plan.prefills]
    # 16 * 32 // (32 + start) tokens from each start, the last chunk what is left.
    assert chunks == [(0, 16), (16, 10), (26, 8), (34, 7), (41, 7), (48, 6), (54, 5), (59, 5), (64, 5),
                      (69, 5), (74, 4), (78, 4), (82, 4), (86, 4), (90, 4), (94, 4), (98, 2)]  # fmt: skip
    assert long.output_ids == [7]


def test_a_chunk_deep_in_a_context_leaves_budget_for_the_next_prompt_by_its_cost() -> None:
    scheduler = create_scheduler(chunk_tokens=16, attention_context=16)
    add(scheduler, "stream", prompt=4, max_new=100)
    step(scheduler)
    first = add(scheduler, "first", prompt=18, max_new=2)
    second = add(scheduler, "second", prompt=40, max_new=2)
    plan = step(scheduler)
    # first: 16 tokens at context 0 take the whole budget; next step it has 2 left at context 16, a
    # cost of ceil(2 * 32 / 16) = 4, and second gets the 12 left (at context 0, 12 tokens).
    assert [(c.seq.request_id, len(c.token_ids)) for c in plan.prefills] == [("first", 16)]
    plan = step(scheduler)
    assert [(c.seq.request_id, len(c.token_ids)) for c in plan.prefills] == [("first", 2), ("second", 12)]
    assert first.output_ids == [7] and second.prefilling


def test_prompts_that_arrive_together_share_one_prefill_step_within_the_budget() -> None:
    scheduler = create_scheduler(max_step_tokens=20)
    for i in range(4):
        add(scheduler, f"p{i}", prompt=8)
    plan = step(scheduler)
    assert [(c.seq.request_id, len(c.token_ids)) for c in plan.prefills] == [("p0", 8), ("p1", 8), ("p2", 4)]


def test_an_urgent_arrival_pauses_the_least_urgent_which_keeps_its_cache_and_resumes() -> None:
    scheduler = create_scheduler(max_running=2, aging_s=0)
    bulk = [add(scheduler, f"bulk{i}", priority=9, max_new=50) for i in range(2)]
    step(scheduler)
    held = scheduler.kv_cache.held(bulk[1].key)
    urgent = add(scheduler, "urgent", priority=0, max_new=2)
    assert scheduler.urgent_waiting(0.0)
    plan = step(scheduler)
    assert names(scheduler.running) == ["bulk0", "urgent"] and [c.seq.request_id for c in plan.prefills] == [
        "urgent"
    ]
    assert bulk[1].status is Status.WAITING and scheduler.kv_cache.held(bulk[1].key) == held
    assert not plan.preempted  # paused, not preempted: nothing to recompute
    step(scheduler)
    assert urgent.status is Status.FINISHED
    plan = step(scheduler)
    assert names(plan.decodes) == ["bulk0", "bulk1"]  # resumed where it stopped
    assert bulk[1].num_computed == bulk[1].num_tokens - 1


def test_equal_priorities_never_pause_each_other() -> None:
    scheduler = create_scheduler(max_running=1)
    add(scheduler, "first", max_new=5)
    step(scheduler)
    add(scheduler, "second", max_new=5)
    assert not scheduler.urgent_waiting(100.0)
    plan = step(scheduler, now=100.0)
    assert names(plan.decodes) == ["first"] and not plan.prefills


def test_aging_lets_a_waiting_low_priority_in_before_fresh_urgent_arrivals() -> None:
    scheduler = create_scheduler(max_running=1, aging_s=1.0)
    add(scheduler, "busy", priority=0, max_new=2)
    step(scheduler)
    old = add(scheduler, "old", priority=5, max_new=2, now=0.0)
    add(scheduler, "fresh", priority=0, max_new=2, now=6.0)
    step(scheduler, now=6.0)  # busy finishes
    step(scheduler, now=6.0)
    # After 6 s the priority-5 request counts as -1: it goes before the fresh priority 0.
    assert old.first_scheduled == 6.0 and names(scheduler.running) == ["old"]


def test_a_waiter_whose_deadline_passes_expires_and_one_that_ran_does_not() -> None:
    scheduler = create_scheduler(max_running=1, queue_timeout_s=30)
    add(scheduler, "running", max_new=100)
    step(scheduler)
    late = add(scheduler, "late", deadline=1.0)
    timeout = add(scheduler, "timeout", now=0.0)
    plan = scheduler.schedule(2.0)
    assert plan.expired == [late] and late.status is Status.FINISHED
    plan = scheduler.schedule(31.0)
    assert plan.expired == [timeout]
    assert names(scheduler.running) == ["running"]


def test_a_full_cache_preempts_the_least_urgent_which_is_recomputed_later() -> None:
    # 6 blocks of 4 tokens: each request fits alone (8 + 12 tokens), not both at full length.
    scheduler = create_scheduler(blocks=6, block_size=4, max_running=3, aging_s=0)
    low = add(scheduler, "low", priority=9, max_new=12)
    high = add(scheduler, "high", priority=1, max_new=12)
    step(scheduler)
    assert set(names(scheduler.running)) == {"low", "high"}
    preempted: list[Sequence] = []
    for _ in range(20):
        preempted += step(scheduler).preempted
        if preempted:
            break
    assert preempted == [low] and low.status is Status.WAITING and low.num_computed == 0
    assert high.status is Status.RUNNING
    while high.status is not Status.FINISHED:
        step(scheduler)
    while low.status is not Status.FINISHED:
        step(scheduler)
    assert len(low.output_ids) == 12 and scheduler.kv_cache.used_blocks == 0


def test_a_request_longer_than_the_whole_cache_is_cut_to_what_fits() -> None:
    scheduler = create_scheduler(blocks=6, block_size=4)
    seq = add(scheduler, "long", prompt=8, max_new=100)
    assert seq.max_new_tokens == 16
    while scheduler.has_work:
        step(scheduler)
    assert len(seq.output_ids) == 16


def test_a_sequence_aborted_in_any_state_frees_its_blocks() -> None:
    scheduler = create_scheduler(max_running=1)
    running = add(scheduler, "running", max_new=10)
    waiting = add(scheduler, "waiting", max_new=10)
    step(scheduler)
    assert scheduler.abort(running) and scheduler.abort(waiting)
    assert not scheduler.abort(running)  # once
    assert scheduler.kv_cache.used_blocks == 0 and not scheduler.has_work


@dataclass
class _Tally:
    finished: int = 0
    aborted: int = 0
    expired: int = 0


def _random_run(seed: int) -> tuple[list[tuple[str, int]], _Tally]:
    """A random life: arrivals, aborts and steps; returns the order requests first ran in."""
    rng = random.Random(seed)
    scheduler = create_scheduler(
        blocks=rng.randint(40, 200),
        block_size=4,
        max_running=rng.randint(1, 6),
        chunk_tokens=rng.randint(1, 32),
        max_step_tokens=rng.randint(8, 64),
        attention_context=rng.choice([0, 4, 64]),
        aging_s=rng.choice([0.0, 0.5, 5.0]),
        queue_timeout_s=rng.choice([3.0, 1000.0]),
    )
    live: list[Sequence] = []
    tally, started, now = _Tally(), [], 0.0
    for i in range(rng.randint(20, 60)):
        seq = add(scheduler, f"r{i}", rng.randint(1, 40), rng.randint(0, 9), rng.randint(1, 12), now)
        live.append(seq)
        for _ in range(rng.randint(0, 3)):
            now += rng.random() * 0.2
            if live and rng.random() < 0.1:
                victim = rng.choice(live)
                tally.aborted += scheduler.abort(victim)
            plan = scheduler.schedule(now)
            tally.expired += len(plan.expired)
            started += [(s.request_id, s.priority) for s in plan.started]
            for outcome in scheduler.update(plan, run(plan, token=rng.choice([7, 7, 7, EOS]))):
                tally.finished += outcome.finished
            _check_invariants(scheduler)
    while scheduler.has_work:
        now += 0.1
        plan = scheduler.schedule(now)
        tally.expired += len(plan.expired)
        started += [(s.request_id, s.priority) for s in plan.started]
        tally.finished += sum(o.finished for o in scheduler.update(plan, run(plan)))
        _check_invariants(scheduler)
    for seq in live:  # no request lost: every one ended one way or another
        assert seq.status is Status.FINISHED
    assert tally.finished + tally.aborted + tally.expired == len(live)
    assert scheduler.kv_cache.used_blocks == 0  # no block leaked
    return started, tally


def _check_invariants(scheduler: Scheduler) -> None:
    config = scheduler.config
    assert len(scheduler.running) <= config.max_running
    assert scheduler.kv_cache.used_blocks <= scheduler.kv_cache.num_blocks
    holders = {s.key for s in scheduler.running} | {s.key for s in scheduler.waiting}
    assert scheduler.kv_cache.holders() <= holders  # only live sequences hold blocks
    for seq in scheduler.running:
        assert seq.status is Status.RUNNING
        assert scheduler.kv_cache.held(seq.key) * scheduler.kv_cache.block_size >= seq.num_computed


def test_a_thousand_random_lives_lose_no_request_and_leak_no_block() -> None:
    for seed in range(1000):
        _random_run(seed)


def test_a_run_is_deterministic_given_its_seed() -> None:
    assert _random_run(7) == _random_run(7)


def test_with_strict_priority_a_queue_starts_most_urgent_first() -> None:
    scheduler = create_scheduler(max_running=1, aging_s=0)
    add(scheduler, "busy", priority=0, max_new=1)
    for name, priority in (("bulk", 9), ("normal", 5), ("urgent", 0), ("normal2", 5)):
        add(scheduler, name, priority=priority, max_new=1)
    started = []
    while scheduler.has_work:
        started += names(step(scheduler).started)
    assert started == ["busy", "urgent", "normal", "normal2", "bulk"]
