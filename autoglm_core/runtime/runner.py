"""What the step loop asks of a model runner: run a planned step, forget a sequence.

A runner knows no policy: it computes what the scheduler planned (prompt chunks, one decode token per
decoding sequence), samples each sequence's next token where the plan asks for one, and keeps each
sequence's cache until `free`. Implementations: runners/torch_runner.py (the lean Llama decoder with
the native kernels, or transformers' own modules) and runners/fake.py (tests and the mock backend).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from autoglm_core.runtime.scheduler import RunnerOutput, StepPlan
from autoglm_core.runtime.sequence import Sequence


class ModelRunner(Protocol):
    def execute(self, plan: StepPlan, interrupt: Callable[[], bool]) -> RunnerOutput:
        """Runs the plan's prefill chunks, then its decodes.

        `interrupt` may be asked during a long decode pass: when it says so the runner may stop,
        undo the pass and report `interrupted` (no decode tokens this step)."""
        ...

    def free(self, seq: Sequence) -> None:
        """Drops the sequence's cache and state (finished, cancelled or preempted)."""
        ...

    def close(self) -> None:
        """Wakes anything the runner waits on; the step loop is stopping."""
        ...
