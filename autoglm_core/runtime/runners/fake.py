"""A runner without a model, for tests and the mock backend: each request's output is fixed up front.

It runs inside the real step loop and scheduler, so tests of queueing, priorities, cancellation and
faults exercise the same code as the real model. Faults and latency come from a behaviour object the
test can change while the server runs.

A request with a constraint (structured output) is steered as a sampler would steer a model: the
scripted reply is the model's preference, and a scripted token the constraint does not allow is
skipped; when the script has nothing allowed left, EOS is taken if allowed, else the lowest allowed id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Sequence as Seq
from typing import Protocol

import numpy as np

from autoglm_core.runtime.constraint import TokenConstraint
from autoglm_core.runtime.scheduler import RunnerOutput, Sampled, StepPlan
from autoglm_core.runtime.sequence import Sequence
from autoglm_core.runtime.types import BackendRequest


class FakeBehaviour(Protocol):
    # Seconds each step takes (every sequence in the batch gets one token per step).
    token_latency_s: float
    # Fail a sequence when it reaches this many output tokens (None: never).
    fail_after_tokens: int | None
    # Stop making progress at this many output tokens, until the runner is closed (None: never).
    hang_after_tokens: int | None
    # Follow each request's constraint (else the reply is written as it is).
    honour_constraints: bool


class FakeRunner:
    def __init__(
        self,
        reply: Callable[[BackendRequest], Seq[int]],
        eos_id: int,
        behaviour: FakeBehaviour,
        vocab_size: int | None = None,
    ) -> None:
        self.reply = reply
        self.eos_id = eos_id
        self.behaviour = behaviour
        # The size of the "logits" a constraint masks; needed only for constrained requests.
        self.vocab_size = vocab_size
        self._replies: dict[int, Seq[int]] = {}
        # Per constrained sequence: how far into its script it has got (skipped tokens included).
        self._cursors: dict[int, int] = {}
        self._closed = threading.Event()

    def execute(self, plan: StepPlan, interrupt: Callable[[], bool]) -> RunnerOutput:
        if self.behaviour.token_latency_s:
            time.sleep(self.behaviour.token_latency_s)
        output = RunnerOutput()
        for chunk in plan.prefills:
            output.computed[chunk.seq.order] = chunk.start + len(chunk.token_ids)
            if chunk.completes:
                self._sample(chunk.seq, output)
        for seq in plan.decodes:
            self._sample(seq, output)
        return output

    def _sample(self, seq: Sequence, output: RunnerOutput) -> None:
        index = len(seq.output_ids)
        hang_after = self.behaviour.hang_after_tokens
        if hang_after is not None and index >= hang_after:
            self._closed.wait()  # a wedged runtime: the whole step stops until close()
            raise RuntimeError("mock backend closed while a request hung")
        fail_after = self.behaviour.fail_after_tokens
        if fail_after is not None and index >= fail_after:
            output.errors[seq.order] = RuntimeError("mock backend failure injected")
            return
        ids = self._replies.get(seq.order)
        if ids is None:
            ids = self._replies[seq.order] = self.reply(seq.request)
        constraint = seq.request.constraint
        if constraint is None or not self.behaviour.honour_constraints:
            token = ids[index] if index < len(ids) else self.eos_id
            done = False
        else:
            token = self._steer(seq.order, ids, constraint)
            constraint.accept(token)
            done = constraint.is_finished()
        logprob = None
        if seq.request.want_logprobs:
            logprob = -0.5
            # Made-up alternatives, best first: the chosen token, then the ids after it (within the
            # vocabulary, where it is known).
            count, size = seq.request.top_logprobs, self.vocab_size
            seq.last_top_logprobs = tuple(
                ((token + i) % size if size else token + i, -0.5 - i) for i in range(count)
            )
        output.sampled[seq.order] = Sampled(token, logprob, done)

    def _steer(self, order: int, ids: Seq[int], constraint: TokenConstraint) -> int:
        """The next token of a constrained sequence: the script's next allowed one, else EOS, else the
        lowest allowed id."""
        if self.vocab_size is None:
            raise RuntimeError("a constrained request needs the fake runner's vocab_size")
        logits = np.zeros(self.vocab_size, dtype=np.float32)
        constraint.mask_logits(logits)
        allowed = np.isfinite(logits)
        cursor = self._cursors.get(order, 0)
        while cursor < len(ids) and not allowed[ids[cursor]]:
            cursor += 1
        self._cursors[order] = cursor + 1
        if cursor < len(ids):
            return int(ids[cursor])
        if allowed[self.eos_id] or not allowed.any():
            return self.eos_id
        return int(np.flatnonzero(allowed)[0])

    def free(self, seq: Sequence) -> None:
        self._replies.pop(seq.order, None)
        self._cursors.pop(seq.order, None)

    def close(self) -> None:
        self._closed.set()
