"""The scheduler: which sequences prefill and which decode in the next step. No model, no torch.

Each step it
1. ends waiting sequences that may no longer start (their deadline or queue timeout passed), and
   running ones whose deadline passed (their caller has given up: no compute is spent on them);
2. pauses the least urgent running sequence while a more urgent one waits and the batch is full (the
   paused one keeps its cache and resumes where it stopped);
3. fills the batch from the queue, most urgent first (priority with aging, see request_queue.py),
   while the KV cache has room for the newcomer's prompt;
4. plans one token for every decoding sequence, then prompt chunks for the prefilling ones within a
   token budget: `max_step_tokens` when nothing decodes, `chunk_tokens` while something does, so a
   long prompt is prefilled over several steps instead of stalling every running stream. A prompt
   token deep in a long context costs more than one near its start (it attends to everything before
   it), so chunks shrink as the context grows (`attention_context`) and each step stays as short;
5. after the runner has run the plan, `update` records the tokens and ends the sequences that are done.

A sequence whose cache cannot grow by its next token preempts the least urgent running sequence: that
one's cache is freed and prefilled again (prompt and output so far) when it is scheduled anew.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from autoglm_core.runtime.kv_cache import KVCacheManager
from autoglm_core.runtime.request_queue import RequestQueue
from autoglm_core.runtime.sequence import Sequence, Status
from autoglm_core.runtime.types import BackendRequest


@dataclass(frozen=True)
class SchedulerConfig:
    """The runtime's one set of scheduling settings."""

    # Sequences in the batch (decoding or prefilling) at most.
    max_running: int = 16
    # Requests waiting for the batch at most; beyond it the caller is refused (QueueFull).
    max_queue: int = 256
    # Longest wait before a request must have started, seconds (a request's own deadline may be sooner).
    queue_timeout_s: float = 30.0
    # A waiting request gains one priority level per this many seconds (0: strict priority).
    aging_s: float = 5.0
    # Prompt tokens prefilled in one step when no sequence decodes.
    max_step_tokens: int = 1024
    # Prompt tokens prefilled in one step while sequences decode: bounds their longest token gap.
    chunk_tokens: int = 64
    # The context length at which a token's attention costs as much as the rest of its pass (the
    # runner's model decides it; 0: attention is not counted). A chunk starting at context c then
    # takes budget / (1 + c / attention_context) tokens.
    attention_context: int = 0


@dataclass
class PrefillChunk:
    """Tokens [start, start + len(token_ids)) of a sequence's prompt (and output, after preemption)."""

    seq: Sequence
    start: int
    token_ids: list[int]

    @property
    def completes(self) -> bool:
        """True when this chunk reaches the end of what must be computed: its logits pick a token."""
        return self.start + len(self.token_ids) >= self.seq.num_tokens


@dataclass
class StepPlan:
    prefills: list[PrefillChunk] = field(default_factory=list)
    decodes: list[Sequence] = field(default_factory=list)
    # Sequences whose cache the runner must drop before the step (preempted: recomputed later).
    preempted: list[Sequence] = field(default_factory=list)
    # Scheduled for the first time in this step (their queue wait ends now).
    started: list[Sequence] = field(default_factory=list)
    # Waited past their start-by time: they end with DeadlineExceeded.
    expired: list[Sequence] = field(default_factory=list)
    # Were running when their request's deadline passed: they end with DeadlineExceeded too.
    overdue: list[Sequence] = field(default_factory=list)

    @property
    def has_work(self) -> bool:
        return bool(self.prefills or self.decodes)

    @property
    def sequences(self) -> list[Sequence]:
        return [c.seq for c in self.prefills] + self.decodes


@dataclass(frozen=True)
class Sampled:
    """What the runner produced for one sequence in a step."""

    token_id: int
    logprob: float | None = None
    # The sequence's constraint says the document is complete: nothing more may follow.
    constraint_done: bool = False


@dataclass
class RunnerOutput:
    # Keyed by Sequence.order.
    sampled: dict[int, Sampled] = field(default_factory=dict)
    # Cache length after the step of each prefilled sequence (the runner may restore a cached prefix).
    computed: dict[int, int] = field(default_factory=dict)
    errors: dict[int, Exception] = field(default_factory=dict)
    # The decode pass stopped part-way for an urgent arrival: no decode produced a token.
    interrupted: bool = False


