"""Linear layers for CPU decoding, chosen by the `quantization` setting (make_linear):

- fp32 through oneDNN with pre-packed weights (`none`, and any weight `auto` cannot hold exactly);
- 4-bit or 8-bit blocks of 32 through the C kernel of native_linear.py (`auto`: only where that is
  exactly the weights of a quantized GGUF file; `int4`: 4-bit whatever the weights);
- 4-bit through torch's int4 kernel with bf16 activations (`int4` where the C kernel could not be built).

All give every row of a batch bitwise the same result whatever the batch size, which the backend's
batch invariance rests on. One decode step of SmolLM2-135M on this 2-core CPU (median of 8 runs of 5
steps, same process):

    quantization           linear layers             1 row     16 rows
    none                   fp32 (oneDNN)              42 ms     88 ms
    auto (the default)     4-bit layers, 8-bit head   20 ms     62 ms    exact: the file's own weights
    int4, no C compiler    torch int4 (bf16)          29 ms    110 ms    weights and activations in bf16

A step of one row reads every weight once, so it is bound by memory traffic, and the file's blocks
read 4.7x fewer bytes than fp32. At 16 rows the C kernel restores each block once for all rows, where
torch's int4 kernel unpacks the weights again for every 4 rows.

For a Q4_0/Q4_1 file torch's int4 kernel keeps the file's own 4-bit codes too: each block of 32
weights is `d * q + m` with q in 0..15, which is its `(q - 8) * scale + zero` with scale = d and zero
= m + 8d (`Int4Linear.grid_error` is then 0.0). It holds scale and zero in bf16 and rounds each
restored weight to bf16, though, so the weights it computes with differ from the file's by up to
~2^-8 of their size; `Int4Linear.error` records that largest difference (measured against the kernel
itself), and the load log shows it.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from autoglm_core.kernels import native_linear
from autoglm_core.kernels.native_linear import BlockGrid, NativeLinear, exact_grid

# oneDNN packs weights for a batch size; with a hint >= 16 its rows were bitwise batch-invariant here.
PACK_BATCH_HINT = 16
# Weights per int4 group: a GGUF Q4 block.
INT4_GROUP = 32
QUANTIZATIONS = ("auto", "none", "int4")


class PackedLinear(nn.Module):
    """nn.Linear through oneDNN with a pre-packed fp32 weight.

    Measured here (SmolLM2-135M shapes, 2 threads): 28 ms vs 33 ms per token at batch 1 and 47 ms vs 90 ms
    at batch 16 against MKL (with 1 thread: no gain at batch 1, ~10% at 16). Above all its rows are
    bitwise the same whatever the batch size (checked for 1..1100 rows); MKL's are not.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self.packed = nn.Parameter(
            torch.ops.mkldnn._reorder_linear_weight(weight.detach(), PACK_BATCH_HINT), False
        )
        self.bias = None if bias is None else nn.Parameter(bias.detach(), False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(
            x.contiguous(), self.packed, self.bias, "none", [], ""
        )
        return out


class Int4Linear(nn.Module):
    """A linear layer with 4-bit weights in groups of 32 along the input (asymmetric: scale and zero per
    group), computed by torch's CPU int4 kernel with bf16 activations; takes and returns fp32."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        w = weight.detach().float()
        self.out_features, self.in_features = w.shape
        groups = w.reshape(self.out_features, self.in_features // INT4_GROUP, INT4_GROUP)
        low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
        scale = ((high - low) / 15).clamp(min=1e-12)
        q = torch.round((groups - low) / scale).clamp(0, 15)
        zero = low + 8 * scale
        # 0.0 when the weights already lie on a 4-bit grid of 32-weight blocks (Q4 GGUF files).
        self.grid_error = float(((q - 8) * scale + zero - groups).abs().max())
        scale_zero = torch.cat([scale, zero], -1).to(torch.bfloat16)  # [out, groups, 2]
        # The weights the kernel computes with: bf16 scale and zero, the result rounded to bf16
        # (matches the kernel's output on an identity matrix bit for bit).
        s, z = scale_zero.float().unbind(-1)
        used = ((q - 8) * s[..., None] + z[..., None]).to(torch.bfloat16).float()
        self.error = float((used - groups).abs().max())
        q_int = q.to(torch.int32).reshape(self.out_features, self.in_features)
        self.packed = nn.Parameter(torch.ops.aten._convert_weight_to_int4pack_for_cpu(q_int, 1), False)
        # [groups, out, 2] as the kernel wants.
        self.scale_zero = nn.Parameter(scale_zero.transpose(0, 1).contiguous(), False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().float(), False)

    @staticmethod
    def fits(weight: torch.Tensor) -> bool:
        # torch's packing wants whole groups along the input and outputs in multiples of 16.
        return weight.dim() == 2 and weight.shape[1] % INT4_GROUP == 0 and weight.shape[0] % 16 == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).to(torch.bfloat16)
        product: torch.Tensor = torch.ops.aten._weight_int4pack_mm_for_cpu(
            rows, self.packed, INT4_GROUP, self.scale_zero
        )
        out = product.float().reshape(*x.shape[:-1], self.out_features)
        return out if self.bias is None else out + self.bias


def make_linear(weight: torch.Tensor, bias: torch.Tensor | None, quantization: str) -> nn.Module:
    """The fastest batch-invariant layer for this weight under `quantization`:

    - "none": fp32 (oneDNN);
    - "int4": 4-bit blocks, through the native kernel (fp32 arithmetic) where it was built, else torch's
      int4 kernel (bf16);
    - "auto": the weights exactly as a quantized GGUF file holds them (4-bit or 8-bit blocks) through the
      native kernel; fp32 for weights on no such grid, or without the kernel.
    """
    if quantization == "int4" and Int4Linear.fits(weight):
        if native_linear.available():
            return NativeLinear(BlockGrid(weight, 4), bias)
        return Int4Linear(weight, bias)
    return make_exact_linear(weight, bias) if quantization == "auto" else PackedLinear(weight, bias)


def make_exact_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Module:
    """Block weights through the native kernel where that holds them exactly, else fp32."""
    grid = exact_grid(weight) if native_linear.available() else None
    return PackedLinear(weight, bias) if grid is None else NativeLinear(grid, bias)


def pack_linears(model: nn.Module) -> int:
    """Swaps every fp32 nn.Linear for a PackedLinear (transformers' forward path); returns how many."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear and child.weight.dtype == torch.float32:
                setattr(parent, name, PackedLinear(child.weight, child.bias))
                swapped += 1
    return swapped


def can_pack(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether these kernels work here: CPU, fp32 model, oneDNN present and answering correctly."""
    onednn = torch.backends.mkldnn.is_available()  # type: ignore[no-untyped-call]
    if device.type != "cpu" or dtype != torch.float32 or not onednn:
        return False
    if os.environ.get("AUTOGLM_DISABLE_ONEDNN_PACKING"):
        return False
    try:
        weight, x = torch.randn(8, 4), torch.randn(2, 4)
        got = PackedLinear(weight)(x)
        return bool(torch.allclose(got, x @ weight.T, atol=1e-5))
    except (RuntimeError, AttributeError):
        return False
