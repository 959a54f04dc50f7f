"""One request as the runtime tracks it: what it asked for and how far it has got.

Plain data, no torch: the scheduler plans with it, the model runner keeps its tensors elsewhere
(keyed by `request_id`), and the step loop hands tokens back to the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field

from autoglm_core.runtime.types import BackendRequest


class Status(enum.Enum):
    WAITING = "waiting"  # not in the batch: new, paused by a more urgent request, or preempted
    RUNNING = "running"  # in the batch: prefilling (chunk by chunk) or decoding
    FINISHED = "finished"  # ended: EOS, length, constraint done, cancelled, failed or expired


@dataclass(eq=False)
class Sequence:
    """A request inside the runtime."""

    request: BackendRequest
    # time.monotonic() when it arrived; waiting time ages its priority from here.
    arrival: float
    # Arrival order, ties broken first come first served.
    order: int
    # Most new tokens (already cut to the context length) and the ids that end the sequence.
    max_new_tokens: int
    eos_ids: frozenset[int]
    # time.monotonic() after which it may no longer start (request deadline or queue timeout).
    start_by: float | None = None
    status: Status = Status.WAITING
    # Tokens whose keys and values are in the cache: prompt and output tokens, counted together.
    num_computed: int = 0
    output_ids: list[int] = field(default_factory=list)
    # The most likely tokens (id, logprob) at the last sampled step, when the request asked for them;
    # set by the sampler, delivered with that step's token by the step loop.
    last_top_logprobs: tuple[tuple[int, float], ...] = ()
    # The priority it was scheduled with (aging included); a waiter must beat it to pause it.
    rank: float = 0.0
    # When it was first scheduled (the end of its queue wait); None while it never ran.
    first_scheduled: float | None = None
    # Its caller is far behind on reading its tokens: it keeps its place but is not decoded until
    # the caller catches up (or gives up), so a stalled reader costs no compute and no memory.
    held: bool = False

    @property
    def key(self) -> str:
        """Unique within the runtime (callers may reuse request ids): keys cache blocks and runner state."""
        return str(self.order)

    @property
    def request_id(self) -> str:
        return self.request.request_id

    @property
    def priority(self) -> int:
        return self.request.priority

    @property
    def prompt_ids(self) -> Seq[int]:
        return self.request.prompt_ids

    @property
    def all_ids(self) -> list[int]:
        """Prompt then output: what a preempted sequence prefills again to get its cache back."""
        return [*self.request.prompt_ids, *self.output_ids]

    @property
    def num_tokens(self) -> int:
        return len(self.request.prompt_ids) + len(self.output_ids)

    @property
    def prefilling(self) -> bool:
        """True while tokens other than the newest output token wait to be computed (a new prompt, or
        prompt and output again after a preemption); a decode step computes the newest output token."""
        return self.num_computed < self.num_tokens - (1 if self.output_ids else 0)
