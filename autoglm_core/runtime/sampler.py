"""The batched sampler: each row's next token under its own request's parameters.

Greedy rows share one argmax over the batch; rows that sample, penalise repetition, hold EOS back
(min_new_tokens) or follow a constraint (structured output) are processed one by one with their own
generator, so a seeded request draws the same tokens whatever else is in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autoglm_core.runtime.scheduler import Sampled
from autoglm_core.runtime.sequence import Sequence
from autoglm_core.runtime.types import SamplingConfig


@dataclass(eq=False)
class SamplerState:
    """Per-request sampling state, kept by the runner from the first token to the last."""

    generator: torch.Generator | None
    # Token ids seen so far (prompt and output), for the repetition penalty; None when it is off.
    seen: torch.Tensor | None

    @classmethod
    def for_sequence(cls, seq: Sequence, device: torch.device) -> SamplerState:
        s = seq.request.sampling
        generator = None
        if s.temperature > 0:
            # A per-request generator: a seed reproduces the same sample whatever else is in the batch.
            generator = torch.Generator(device=device)
            generator.manual_seed(s.seed)
        seen = None
        if s.repetition_penalty != 1.0:
            seen = torch.tensor(sorted(set(seq.all_ids)), dtype=torch.long, device=device)
        return cls(generator, seen)


def sample(seqs: list[Sequence], logits: torch.Tensor, states: list[SamplerState]) -> list[Sampled]:
    """One token for each row of `logits` [B, vocab] (fp32)."""
    # One argmax (and, on a GPU, one device->host copy) for the whole batch.
    greedy = logits.argmax(dim=-1).tolist()
    return [
        _sample_row(seq, row, g, state)
        for seq, row, g, state in zip(seqs, logits, greedy, states, strict=True)
    ]


def _sample_row(seq: Sequence, logits: torch.Tensor, greedy: int, state: SamplerState) -> Sampled:
    sampling = seq.request.sampling
    constraint = seq.request.constraint
    processing = _needs_processing(sampling)
    if constraint is not None:  # first: a complete document allows only EOS, whatever min_new_tokens
        logits = logits.clone()
        constraint.mask_logits(logits)
        greedy = int(logits.argmax())
    held_back = greedy in seq.eos_ids or processing  # else masking EOS changes nothing
    if len(seq.output_ids) < sampling.min_new_tokens and held_back:
        # Not allowed to end yet: EOS gets -inf, as transformers' MinNewTokensLogitsProcessor does.
        masked = logits.clone()
        masked[list(seq.eos_ids)] = float("-inf")
        if bool(torch.isfinite(masked).any()):  # unless EOS is all the constraint allows
            logits = masked
            greedy = int(logits.argmax())
    token = greedy
    if processing:
        processed = logits
        if state.seen is not None:
            processed = _apply_repetition_penalty(logits, state.seen, sampling.repetition_penalty)
        token = _draw(processed, sampling, state.generator)
    logprob = None
    if seq.request.want_logprobs:
        # Of the distribution the token was picked from (after the constraint and min_new_tokens).
        logprobs = torch.log_softmax(logits, dim=-1)
        logprob = float(logprobs[token])
        seq.last_top_logprobs = _top(logprobs, seq.request.top_logprobs)
    done = False
    if constraint is not None:
        constraint.accept(token)
        done = constraint.is_finished()
    if state.seen is not None:
        state.seen = torch.cat([state.seen, state.seen.new_tensor([token])])
    return Sampled(token, logprob, done)


def _top(logprobs: torch.Tensor, k: int) -> tuple[tuple[int, float], ...]:
    if k <= 0:
        return ()
    values, ids = torch.topk(logprobs, min(k, logprobs.shape[0]))
    return tuple(zip(ids.tolist(), values.tolist(), strict=True))


def _needs_processing(s: SamplingConfig) -> bool:
    return s.temperature > 0 or s.repetition_penalty != 1.0


def _apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """HF's rule: seen tokens' logits are divided by the penalty when positive, multiplied when negative."""
    scores = logits.gather(0, seen)
    scores = torch.where(scores < 0, scores * penalty, scores / penalty)
    return logits.scatter(0, seen, scores)


def _draw(logits: torch.Tensor, s: SamplingConfig, generator: torch.Generator | None) -> int:
    """One token from a 1-D logits row with temperature, top-k and top-p."""
    if s.temperature <= 0:
        return int(logits.argmax())
    logits = logits / s.temperature
    if 0 < s.top_k < logits.shape[0]:
        kth = torch.topk(logits, s.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if s.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the tokens ranked above it already reach top_p (the first always stays).
        drop = (torch.cumsum(probs, dim=-1) - probs) >= s.top_p
        logits = logits.scatter(0, order, sorted_logits.masked_fill(drop, float("-inf")))
    probs = torch.softmax(logits, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))
