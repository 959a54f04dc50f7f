"""The paged runner's load check: it must reproduce transformers' logits before it serves a model."""

from __future__ import annotations

import torch

from autoglm_core.errors import FailedPrecondition
from autoglm_core.runtime.runners.paged.runner import PagedRunner


def check_paged(runner: PagedRunner, probe: list[int], reference: torch.Tensor, tolerance: float) -> float:
    """Runs the probe (prefill, then one decode step through the graph path where it is on) and
    refuses a model whose logits differ from `reference` by more than `tolerance`, relative to the
    largest logit as in runtime/load_check.py; returns the difference."""
    try:
        error = float((runner.probe_logits(probe) - reference).abs().max())
    except Exception as exc:
        raise FailedPrecondition(
            f"model not supported by the paged runner: {type(exc).__name__}: {exc}"
        ) from exc
    if error > tolerance * (1.0 + float(reference.abs().max())):
        raise FailedPrecondition(
            f"model not supported by the paged runner: its logits differ from transformers' by {error:.3g}"
        )
    return error
