"""A decode step's decoder layers in one C call (native_decoder.c), and the SiLU every path shares.

Why: with the products and the attention in C already, a one-row decode step still spent about a
third of its time in Python between them (five kernel calls a layer, their argument checks, the
tensors they return, the SiLU in torch). `DecodeLayers.run` hands a range of layers to C at once.

SiLU(gate) * up is computed by the C code in every path of the decoder where the library could be
built (`silu_mul`), so a token gets the same bits whether its layers ran here or through the
per-layer path of a prefill. Built like the other kernels (native_build.py), from native_decoder.c
with native_linear.c and native_attention.c; AUTOGLM_DISABLE_NATIVE_DECODER turns it off.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from autoglm_core.kernels import native_build
from autoglm_core.kernels.native_attention import KVRow
from autoglm_core.kernels.native_linear import NativeLinear

_HERE = Path(__file__).parent
_SOURCES = (_HERE / "native_linear.c", _HERE / "native_attention.c")
_INT64, _POINTER = ctypes.c_int64, ctypes.c_void_p


class _LayerWeights(ctypes.Structure):
    """native_decoder.c's layer_weights, field for field."""

    _fields_ = [
        ("qkv", _POINTER), ("o", _POINTER), ("gate_up", _POINTER), ("down", _POINTER),
        ("qkv_bias", _POINTER), ("o_bias", _POINTER), ("norm_in", _POINTER), ("norm_post", _POINTER),
        ("qkv_bits", _INT64), ("o_bits", _INT64), ("gate_up_bits", _INT64), ("down_bits", _INT64),
        ("qkv_header", _INT64), ("o_header", _INT64), ("gate_up_header", _INT64), ("down_header", _INT64),
        ("window", _INT64), ("eps", ctypes.c_float), ("scaling", ctypes.c_float),
    ]  # fmt: skip


class _Shape(ctypes.Structure):
    _fields_ = [
        ("hidden", _INT64),
        ("heads", _INT64),
        ("kv_heads", _INT64),
        ("dim", _INT64),
        ("intermediate", _INT64),
    ]


def available() -> bool:
    return _functions() is not None


def silu_mul(gate_up: torch.Tensor, width: int) -> torch.Tensor:
    """silu(gate) * up for gate_up [..., 2 * width] (gate first) -> [..., width]."""
    function = _silu_mul()
    if function is None:
        raise RuntimeError("the native decoder kernels are not available")
    if gate_up.shape[-1] != 2 * width:
        raise ValueError(f"gate_up {tuple(gate_up.shape)} for a width of {width}")
    source = gate_up.float().contiguous()
    out = torch.empty((*source.shape[:-1], width))
    function(source.numel() // (2 * width), width, source.data_ptr(), out.data_ptr(), torch.get_num_threads())
    return out


class DecodeLayers:
    """A decoder's layers as the C code reads them: built once, run for every decode step."""

    def __init__(self, layers: Sequence[Any], hidden: int, heads: int, kv_heads: int, dim: int) -> None:
        """`layers`: the lean decoder's fused layers (qkv, o, gate_up, down NativeLinear each; norms)."""
        self._layers = list(layers)  # their tensors must outlive the pointers below
        self.count = len(self._layers)
        self._shape = _Shape(hidden, heads, kv_heads, dim, self._layers[0].intermediate)
        self._weights = (_LayerWeights * self.count)(*[_layer_weights(layer) for layer in self._layers])

    @staticmethod
    def fits(layers: Sequence[Any]) -> bool:
        """Whether every product of every layer runs in the native kernel (and the library was built)."""
        return available() and all(isinstance(m, NativeLinear) for layer in layers for m in layer.modules())

    def run(
        self,
        rows: Sequence[KVRow],
        first: int,
        last: int,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
    ) -> torch.Tensor:
        """Layers [first, last) over one new token per row: x [B, hidden] -> [B, hidden]; cos/sin
        [B, head dim] at each row's position. Every row's cache must hold entries in every layer."""
        function = _decode_layers()
        assert function is not None
        batch, count = len(rows), last - first
        for row in rows:
            for layer in range(first, last):
                row.reserve(layer, 1)
        keys = (_POINTER * (count * batch))(
            *[row.keys[layer].data_ptr() for layer in range(first, last) for row in rows]
        )
        values = (_POINTER * (count * batch))(
            *[row.values[layer].data_ptr() for layer in range(first, last) for row in rows]
        )
        capacity = (_INT64 * (count * batch))(
            *[row.keys[layer].shape[1] for layer in range(first, last) for row in rows]
        )
        length = (_INT64 * (count * batch))(
            *[row.lengths[layer] for layer in range(first, last) for row in rows]
        )
        out = x.float().contiguous().clone()
        cos, sin = cos.float().contiguous(), sin.float().contiguous()
        status = function(
            batch, count, ctypes.addressof(self._shape),
            ctypes.addressof(self._weights) + first * ctypes.sizeof(_LayerWeights),
            out.data_ptr(), keys, values, capacity, length, cos.data_ptr(), sin.data_ptr(),
            torch.get_num_threads(),
        )  # fmt: skip
        if status != 0:
            raise MemoryError("the native decoder could not allocate its scratch memory")
        for row in rows:
            for layer in range(first, last):
                row.lengths[layer] += 1
        return out


def _layer_weights(layer: Any) -> _LayerWeights:
    def pointer(tensor: torch.Tensor | None) -> int | None:
        return None if tensor is None else tensor.data_ptr()

    return _LayerWeights(
        layer.qkv.blocks.data_ptr(), layer.o.blocks.data_ptr(), layer.gate_up.blocks.data_ptr(),
        layer.down.blocks.data_ptr(), pointer(layer.qkv.bias), pointer(layer.o.bias),
        layer.norm_in.data_ptr(), layer.norm_post.data_ptr(),
        layer.qkv.bits, layer.o.bits, layer.gate_up.bits, layer.down.bits,
        layer.qkv.header, layer.o.header, layer.gate_up.header, layer.down.header,
        layer.window or 0, layer.eps, layer.scaling,
    )  # fmt: skip


def _decode_layers() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    functions = _functions()
    return None if functions is None else functions["autoglm_decode_layers"]


def _silu_mul() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    functions = _functions()
    return None if functions is None else functions["autoglm_silu_mul"]


@functools.cache
def _functions() -> dict[str, ctypes._CFuncPtr] | None:  # type: ignore[name-defined]
    """Both functions of the library, built once (None where it could not be)."""
    layers: list[Any] = [
        _INT64, _INT64, _POINTER, _POINTER, _POINTER,
        ctypes.POINTER(_POINTER), ctypes.POINTER(_POINTER), ctypes.POINTER(_INT64), ctypes.POINTER(_INT64),
        _POINTER, _POINTER, _INT64,
    ]  # fmt: skip
    signatures: dict[str, list[Any]] = {
        "autoglm_decode_layers": layers,
        "autoglm_silu_mul": [_INT64, _INT64, _POINTER, _POINTER, _INT64],
    }
    return native_build.load_functions(
        Path(__file__).with_suffix(".c"), signatures, switch="AUTOGLM_DISABLE_NATIVE_DECODER",
        openmp=True, with_sources=_SOURCES,
    )  # fmt: skip
