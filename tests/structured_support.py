"""Drives token constraints with the real default model's logits the way a batched greedy sampler
does (mask, argmax, accept), so structured output is tested on real logits independently of the
runtime's own sampler."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import torch

from autoglm_core.runtime.constraint import TokenConstraint


@dataclass
class Row:
    """One request of a greedy batch: its prompt, its constraint and what it produced."""

    prompt_ids: list[int]
    constraint: TokenConstraint | None
    output_ids: list[int] = field(default_factory=list)
    done: bool = False


@cache
def default_model() -> tuple[Any, Any]:
    """The default model (fp32) and its Hugging Face tokenizer, loaded once per test session."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from autoglm_core.models.default_model import ensure_default_model

    path = ensure_default_model(progress=False)
    model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    if os.environ.get("AUTOGLM_TEST_DEVICE"):  # e.g. cuda, for a larger run on an accelerator
        model = model.to(os.environ["AUTOGLM_TEST_DEVICE"])
    return model, AutoTokenizer.from_pretrained(path)


@torch.inference_mode()
def greedy_batch(
    rows: Sequence[Row], *, max_new_tokens: int, eos_ids: Sequence[int], model: Any = None
) -> None:
    """Generates for all rows together: one forward pass per step over the unfinished rows' batch
    (left-padded, with a KV cache); each row's constraint masks its logits before the argmax."""
    model = model or default_model()[0]
    device = model.device
    width = max(len(r.prompt_ids) for r in rows)
    ids = torch.tensor([[0] * (width - len(r.prompt_ids)) + r.prompt_ids for r in rows])
    mask = torch.tensor([[0] * (width - len(r.prompt_ids)) + [1] * len(r.prompt_ids) for r in rows])
    cache = None
    for _ in range(max_new_tokens):
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1] :]
        out = model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            cache=cache,
            logits_to_keep=1,
        )
        cache = out.cache
        logits = out.logits[:, -1, :].float().cpu()
        picks = []
        for row, row_logits in zip(rows, logits, strict=True):
            picks.append(_pick(row, row_logits, eos_ids))
        if all(r.done for r in rows):
            return
        ids = torch.tensor(picks).unsqueeze(1)
        mask = torch.cat([mask, torch.ones(len(rows), 1, dtype=mask.dtype)], dim=1)


def _pick(row: Row, logits: torch.Tensor, eos_ids: Sequence[int]) -> int:
    if row.done:
        return 0  # a finished row keeps its slot in the batch; its tokens are ignored
    if row.constraint is not None:
        row.constraint.mask_logits(logits)
    token = int(torch.argmax(logits))
    if row.constraint is not None:
        row.constraint.accept(token)
    if token in eos_ids:
        row.done = True
        return token
    row.output_ids.append(token)
    row.done = row.constraint is not None and row.constraint.is_finished()
    return token
