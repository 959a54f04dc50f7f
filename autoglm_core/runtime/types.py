"""What goes into the runtime and what comes out of it: token ids in, token ids out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoglm_core.runtime.constraint import TokenConstraint


@dataclass(frozen=True)
class SamplingConfig:
    """Resolved sampling parameters. temperature 0 means greedy decoding."""

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 256
    # EOS is not chosen before this many new tokens.
    min_new_tokens: int = 0
    seed: int = 0
    repetition_penalty: float = 1.0


@dataclass(frozen=True)
class BackendRequest:
    """One generation as the backend sees it."""

    request_id: str
    prompt_ids: Sequence[int]
    sampling: SamplingConfig
    want_logprobs: bool = False
    # With want_logprobs: how many of the most likely tokens to report at each step (0: none).
    top_logprobs: int = 0
    # 0 (most urgent) to 9; a backend that batches lets urgent requests in first.
    priority: int = 5
    # Limits the tokens the model may pick (structured output); None: any token.
    constraint: TokenConstraint | None = None
    # time.monotonic() by which it must have started generating, else DeadlineExceeded; None: no limit.
    deadline: float | None = None
    # Keys prompt-cache blocks past `shared_prefix_tokens`, so that one caller's prompt can never be
    # found (by timing) in another caller's cache; "" shares the whole prompt.
    cache_salt: str = ""
    # Leading prompt tokens that the server wrote (template head, server system prompt): shared by all.
    shared_prefix_tokens: int = 0
    # Name of the adapter (LoRA) of the model version to generate with; "" is the base model.
    adapter: str = ""


@dataclass(frozen=True)
class TokenChunk:
    """Tokens produced since the previous chunk (usually one per decoding step)."""

    token_ids: Sequence[int]
    # Log-probabilities of token_ids when the request asked for them, else empty.
    logprobs: Sequence[float] = ()
    # Per token of token_ids, the request's top_logprobs most likely tokens as (id, logprob), best
    # first; empty when not asked for.
    top_logprobs: Sequence[Sequence[tuple[int, float]]] = ()
    # True when the backend stopped because it produced an end-of-sequence token.
    eos: bool = False
    # Set on the request's first chunk (no tokens): seconds it waited before it was scheduled.
    queued_s: float | None = None
