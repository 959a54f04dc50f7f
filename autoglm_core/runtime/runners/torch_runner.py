"""The PyTorch runner: runs a planned step through the lean Llama decoder or transformers' own forward.

Each request keeps its own KV cache (ragged.SequenceKV) and each row of a batch attends over exactly
its own keys, so a request's logits do not depend on what else is in the batch: greedy output is the
same batched and alone, and a seeded sample reproduces (see ragged.py).

A step runs the plan's prompt chunks first (on the lean decoder together in one pass, each row over
its own segment; on transformers' forward one by one), then one decode pass over every decoding
request. A decode pass on the lean decoder stops between layers when the step loop reports an urgent
arrival: the caches are rolled back and the step is redone after that request's prefill.

A request that names an adapter (BackendRequest.adapter) gets that adapter's LoRA deltas on its rows
of the same passes (runtime/lora.py); `adapters` looks its weights up by name.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel

from autoglm_core.runtime.lora import LoraWeights
from autoglm_core.runtime.runners.llama_decoder import LlamaDecoder, StepInterrupted
from autoglm_core.runtime.runners.prefix_cache import PrefixCache
from autoglm_core.runtime.runners.ragged import RaggedCache, SequenceKV, active_cache
from autoglm_core.runtime.sampler import SamplerState, sample
from autoglm_core.runtime.scheduler import PrefillChunk, RunnerOutput, StepPlan
from autoglm_core.runtime.sequence import Sequence

logger = logging.getLogger(__name__)

# An adapter's weights by name (set by the backend that owns the adapters); KeyError when not resident.
AdapterLookup = Callable[[str], LoraWeights]


@dataclass(eq=False)
class _State:
    kv: SequenceKV = field(default_factory=SequenceKV)
    sampler: SamplerState | None = None


class TorchRunner:
    def __init__(
        self, model: PreTrainedModel, decoder: LlamaDecoder | None = None, num_threads: int | None = None
    ) -> None:
        self.model = model
        # The lean forward pass where the model is one it covers; transformers' forward otherwise.
        self.decoder = decoder
        self.device = next(model.parameters()).device
        self.num_threads = num_threads
        # Set after the load's checks when a prefix cache is configured (the checks must run cold).
        self.prefix_cache: PrefixCache | None = None
        self.cache_kwarg = cache_kwarg(model)
        # Set by the backend when this runner serves adapters (the lean decoder only).
        self.adapters: AdapterLookup | None = None
        self._states: dict[int, _State] = {}
        self._thread_ready = False

    # -- the ModelRunner protocol ----------------------------------------------------------------

    def execute(self, plan: StepPlan, interrupt: Callable[[], bool]) -> RunnerOutput:
        self._prepare_thread()
        output = RunnerOutput()
        with torch.inference_mode():
            if plan.prefills:
                self._prefill(plan.prefills, output)
            if plan.decodes:
                self._decode(plan.decodes, output, interrupt)
        return output

    def free(self, seq: Sequence) -> None:
        self._states.pop(seq.order, None)

    def close(self) -> None:
        pass

    def cached_tokens(self, seq: Sequence) -> int:
        """Tokens of `seq` held in its KV cache (0 once freed)."""
        state = self._states.get(seq.order)
        return state.kv.length if state is not None else 0

    # -- forward passes --------------------------------------------------------------------------

    def forward(
        self,
        rows: list[SequenceKV],
        tokens: list[list[int]],
        interrupt: Callable[[], bool] | None = None,
        seqs: Seq[Sequence] = (),
    ) -> torch.Tensor:
        """One pass over `rows`, each extended by its `tokens`; each row's last logits [B, vocab].
        `seqs` (in row order) name the rows' adapters."""
        adapters = self._adapters_of(seqs)
        if self.decoder is not None:
            return self.decoder.forward(rows, tokens, interrupt, adapters)
        if adapters is not None:  # never the base model in an adapter's place
            raise RuntimeError("adapters run on the lean decoder only")
        input_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)
        n = input_ids.shape[1]
        starts = torch.tensor([[kv.length] for kv in rows], dtype=torch.long, device=self.device)
        position_ids = starts + torch.arange(n, device=self.device)[None, :]
        cache = RaggedCache(rows)
        with active_cache(cache):
            out = self.model(
                input_ids=input_ids,
                position_ids=position_ids,
                use_cache=True,
                logits_to_keep=1,
                **{self.cache_kwarg: cache},
            )
        logits: torch.Tensor = out.logits[:, -1, :].float()
        return logits

    def _prefill(self, chunks: list[PrefillChunk], output: RunnerOutput) -> None:
        """Runs the chunks (restoring cached prompt heads first); a failing request fails alone."""
        work = [(chunk, self._state(chunk.seq)) for chunk in chunks]
        runs = [(c, s, self._tokens_to_run(c, s)) for c, s in work]
        todo = [(c, s, t) for c, s, t in runs if t]
        for chunk, state, _ in runs:
            output.computed[chunk.seq.order] = state.kv.length  # a restored head beyond the chunk
        # Chunks whose tokens a restored prefix covered already have nothing left to run.
        groups = ([todo] if todo else []) if self.decoder is not None else [[item] for item in todo]
        for group in groups:
            try:
                logits = self.forward(
                    [s.kv for _, s, _ in group], [t for _, _, t in group], seqs=[c.seq for c, _, _ in group]
                )
            except Exception as exc:
                if len(group) > 1:  # find the culprit: each again on its own
                    for chunk, state, _ in group:
                        state.kv.truncate(chunk.start)
                    for chunk, _, _ in group:  # one at a time: a group of one is never regrouped
                        self._prefill([chunk], output)
                    return
                logger.exception("prefill of %s failed", group[0][0].seq.request_id)
                output.errors[group[0][0].seq.order] = exc
                continue
            self._after_prefill(group, logits, output)

    def _tokens_to_run(self, chunk: PrefillChunk, state: _State) -> list[int]:
        seq = chunk.seq
        if chunk.start == 0 and state.kv.length == 0 and self.prefix_cache is not None:
            self.prefix_cache.restore(seq.prompt_ids, state.kv, *self._cache_key(seq))
        end = chunk.start + len(chunk.token_ids)
        return seq.all_ids[state.kv.length : end]

    def _after_prefill(
        self, group: list[tuple[PrefillChunk, _State, list[int]]], logits: torch.Tensor, output: RunnerOutput
    ) -> None:
        done = []
        for row, (chunk, state, _) in enumerate(group):
            output.computed[chunk.seq.order] = state.kv.length
            if self.prefix_cache is not None:
                # Chunk by chunk: a long prompt's copy is spread over its steps, not paid in its last.
                self.prefix_cache.store(chunk.seq.prompt_ids, state.kv, *self._cache_key(chunk.seq))
            if chunk.completes:
                done.append((chunk.seq, state, row))
        if done:
            rows = logits[torch.tensor([row for _, _, row in done])]
            self._sample([seq for seq, _, _ in done], rows, [state for _, state, _ in done], output)

    def _decode(self, seqs: list[Sequence], output: RunnerOutput, interrupt: Callable[[], bool]) -> None:
        states = [self._state(seq) for seq in seqs]
        lengths = [s.kv.length for s in states]
        tokens = [[seq.output_ids[-1]] for seq in seqs]
        try:
            logits = self.forward([s.kv for s in states], tokens, interrupt if self.decoder else None, seqs)
        except StepInterrupted:
            for state, length in zip(states, lengths, strict=True):
                state.kv.truncate(length)
            output.interrupted = True
            return
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

    def _adapters_of(self, seqs: Seq[Sequence]) -> list[LoraWeights | None] | None:
        """Each row's adapter weights (None for base rows); None when no row has one."""
        names = [seq.request.adapter for seq in seqs]
        if not any(names):
            return None
        if self.adapters is None:
            raise RuntimeError("this runner serves no adapters")
        lookup = self.adapters
        return [lookup(name) if name else None for name in names]

    def _cache_key(self, seq: Sequence) -> tuple[str, int]:
        """Prefix-cache salt and shared head: an adapter's keys and values are its own, so its
        requests share nothing with the base model's or with another load of the adapter."""
        request = seq.request
        if not request.adapter or self.adapters is None:
            return request.cache_salt, request.shared_prefix_tokens
        load_id = self.adapters(request.adapter).load_id
        return f"adapter:{load_id}/{request.cache_salt}", 0

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


def cache_kwarg(model: PreTrainedModel) -> str:
    """transformers 5.24 renamed forward's `past_key_values` to `cache` (the old name warns)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
