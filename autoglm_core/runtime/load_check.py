"""The load-time check: a runner must reproduce transformers' own logits before it serves a model."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel
from transformers.cache_utils import DynamicCache

from autoglm_core.errors import FailedPrecondition
from autoglm_core.runtime.runners.ragged import SequenceKV
from autoglm_core.runtime.runners.torch_runner import TorchRunner, cache_kwarg


def reference_logits(model: PreTrainedModel, probe: list[int]) -> torch.Tensor:
    """Logits of the probe prompt and one decode step, computed the plain HF way."""
    device = next(model.parameters()).device
    with torch.inference_mode():
        ids = torch.tensor([probe], device=device)
        cache = {cache_kwarg(model): DynamicCache()}
        first = model(input_ids=ids[:, :-1], use_cache=True, **cache).logits[0, -1]
        second = model(input_ids=ids[:, -1:], use_cache=True, **cache).logits[0, -1]
    return torch.stack([first, second]).float()


def check_against_reference(
    runner: TorchRunner, probe: list[int], reference: torch.Tensor, tolerance: float
) -> float:
    """Runs the probe through the runner's path; refuses models whose logits it cannot reproduce, and
    returns the difference otherwise.

    `tolerance` is relative to the largest logit: 1e-3 for fp32, 5e-2 for bf16/fp16 arithmetic.
    """
    try:
        error = logits_error(runner, probe, reference)
    except Exception as exc:
        raise FailedPrecondition(
            f"model not supported by the batched decoder: {type(exc).__name__}: {exc}"
        ) from exc
    if error > tolerance * (1.0 + float(reference.abs().max())):
        raise FailedPrecondition(
            f"model not supported by the batched decoder: its logits differ from transformers' by {error:.3g}"
        )
    return error


def logits_error(runner: TorchRunner, probe: list[int], reference: torch.Tensor) -> float:
    """Largest difference between the runner's logits for the probe (prefill, one step) and HF's."""
    kv = SequenceKV()
    with torch.inference_mode():
        first = runner.forward([kv], [probe[:-1]])[0]
        second = runner.forward([kv], [probe[-1:]])[0]
    return float((torch.stack([first, second]) - reference).abs().max())
