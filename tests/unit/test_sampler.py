"""The batched sampler without a model: per-request parameters, EOS held back, outside constraints."""

from __future__ import annotations

import torch

from autoglm_core.runtime.sampler import SamplerState, sample
from autoglm_core.runtime.sequence import Sequence
from autoglm_core.runtime.types import BackendRequest, SamplingConfig

VOCAB, EOS = 16, 0


class OnlyTokens:
    """A TokenConstraint that allows a fixed sequence of tokens, one at a time, then is finished."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens
        self.accepted: list[int] = []

    def mask_logits(self, logits: torch.Tensor) -> None:
        allowed = self.tokens[len(self.accepted)]
        keep = logits[allowed].clone()
        logits.fill_(float("-inf"))
        logits[allowed] = keep

    def accept(self, token_id: int) -> None:
        assert token_id == self.tokens[len(self.accepted)]
        self.accepted.append(token_id)

    def is_finished(self) -> bool:
        return len(self.accepted) == len(self.tokens)


def seq(
    order: int, sampling: SamplingConfig, constraint: OnlyTokens | None = None, logprobs: bool = False
) -> Sequence:
    request = BackendRequest(f"r{order}", [1, 2, 3], sampling, want_logprobs=logprobs, constraint=constraint)
    return Sequence(request, 0.0, order, sampling.max_new_tokens, frozenset({EOS}))


def logits_favouring(*tokens: int) -> torch.Tensor:
    rows = torch.zeros(len(tokens), VOCAB)
    for row, token in enumerate(tokens):
        rows[row, token] = 10.0
    return rows


def states(seqs: list[Sequence]) -> list[SamplerState]:
    return [SamplerState.for_sequence(s, torch.device("cpu")) for s in seqs]


def test_greedy_rows_take_their_argmax() -> None:
    seqs = [seq(i, SamplingConfig()) for i in range(3)]
    picked = sample(seqs, logits_favouring(4, 5, 6), states(seqs))
    assert [p.token_id for p in picked] == [4, 5, 6]


def test_eos_is_held_back_until_min_new_tokens() -> None:
    early = seq(0, SamplingConfig(min_new_tokens=2))
    picked = sample([early], logits_favouring(EOS), states([early]))
    assert picked[0].token_id != EOS
    early.output_ids += [5, 5]
    assert sample([early], logits_favouring(EOS), states([early]))[0].token_id == EOS


def test_a_constraint_decides_its_row_only_and_says_when_it_is_done() -> None:
    constraint = OnlyTokens([9, 3])
    constrained, free = seq(0, SamplingConfig(), constraint), seq(1, SamplingConfig())
    both = [constrained, free]
    first = sample(both, logits_favouring(4, 4), states(both))
    assert [p.token_id for p in first] == [9, 4] and not first[0].constraint_done
    second = sample(both, logits_favouring(4, 4), states(both))
    assert [p.token_id for p in second] == [3, 4] and second[0].constraint_done
    assert constraint.accepted == [9, 3]


def test_a_seeded_sample_does_not_depend_on_the_rest_of_the_batch() -> None:
    sampling = SamplingConfig(temperature=1.0, top_k=8, seed=42)
    logits = torch.randn(3, VOCAB, generator=torch.Generator().manual_seed(0))
    alone = seq(0, sampling)
    alone_states = states([alone])
    draws_alone = [sample([alone], logits[:1], alone_states)[0].token_id for _ in range(10)]
    batch = [seq(0, sampling), seq(1, SamplingConfig(temperature=1.0, seed=7)), seq(2, SamplingConfig())]
    batch_states = states(batch)
    draws_batched = [sample(batch, logits, batch_states)[0].token_id for _ in range(10)]
    assert draws_alone == draws_batched


def test_logprobs_are_of_the_picked_token() -> None:
    row = seq(0, SamplingConfig(), logprobs=True)
    logits = logits_favouring(5)
    picked = sample([row], logits, states([row]))[0]
    assert picked.logprob is not None
    assert abs(picked.logprob - float(torch.log_softmax(logits[0], -1)[5])) < 1e-6


def test_top_logprobs_are_the_most_likely_tokens_best_first() -> None:
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0] + [-5.0] * (VOCAB - 4)])
    wanted = Sequence(
        BackendRequest("r0", [1, 2, 3], SamplingConfig(), want_logprobs=True, top_logprobs=3),
        0.0,
        0,
        16,
        frozenset({EOS}),
    )
    plain = seq(1, SamplingConfig(), logprobs=True)
    both = torch.cat([logits, logits])
    picked = sample([wanted, plain], both, states([wanted, plain]))
    expected = torch.log_softmax(logits[0], dim=-1)
    assert [token for token, _ in wanted.last_top_logprobs] == [1, 3, 2]
    assert [lp for _, lp in wanted.last_top_logprobs] == [float(expected[i]) for i in (1, 3, 2)]
    assert picked[0].logprob == wanted.last_top_logprobs[0][1]
    assert plain.last_top_logprobs == ()  # only the rows that ask pay for them
