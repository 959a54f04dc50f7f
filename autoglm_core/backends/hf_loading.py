"""Loading a Hugging Face model for the runtime: where it is, on which device and dtype, and how.

Loads run in a fresh thread, one at a time (see `_LOAD_LOCK`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from autoglm_core.backends.base import SamplingConfig
from autoglm_core.errors import FailedPrecondition, NotFound

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def in_fresh_thread(fn: Callable[[], None]) -> asyncio.Future[None]:
    """Runs fn in a new thread that ends with it, not in asyncio's long-lived executor.

    Torch work leaves an OpenMP thread pool behind in the thread that ran it. With a second pool alive
    (say in an idle executor thread) libgomp sees more threads than cores and stops spin-waiting between
    parallel regions, so every region pays a futex wake-up: measured 100 ms instead of 65 ms per token.
    """
    future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            outcome: BaseException | None = exc
        else:
            outcome = None
        # The waiter may have given up (load timeout cancels the future): then nobody wants the outcome.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if outcome is None:
                future.set_result(None)
            else:
                future.set_exception(outcome)

    threading.Thread(target=run, name="autoglm-load", daemon=True).start()
    return asyncio.wrap_future(future)


def default_threads() -> int:
    """Every core this process may use (affinity/cgroup aware).

    Measured on the 2-core box (benchmarks/bench_backend.py, 64 tokens): 2 threads 15-16 tok/s for one
    stream and 83-91 tok/s for 16; 1 thread 11-13 and 62-70. On a box shared with busy neighbours one
    thread degrades more gracefully (OpenMP regions stall when a core is taken): pass num_threads=1.
    """
    return max(1, len(os.sched_getaffinity(0)))


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise FailedPrecondition(f"unknown device {device!r}") from exc


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        # bf16 halves memory traffic on GPUs; on CPUs without bf16 kernels fp32 is faster and exact.
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if dtype not in _DTYPES:
        raise FailedPrecondition(f"unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16")
    return _DTYPES[dtype]


def _locate(source: str) -> tuple[Path, str | None]:
    """(directory, gguf file name or None) for a model directory or a .gguf file."""
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFound("model", source)
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise FailedPrecondition(
                f"{source}: a model file must be a .gguf; otherwise give a model directory"
            )
        return path.parent, path.name
    if (path / "config.json").is_file():
        return path, None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:  # a directory holding just one GGUF file means that file
        return path, ggufs[0].name
    raise FailedPrecondition(f"{source}: not a Hugging Face model directory (no config.json)")


# from_pretrained patches process-wide state while it builds a model (new parameters are created on
# "meta"): two loads in parallel threads left that in place, and every later load failed with "Cannot
# copy out of meta tensor". One load at a time.
_LOAD_LOCK = threading.Lock()


def load_sync(source: str, device: torch.device, dtype: torch.dtype) -> tuple[PreTrainedModel, Any]:
    directory, gguf_file = _locate(source)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    with _LOAD_LOCK:
        return _load_locked(source, directory, kwargs, device, dtype)


def _load_locked(
    source: str, directory: Path, kwargs: dict[str, Any], device: torch.device, dtype: torch.dtype
) -> tuple[PreTrainedModel, Any]:
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(directory), **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            str(directory), dtype=dtype, attn_implementation="sdpa", **kwargs
        )
        model.to(device)  # type: ignore[arg-type]
    except Exception as exc:
        raise FailedPrecondition(f"cannot load model from {source}: {type(exc).__name__}: {exc}") from exc
    model.eval()  # type: ignore[no-untyped-call]
    return model, tokenizer


def eos_ids(model: PreTrainedModel, tokenizer: Any) -> tuple[int, ...]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = model.config.get_text_config().eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    ids = [eos] if isinstance(eos, int) else list(eos or [])
    return tuple(dict.fromkeys(int(i) for i in ids))


def default_sampling(model: PreTrainedModel) -> SamplingConfig:
    gc = model.generation_config
    sample = bool(getattr(gc, "do_sample", False))
    return SamplingConfig(
        temperature=float(gc.temperature or 1.0) if sample else 0.0,
        top_p=float(gc.top_p or 1.0) if sample else 1.0,
        top_k=int(gc.top_k or 0) if sample else 0,
        max_new_tokens=int(gc.max_new_tokens or SamplingConfig.max_new_tokens),
        repetition_penalty=float(gc.repetition_penalty or 1.0),
    )
