"""A runner without a model, for tests and the mock backend: each request's output is fixed up front.

It runs inside the real step loop and scheduler, so tests of queueing, priorities, cancellation and
faults exercise the same code as the real model. Faults and latency come from a behaviour object the
test can change while the server runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Sequence as Seq
from typing import Protocol

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


class FakeRunner:
    def __init__(
        self, reply: Callable[[BackendRequest], Seq[int]], eos_id: int, behaviour: FakeBehaviour
    ) -> None:
        self.reply = reply
        self.eos_id = eos_id
        self.behaviour = behaviour
        self._replies: dict[int, Seq[int]] = {}
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
        token = ids[index] if index < len(ids) else self.eos_id
        logprob = -0.5 if seq.request.want_logprobs else None
        output.sampled[seq.order] = Sampled(token, logprob)

    def free(self, seq: Sequence) -> None:
        self._replies.pop(seq.order, None)

    def close(self) -> None:
        self._closed.set()
