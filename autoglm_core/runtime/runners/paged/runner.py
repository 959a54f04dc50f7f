"""The paged runner: every sequence's keys and values in one block pool, batched attention over block
tables, decode steps as CUDA graphs on a GPU, prompt-head blocks shared across requests.

A step runs the plan's prompt chunks together in one padded pass (each row its own length and start,
so chunked prefill continues where the last chunk stopped), then one pass for every decoding
sequence. Blocks come from the pool as a sequence grows and go back when it is freed (finished,
cancelled, preempted). The scheduler's KVCacheManager accounts the same blocks: a pool at least as
large never runs out, since a shared block counts once here and once per holder there.

With `prefix_reuse`, a new prompt first takes the blocks another request already computed for the same
head (keys as in block_pool.py, salted past the shared head); full prompt blocks are keyed as soon as a
chunk has computed them, so concurrent requests share them too.

The same code runs on CPU (in fp32 there, no graphs), which is how CI tests it. Greedy output does not
depend on the batch: each row attends over its own blocks only (padding is masked).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel

from autoglm_core.runtime.runners.paged.block_pool import BlockPool, prompt_keys
from autoglm_core.runtime.runners.paged.graphs import DecodeGraphs
from autoglm_core.runtime.runners.paged.kv_pages import (
    KVShape,
    PagedCache,
    PagedKV,
    RowWork,
    StepTensors,
    step_tensors,
)
from autoglm_core.runtime.sampler import SamplerState, sample
from autoglm_core.runtime.scheduler import PrefillChunk, RunnerOutput, StepPlan
from autoglm_core.runtime.sequence import Sequence

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _State:
    blocks: list[int] = field(default_factory=list)
    # Tokens whose keys and values are in `blocks`.
    length: int = 0
    sampler: SamplerState | None = None
    # Prefix keys of the prompt's full blocks (computed once), and how many of its blocks are keyed.
    keys: list[bytes] | None = None
    remembered: int = 0


def unsupported_reason(model: PreTrainedModel) -> str | None:
    """Why the paged runner cannot serve `model`, or None."""
    config = model.config.get_text_config()
    layer_types = getattr(config, "layer_types", None) or []
    if any(kind != "full_attention" for kind in layer_types):
        return "layers other than full attention (sliding window, linear attention)"
    if getattr(config, "sliding_window", None) and not layer_types:
        return "sliding-window attention"
    if not hasattr(model, "lm_head") or not hasattr(model.base_model, "layers"):
        return "not a decoder-only causal LM with an lm_head"
    return None


def cache_kwarg(module: torch.nn.Module) -> str:
    """transformers 5.24 renamed forward's `past_key_values` to `cache` (the old name warns)."""
    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def kv_shape(model: PreTrainedModel) -> KVShape:
    config = model.config.get_text_config()
    heads = int(config.num_attention_heads)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
    return KVShape(int(config.num_hidden_layers), kv_heads, head_dim)