@dataclass(frozen=True)
class Outcome:
    """One sequence's result of a step, for the step loop to deliver."""

    seq: Sequence
    token_id: int | None = None
    logprob: float | None = None
    eos: bool = False
    finished: bool = False
    error: Exception | None = None


class Scheduler:
    """Owns the queue, the batch and the cache's capacity; every method runs on the step loop's thread."""

    def __init__(self, config: SchedulerConfig, kv_cache: KVCacheManager) -> None:
        self.config = config
        self.kv_cache = kv_cache
        self.waiting = RequestQueue(config.aging_s)
        self.running: list[Sequence] = []
        self._orders = itertools.count()

    # -- requests in and out ---------------------------------------------------------------------

    def new_sequence(
        self, request: BackendRequest, now: float, max_new_tokens: int, eos_ids: Iterable[int]
    ) -> Sequence:
        start_by = now + self.config.queue_timeout_s
        if request.deadline is not None:
            start_by = min(start_by, request.deadline)
        # Alone in the cache it can always finish: so the most urgent sequence always makes progress.
        room = self.kv_cache.num_blocks * self.kv_cache.block_size - len(request.prompt_ids)
        return Sequence(
            request=request,
            arrival=now,
            order=next(self._orders),
            max_new_tokens=max(1, min(max_new_tokens, room)),
            eos_ids=frozenset(eos_ids),
            start_by=start_by,
        )

    def fits_at_all(self, prompt_tokens: int) -> bool:
        """Whether a prompt of this size could ever be scheduled (the whole cache for itself)."""
        return self.kv_cache.blocks_for(prompt_tokens + 1) <= self.kv_cache.num_blocks

    def add(self, seq: Sequence) -> None:
        self.waiting.add(seq)

    def abort(self, seq: Sequence) -> bool:
        """Removes a sequence wherever it is and frees its blocks; False if it had already ended."""
        if seq.status is Status.FINISHED:
            return False
        self._finish(seq)
        return True

    @property
    def has_work(self) -> bool:
        return bool(self.running) or len(self.waiting) > 0

    def urgent_waiting(self, now: float) -> bool:
        """Whether a waiter may pause a running sequence (checked between layers of a long step)."""
        best = self.waiting.peek(now)
        if best is None or not self.running:
            return False
        return best.priority < max(s.rank for s in self.running)

    # -- planning --------------------------------------------------------------------------------

    def schedule(self, now: float) -> StepPlan:
        plan = StepPlan()
        self._expire(now, plan)
        self._pause_for_urgent(now)
        self._admit(now, plan)
        budget = self._plan_decodes(plan)
        self._plan_prefills(plan, budget)
        return plan

    def _expire(self, now: float, plan: StepPlan) -> None:
        for seq in self.waiting:
            if seq.first_scheduled is None and seq.start_by is not None and now >= seq.start_by:
                self._finish(seq)
                plan.expired.append(seq)
        # Started ones (running or paused): the caller's cancel would end them too, but only once
        # its event loop gets to it.
        for seq in [*self.running, *self.waiting]:
            if seq.first_scheduled is not None and _past(seq.request.deadline, now):
                self._finish(seq)
                plan.overdue.append(seq)

    def _pause_for_urgent(self, now: float) -> None:
        while len(self.running) >= self.config.max_running:
            best = self.waiting.peek(now)
            if best is None:
                return
            least = self._least_urgent()
            # The waiter's own priority (not its aged one) must beat the rank the runner won with:
            # aging lets a waiter into the next free place, it never pauses an equal.
            if least is None or best.priority >= least.rank:
                return
            self.running.remove(least)
            least.status = Status.WAITING
            self.waiting.add(least)
            if best is least:
                return

    def _admit(self, now: float, plan: StepPlan) -> None:
        while len(self.running) < self.config.max_running:
            seq = self.waiting.peek(now)
            if seq is None:
                return
            # A paused sequence holds its blocks already; a new one needs room for its prompt.
            if not self.kv_cache.can_grow(seq.key, seq.num_tokens + 1):
                return
            self.waiting.remove(seq)
            seq.status = Status.RUNNING
            seq.rank = self.waiting.effective_priority(seq, now)
            if seq.first_scheduled is None:
                seq.first_scheduled = now
                plan.started.append(seq)
            self.running.append(seq)

    def _plan_decodes(self, plan: StepPlan) -> int:
        """Plans one token for each decoding sequence; returns the prefill budget left."""
        for seq in sorted(self.running, key=lambda s: (s.rank, s.order)):
            if seq.status is not Status.RUNNING or seq.prefilling or seq.held:
                continue
            if self._make_room(seq, seq.num_tokens, plan):
                plan.decodes.append(seq)
        return self.config.chunk_tokens if plan.decodes else self.config.max_step_tokens

    def _plan_prefills(self, plan: StepPlan, budget: int) -> None:
        for seq in sorted(self.running, key=lambda s: (s.rank, s.order)):
            if budget <= 0:
                return
            if seq.status is not Status.RUNNING or not seq.prefilling:
                continue
            size = self._chunk_size(seq.num_computed, budget)
            tokens = seq.all_ids[seq.num_computed : seq.num_computed + size]
            if not self._make_room(seq, seq.num_computed + len(tokens), plan):
                continue
            plan.prefills.append(PrefillChunk(seq, seq.num_computed, tokens))
            budget -= self._cost(seq.num_computed, len(tokens))

    def _chunk_size(self, context: int, budget: int) -> int:
        """Tokens of a chunk starting at `context` that fit in `budget` (at least one)."""
        scale = self.config.attention_context
        return budget if scale <= 0 else max(1, budget * scale // (scale + context))

    def _cost(self, context: int, tokens: int) -> int:
        """A chunk's share of the step budget, its attention counted."""
        scale = self.config.attention_context
        return tokens if scale <= 0 else -(-tokens * (scale + context) // scale)

    def _make_room(self, seq: Sequence, tokens: int, plan: StepPlan) -> bool:
        """Grows `seq`'s blocks to `tokens`, preempting less urgent sequences if the cache is full;
        False when `seq` itself had to give way."""
        key = seq.key
        while not self.kv_cache.can_grow(key, tokens):
            victim = self._least_urgent()
            if victim is None:
                return False
            self._preempt(victim, plan)
            if victim is seq:
                return False
        self.kv_cache.grow(key, tokens)
        return True

    def _preempt(self, seq: Sequence, plan: StepPlan) -> None:
        self.running.remove(seq)
        self.kv_cache.free(seq.key)
        seq.num_computed = 0
        seq.status = Status.WAITING
        self.waiting.add(seq)
        plan.preempted.append(seq)
        plan.decodes = [s for s in plan.decodes if s is not seq]
        plan.prefills = [c for c in plan.prefills if c.seq is not seq]

    def _least_urgent(self) -> Sequence | None:
        return max(self.running, key=lambda s: (s.rank, s.order), default=None)

    # -- results ---------------------------------------------------------------------------------

    def update(self, plan: StepPlan, output: RunnerOutput) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for seq in plan.sequences:
            if seq.status is Status.FINISHED:  # aborted while the step ran
                continue
            error = output.errors.get(seq.order)
            if error is not None:
                self._finish(seq)
                outcomes.append(Outcome(seq, finished=True, error=error))
                continue
            if seq.order in output.computed:
                seq.num_computed = output.computed[seq.order]
            sampled = output.sampled.get(seq.order)
            if sampled is None:
                continue  # a chunk that did not reach the end, or an interrupted decode
            if not seq.prefilling:  # a decode step computed the last output token
                seq.num_computed = seq.num_tokens
            outcomes.append(self._take(seq, sampled))
        return outcomes

    def _take(self, seq: Sequence, sampled: Sampled) -> Outcome:
        if sampled.token_id in seq.eos_ids:
            self._finish(seq)
            return Outcome(seq, eos=True, finished=True)
        seq.output_ids.append(sampled.token_id)
        done = sampled.constraint_done
        finished = done or len(seq.output_ids) >= seq.max_new_tokens
        if finished:
            self._finish(seq)
        return Outcome(seq, sampled.token_id, sampled.logprob, eos=done, finished=finished)

    def _finish(self, seq: Sequence) -> None:
        seq.status = Status.FINISHED
        self.waiting.remove(seq)
        if seq in self.running:
            self.running.remove(seq)
        self.kv_cache.free(seq.key)


def _past(deadline: float | None, now: float) -> bool:
    return deadline is not None and now >= deadline
