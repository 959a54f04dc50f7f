"""Linear layers with 4-bit or 8-bit block weights, computed in fp32 by a small C kernel (native_linear.c).

Why not torch's kernels: a model read from a quantized GGUF file (the embedded default is Q4_1, with a
Q8_0 embedding) is stored as fp32 after conversion, so every decode step reads 4 bytes per weight
where the file needs half a byte. torch's CPU int4 kernel (linear_kernels.Int4Linear) reads fewer
bytes, but rounds activations and weights to bf16 and unpacks the weights again for every 4 rows.
This kernel restores each block of 32 weights exactly (fma(q, scale, low)), once per call, and
multiplies every row against it in fp32. Measured on this 2-core CPU, one SmolLM2-135M layer's four
products run 30 times (so its weights stay in cache), before the single-row path was added:

    rows    this kernel   oneDNN fp32   torch int4 (bf16)
       1       9.5 ms        14.5 ms        22.4 ms
      16      34.1 ms        41.6 ms        77.5 ms
      64      97.1 ms       127.9 ms       215.9 ms

Whole decode steps, weights from memory, are in linear_kernels.py's table. Around the product the
kernel also takes a decoder layer's RMS norm and residual (fewer torch ops per step).

Each (row, output) pair is computed by the same chain whatever the batch, so a row's result is
bitwise the same batched or alone. Built like native_attention (native_build.py), with OpenMP;
where no compiler works, or AUTOGLM_DISABLE_NATIVE_LINEAR is set, `available()` is False.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import torch
from torch import nn

from autoglm_core.kernels import native_build

_SOURCE = Path(__file__).with_suffix(".c")
_SYMBOL = "autoglm_linear"
_INT64, _POINTER = ctypes.c_int64, ctypes.c_void_p
BLOCK = 32
ROWS_PER_FIT = 1024


def available() -> bool:
    return _library() is not None


class BlockGrid:
    """Weights [out, in] as codes on a grid per block of 32: weight = fma(code, scale, low).

    Of the usual GGUF block layouts (Q4_1/Q8_1: low = min; Q4_0/Q8_0: symmetric, low = -2^(bits-1)
    scale), each block takes the one that restores it best; `error` is the largest difference between
    a restored weight and the original (0.0 when the weights came from such a file)."""

    def __init__(self, weight: torch.Tensor, bits: int) -> None:
        w = weight.detach().float()
        # A slice of rows at a time: the fit's temporaries (float64 among them) for a whole embedding
        # of tens of thousands of rows would be several times the weights themselves.
        starts = range(0, w.shape[0], ROWS_PER_FIT)
        parts = [_fit_rows(w[start : start + ROWS_PER_FIT], bits) for start in starts]
        codes = torch.cat([part[0] for part in parts])
        self.scale = torch.cat([part[1] for part in parts])
        self.low = torch.cat([part[2] for part in parts])
        self.error = max(part[3] for part in parts)
        self.codes = _pack(codes, bits)
        self.bits = bits


def _fit_rows(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Codes [rows, blocks, 32], scale and low [rows, blocks] and the largest error of rows `w`."""
    rows, in_features = w.shape
    blocks = w.reshape(rows, in_features // BLOCK, BLOCK)
    best: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None
    for scale, low in _candidate_grids(blocks, bits):
        codes, restored = _fit(blocks, scale, low, bits)
        error = (restored - blocks).abs().amax(-1)
        if best is None:
            best = (codes, scale[..., 0], low[..., 0], error)
            continue
        better = error < best[3]
        best = (
            torch.where(better[..., None], codes, best[0]),
            torch.where(better, scale[..., 0], best[1]),
            torch.where(better, low[..., 0], best[2]),
            torch.minimum(error, best[3]),
        )
        if not bool(best[3].any()):  # every block exact: no other grid can do better
            break
    assert best is not None
    return best[0], best[1], best[2], float(best[3].max())


def _candidate_grids(blocks: torch.Tensor, bits: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    levels, half = 2**bits, 2 ** (bits - 1)
    low, high = blocks.amin(-1, keepdim=True), blocks.amax(-1, keepdim=True)
    extreme = blocks.gather(-1, blocks.abs().argmax(-1, keepdim=True))
    asymmetric = ((high - low) / (levels - 1), low)  # Q4_1 / Q8_1
    symmetric_8 = (extreme.abs() / (half - 1), None)  # Q8_0: d = amax / 127
    symmetric_4 = (-extreme / half, None)  # Q4_0: d = extreme / -8
    # The file's usual layout first, so an exact fit usually ends the search at once.
    grids = [asymmetric, symmetric_4, symmetric_8] if bits == 4 else [symmetric_8, asymmetric, symmetric_4]
    candidates = []
    for scale, offset in grids:
        # The files hold scales (and Q4_1's minimum) in fp16: the snapped value is usually the exact one.
        for snap in (True, False):
            s = scale.half().float() if snap else scale
            s = torch.where(s.isfinite(), s, torch.zeros_like(s))  # a constant block: every code 0
            z = (low.half().float() if snap else low) if offset is not None else -half * s
            candidates.append((s, z))
    return candidates


def _fit(
    blocks: torch.Tensor, scale: torch.Tensor, low: torch.Tensor, bits: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest codes on one grid, and the weights the kernel restores from them: fma(code, scale, low)
    in fp32, which float64 arithmetic rounded once to fp32 reproduces (the tests read the kernel's
    weights back and compare them bit for bit)."""
    safe = torch.where(scale != 0, scale, torch.ones_like(scale))
    codes = torch.where(scale != 0, torch.round((blocks - low) / safe), torch.zeros_like(blocks))
    codes = codes.clamp(0, 2**bits - 1)
    restored = (codes.double() * scale.double() + low.double()).float()
    return codes.to(torch.uint8), restored


def _pack(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """[out, blocks, 32] codes -> [out, in * bits / 8] bytes; 4-bit: byte j = code j | code j+16 << 4."""
    if bits == 8:
        return codes.reshape(codes.shape[0], -1).contiguous()
    halves = codes.reshape(*codes.shape[:2], 2, BLOCK // 2)
    return (halves[:, :, 0] | (halves[:, :, 1] << 4)).reshape(codes.shape[0], -1).contiguous()


def exact_grid(weight: torch.Tensor) -> BlockGrid | None:
    """The weights as 4-bit, else 8-bit blocks if that restores them exactly (a quantized GGUF), else None.

    A few rows are tried first, so weights on no grid (most checkpoints) cost little to rule out."""
    if not NativeLinear.fits(weight):
        return None
    for bits in (4, 8):
        if BlockGrid(weight[:16], bits).error == 0.0:
            grid = BlockGrid(weight, bits)
            if grid.error == 0.0:
                return grid
    return None


class NativeLinear(nn.Module):
    """nn.Linear with block-grid weights (BlockGrid) through the C kernel; takes and returns fp32."""

    def __init__(self, grid: BlockGrid, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        self.out_features = grid.codes.shape[0]
        self.in_features = grid.codes.shape[1] * 8 // grid.bits
        self.bits = grid.bits
        # The kernel restores exactly what the grid holds: the only change is the grid's own.
        self.error = self.grid_error = grid.error
        # Per block, as the kernel reads it: scale, low, then the codes. 8-bit blocks keep scale and
        # low in fp16 where that holds every block's exactly (a GGUF file's always): their product is
        # bound by the bytes it reads. 4-bit ones keep fp32: there the conversion cost more time than
        # the 4 bytes it saves (README, "Serving speed").
        blocks = self.in_features // BLOCK
        scale_low = torch.stack([grid.scale, grid.low], -1).float()
        halves = scale_low.half()
        self.header = 4 if grid.bits == 8 and torch.equal(halves.float(), scale_low) else 8
        scale_low = (halves if self.header == 4 else scale_low).contiguous().view(torch.uint8)
        codes = grid.codes.reshape(self.out_features, blocks, -1)
        packed = torch.cat([scale_low.reshape(self.out_features, blocks, -1), codes], -1)
        # Plain tensors, not Parameters: a decode step makes ~120 calls, and reading a Parameter through
        # nn.Module's attribute lookup cost ~2 us each time.
        self.blocks = packed.reshape(self.out_features, -1).contiguous()
        self.bias = None if bias is None else bias.detach().float().contiguous()

    def restore_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """The fp32 weights of output rows `rows` (any shape of indices) -> [*rows.shape, in_features],
        computed by torch as code * scale + low. That equals the kernel's fma wherever the product is
        exact (always for a GGUF file's fp16 scales); a caller relying on it checks (see LlamaDecoder)."""
        block_bytes = self.header + BLOCK * self.bits // 8
        blocks = self.blocks[rows.reshape(-1)].reshape(-1, self.in_features // BLOCK, block_bytes)
        header = blocks[..., : self.header].contiguous()
        scale_low = (header.view(torch.float16) if self.header == 4 else header.view(torch.float32)).float()
        codes = blocks[..., self.header :]
        if self.bits == 4:  # byte j: code j in the low nibble, code j + 16 in the high one
            codes = torch.cat([codes & 0x0F, codes >> 4], -1)
        weights = codes.float() * scale_low[..., :1] + scale_low[..., 1:]
        return weights.reshape(*rows.shape, self.in_features)

    @staticmethod
    def fits(weight: torch.Tensor) -> bool:
        return weight.dim() == 2 and weight.shape[1] % BLOCK == 0

    def forward(
        self,
        x: torch.Tensor,
        norm: torch.Tensor | None = None,
        eps: float = 0.0,
        residual: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """[rms_norm(x) with weight `norm`] W^T + bias [+ residual], in one kernel call."""
        library = _library()
        if library is None:
            raise RuntimeError("the native linear kernel is not available")
        if x.shape[-1] != self.in_features or (norm is not None and norm.shape != (self.in_features,)):
            raise ValueError(f"input {tuple(x.shape)} for a layer of {self.in_features} inputs")
        rows = x.float().contiguous()
        norm = None if norm is None else norm.float().contiguous()
        out = torch.empty((*x.shape[:-1], self.out_features))
        if residual is not None:
            residual = residual.float().contiguous()
            if residual.shape != out.shape:
                raise ValueError(f"residual {tuple(residual.shape)} for an output of {tuple(out.shape)}")
        status = library(
            rows.numel() // self.in_features, self.in_features, self.out_features, rows.data_ptr(),
            None if norm is None else norm.data_ptr(), ctypes.c_float(eps),
            self.blocks.data_ptr(), self.bits, self.header,
            None if self.bias is None else self.bias.data_ptr(),
            None if residual is None else residual.data_ptr(), out.data_ptr(), torch.get_num_threads(),
        )  # fmt: skip
        if status != 0:
            raise MemoryError("the native linear kernel could not allocate its scratch memory")
        return out


@functools.cache
def _library() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    argtypes = [
        _INT64, _INT64, _INT64, _POINTER, _POINTER, ctypes.c_float, _POINTER, _INT64, _INT64, _POINTER,
        _POINTER, _POINTER, _INT64,
    ]  # fmt: skip
    return native_build.load(_SOURCE, _SYMBOL, argtypes, switch="AUTOGLM_DISABLE_NATIVE_LINEAR", openmp=True)
