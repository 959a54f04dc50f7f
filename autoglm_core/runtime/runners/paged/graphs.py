"""Decode steps replayed as CUDA graphs: one replay per step instead of hundreds of kernel launches.

A decode step's tensors have fixed shapes once its rows and block-table width are rounded up to a
bucket (powers of two), so each (rows, width) bucket is captured the first time it is needed and
replayed after that with the step's contents copied into its static inputs. Padding rows and padded
table entries point at the scratch block. Graphs share one memory pool; a replay's logits are read
before the next replay (the step loop runs one step at a time).

With `capture=False` (CPU) the same padded, static-buffer path runs eagerly, so tests cover it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from autoglm_core.runtime.runners.paged.kv_pages import RowWork, StepTensors, step_tensors

Forward = Callable[[StepTensors], torch.Tensor]


def bucket(n: int) -> int:
    """The power of two at or above n."""
    return 1 << max(0, n - 1).bit_length()


@dataclass(eq=False)
class _Graph:
    inputs: StepTensors
    logits: torch.Tensor
    graph: torch.cuda.CUDAGraph | None


class DecodeGraphs:
    def __init__(self, forward: Forward, block_size: int, device: torch.device, capture: bool) -> None:
        self.forward = forward
        self.block_size = block_size
        self.device = device
        self.capture = capture
        self._graphs: dict[tuple[int, int], _Graph] = {}
        self._pool = torch.cuda.graph_pool_handle() if capture else None

    @property
    def captured(self) -> list[tuple[int, int]]:
        """The (rows, width) buckets captured so far."""
        return sorted(self._graphs)

    def run(self, rows: list[RowWork]) -> torch.Tensor:
        """Logits [len(rows), vocab] of one decode token per row."""
        shape = (bucket(len(rows)), bucket(max(len(r.blocks) for r in rows)))
        graph = self._graphs.get(shape)
        if graph is None:
            graph = self._graphs[shape] = self._build(*shape)
        graph.inputs.copy_(step_tensors(rows, self.block_size, self.device, *shape))
        if graph.graph is None:
            return self.forward(graph.inputs)[: len(rows)]
        graph.graph.replay()
        return graph.logits[: len(rows)]

    def _build(self, num_rows: int, width: int) -> _Graph:
        # Static inputs: all rows padding (they write to and read the scratch block only).
        inputs = step_tensors([RowWork([0], 0, [0])], self.block_size, self.device, num_rows, width)
        if not self.capture:
            return _Graph(inputs, torch.empty(0), None)
        # Warm up on a side stream (lazy initialisation must not happen during capture).
        stream = torch.cuda.Stream()  # type: ignore[no-untyped-call]
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):
                self.forward(inputs)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            logits = self.forward(inputs)
        return _Graph(inputs, logits, graph)
