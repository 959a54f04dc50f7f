"""The decode step's attention in a small C kernel (native_attention.c), compiled on first use.

Why not torch ops: the per-row attention of ragged.decode_attention (per row and layer: slices, bmm,
softmax, bmm, and two cache copies) is op dispatch rather than arithmetic at these sizes. Measured on
this 2-core CPU with SmolLM2-135M (30 layers), replacing it by nothing saved ~10 ms of a 33 ms int4
step for one row and ~28 ms of a 117 ms fp32 step for 16. Batching the rows through one padded SDPA
would remove the dispatch, but a row's numbers would then depend on the longest row in its batch.
The kernel makes one call per layer for the whole batch and computes each row by the same sequential
code, so batching still never changes a row's result.

It is built with the system C compiler (`$CC`, else `cc`) into the model cache directory, once per
machine (native_build.py). Where no compiler works, or AUTOGLM_DISABLE_NATIVE_ATTENTION is set,
`available()` is False and the torch path runs.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch

from autoglm_core.kernels import native_build

_SOURCE = Path(__file__).with_suffix(".c")
_SYMBOL = "autoglm_decode_attention"
_INT64, _POINTER = ctypes.c_int64, ctypes.c_void_p


class KVRow(Protocol):
    """One request's growable per-layer key and value buffers [kv_heads, capacity, dim] (the runtime's
    SequenceKV): the kernel appends in place."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    lengths: list[int]

    def reserve(self, layer: int, n: int) -> None: ...


def available() -> bool:
    return _library() is not None


def decode_step(
    rows: Sequence[KVRow],
    layer: int,
    query: torch.Tensor,
    new_keys: torch.Tensor,
    new_values: torch.Tensor,
    scale: float,
    window: int | None,
    rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Appends one key/value per row to `layer` and attends: query [B, heads, dim] and new keys/values
    [B, kv_heads, dim] (fp32, each row's heads contiguous) -> [B, heads * dim].

    `rotary`: (cos, sin) [B, dim] at each row's position, to rotate the query and new key in the
    kernel; None when they come rotated. Every row must already hold entries in `layer` (the kernel
    appends, it does not start a cache)."""
    library = _library()
    if library is None:
        raise RuntimeError("the native attention kernel is not available")
    for row in rows:
        row.reserve(layer, 1)
    batch, heads, dim = query.shape
    kv_heads = new_keys.shape[1]
    for tensor in (query, new_keys, new_values):
        if tensor.dtype != torch.float32 or tensor.stride(2) != 1 or tensor.stride(1) != dim:
            raise ValueError("native attention takes fp32 rows of contiguous heads")
    cos, sin = (None, None) if rotary is None else (t.float().contiguous() for t in rotary)
    if cos is not None and (cos.shape != (batch, dim) or sin is None or sin.shape != (batch, dim)):
        raise ValueError("native attention takes rotary tables of [batch, head_dim]")
    out = torch.empty(batch, heads * dim)
    keys = (_POINTER * batch)(*[row.keys[layer].data_ptr() for row in rows])
    values = (_POINTER * batch)(*[row.values[layer].data_ptr() for row in rows])
    capacity = (_INT64 * batch)(*[row.keys[layer].shape[1] for row in rows])
    length = (_INT64 * batch)(*[row.lengths[layer] for row in rows])
    status = library(
        batch, heads, kv_heads, dim,
        query.data_ptr(), query.stride(0),
        new_keys.data_ptr(), new_keys.stride(0),
        new_values.data_ptr(), new_values.stride(0),
        keys, values, capacity, length,
        None if cos is None else cos.data_ptr(), None if sin is None else sin.data_ptr(),
        window or 0, ctypes.c_float(scale), out.data_ptr(),
    )  # fmt: skip
    if status != 0:
        raise MemoryError("native attention could not allocate its scratch buffer")
    for row in rows:
        row.lengths[layer] += 1
    return out


@functools.cache
def _library() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    argtypes = [
        _INT64, _INT64, _INT64, _INT64,
        _POINTER, _INT64, _POINTER, _INT64, _POINTER, _INT64,
        ctypes.POINTER(_POINTER), ctypes.POINTER(_POINTER), ctypes.POINTER(_INT64), ctypes.POINTER(_INT64),
        _POINTER, _POINTER, _INT64, ctypes.c_float, _POINTER,
    ]  # fmt: skip
    return native_build.load(_SOURCE, _SYMBOL, argtypes, switch="AUTOGLM_DISABLE_NATIVE_ATTENTION")