class PagedRunner:
    """Implements runtime.runner.ModelRunner over a paged KV cache."""

    def __init__(
        self,
        model: PreTrainedModel,
        num_blocks: int,
        block_size: int = 16,
        *,
        prefix_reuse: bool = False,
        cuda_graphs: bool | None = None,
        num_threads: int | None = None,
    ) -> None:
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(f"the paged runner does not support this model: {reason}")
        self.model = model
        self.device = next(model.parameters()).device
        self.block_size = block_size
        self.num_threads = num_threads
        self.prefix_reuse = prefix_reuse
        dtype = next(model.parameters()).dtype
        # One more than the scheduler's blocks: block 0 is the scratch block for padding.
        self.pool = BlockPool(num_blocks + 1)
        self.kv = PagedKV(kv_shape(model), num_blocks + 1, block_size, dtype, self.device)
        model.set_attn_implementation("sdpa")
        self._base = model.base_model
        self._cache_kwarg = cache_kwarg(self._base)
        capture = self.device.type == "cuda" if cuda_graphs is None else cuda_graphs
        # Graph capture needs CUDA; `cuda_graphs=True` on CPU runs the same padded path eagerly.
        self.graphs = DecodeGraphs(
            self.forward_step, block_size, self.device, capture and self.device.type == "cuda"
        )
        self.use_graphs = capture
        self._states: dict[int, _State] = {}
        self._thread_ready = False

    # -- the ModelRunner protocol ----------------------------------------------------------------

    def execute(self, plan: StepPlan, interrupt: Callable[[], bool]) -> RunnerOutput:
        """Runs prompt chunks, then decodes; a decode pass is short here, so `interrupt` is not asked."""
        self._prepare_thread()
        output = RunnerOutput()
        with torch.inference_mode():
            if plan.prefills:
                self._prefill(plan.prefills, output)
            if plan.decodes:
                self._decode(plan.decodes, output)
        return output

    def free(self, seq: Sequence) -> None:
        state = self._states.pop(seq.order, None)
        if state is not None:
            # Last block first: a shared head is then the last of the chain to be evicted.
            for block in reversed(state.blocks):
                self.pool.release(block)

    def close(self) -> None:
        pass

    def cached_tokens(self, seq: Sequence) -> int:
        """Tokens of `seq` held in the cache (0 once freed)."""
        state = self._states.get(seq.order)
        return state.length if state is not None else 0

    # -- forward passes --------------------------------------------------------------------------

    def forward_step(self, step: StepTensors) -> torch.Tensor:
        """One pass over a step's padded rows: logits [rows, vocab] (fp32) at each row's last token."""
        out = self._base(
            input_ids=step.input_ids,
            position_ids=step.positions,
            attention_mask=step.mask(self.block_size),
            use_cache=True,
            **{self._cache_kwarg: PagedCache(self.kv, step)},
        )
        hidden = out.last_hidden_state[torch.arange(step.last.shape[0], device=self.device), step.last]
        logits: torch.Tensor = self.model.lm_head(hidden).float()
        return logits

    def forward(self, rows: list[RowWork]) -> torch.Tensor:
        return self.forward_step(step_tensors(rows, self.block_size, self.device))

    def probe_logits(self, probe: list[int]) -> torch.Tensor:
        """Logits of `probe[:-1]` prefilled and `probe[-1]` decoded, through both paths (load check)."""
        state = _State()
        try:
            with torch.inference_mode():
                self._reserve(state, len(probe))
                first = self.forward([RowWork(probe[:-1], 0, state.blocks)])[0]
                row = RowWork(probe[-1:], len(probe) - 1, state.blocks)
                second = (self.graphs.run([row]) if self.use_graphs else self.forward([row]))[0]
        finally:
            for block in reversed(state.blocks):
                self.pool.release(block)
        return torch.stack([first, second])

    def _prefill(self, chunks: list[PrefillChunk], output: RunnerOutput) -> None:
        """Runs the chunks in one pass (restoring shared prompt heads first); on a failure each chunk
        runs again alone, so that a failing request fails alone."""
        todo: list[tuple[PrefillChunk, _State, RowWork]] = []
        for chunk in chunks:
            state = self._state(chunk.seq)
            if chunk.start == 0 and state.length == 0 and self.prefix_reuse:
                self._restore(chunk.seq, state)
            output.computed[chunk.seq.order] = state.length
            tokens = chunk.seq.all_ids[state.length : chunk.start + len(chunk.token_ids)]
            if tokens:  # else a restored head covered the whole chunk
                self._reserve(state, state.length + len(tokens))
                todo.append((chunk, state, RowWork(tokens, state.length, list(state.blocks))))
        if not todo:
            return
        try:
            logits = self.forward([row for _, _, row in todo])
        except Exception as exc:
            if len(todo) > 1:  # find the culprit: each again on its own
                for chunk, _, _ in todo:
                    self._prefill([chunk], output)
                return
            logger.exception("prefill of %s failed", todo[0][0].seq.request_id)
            output.errors[todo[0][0].seq.order] = exc
            return
        done: list[tuple[Sequence, _State, int]] = []
        for i, (chunk, state, row) in enumerate(todo):
            state.length += len(row.tokens)
            output.computed[chunk.seq.order] = state.length
            if self.prefix_reuse:
                self._remember(chunk.seq, state)
            if chunk.completes:
                done.append((chunk.seq, state, i))
        if done:
            rows = logits[torch.tensor([i for _, _, i in done], device=logits.device)]
            self._sample([s for s, _, _ in done], rows, [st for _, st, _ in done], output)

    def _decode(self, seqs: list[Sequence], output: RunnerOutput) -> None:
        states = [self._state(seq) for seq in seqs]
        rows = []
        for seq, state in zip(seqs, states, strict=True):
            self._reserve(state, state.length + 1)
            rows.append(RowWork([seq.output_ids[-1]], state.length, list(state.blocks)))
        logits = self.graphs.run(rows) if self.use_graphs else self.forward(rows)
        for state in states:
            state.length += 1
        self._sample(seqs, logits, states, output)

    def _sample(
        self, seqs: list[Sequence], logits: torch.Tensor, states: list[_State], output: RunnerOutput
    ) -> None:
        samplers = []
        for seq, state in zip(seqs, states, strict=True):
            if state.sampler is None:
                state.sampler = SamplerState.for_sequence(seq, self.device)
            samplers.append(state.sampler)
        for seq, sampled in zip(seqs, sample(seqs, logits, samplers), strict=True):
            output.sampled[seq.order] = sampled

    # -- blocks ----------------------------------------------------------------------------------

    def _reserve(self, state: _State, tokens: int) -> None:
        """Grows the sequence's blocks to hold `tokens` tokens."""
        needed = -(-tokens // self.block_size)
        while len(state.blocks) < needed:
            state.blocks.append(self.pool.allocate())

    def _restore(self, seq: Sequence, state: _State) -> None:
        """Takes the longest run of cached blocks that starts the prompt (the last prompt token is
        always computed: its logits pick the first token)."""
        for key in self._keys(seq, state)[: (len(seq.prompt_ids) - 1) // self.block_size]:
            block = self.pool.find(key)
            if block is None:
                break
            state.blocks.append(block)
        state.remembered = len(state.blocks)  # found by their keys: keyed already
        state.length = len(state.blocks) * self.block_size

    def _remember(self, seq: Sequence, state: _State) -> None:
        """Keys the prompt's blocks that are now full and computed."""
        keys = self._keys(seq, state)
        full = min(state.length // self.block_size, len(keys))
        for i in range(state.remembered, full):
            self.pool.remember(state.blocks[i], keys[i])
        state.remembered = max(state.remembered, full)

    def _keys(self, seq: Sequence, state: _State) -> list[bytes]:
        if state.keys is None:
            request = seq.request
            state.keys = prompt_keys(
                request.prompt_ids,
                self.block_size,
                len(request.prompt_ids) // self.block_size,
                request.cache_salt,
                request.shared_prefix_tokens,
            )
        return state.keys

    def _state(self, seq: Sequence) -> _State:
        state = self._states.get(seq.order)
        if state is None:
            state = self._states[seq.order] = _State()
        return state

    def _prepare_thread(self) -> None:
        """torch's thread count is per thread: set it once in the step loop's own thread."""
        if not self._thread_ready:
            self._thread_ready = True
            if self.num_threads and self.device.type == "cpu":
                torch.set_num_threads(self.num_threads)
