"""The CPU linear layers: what int4 says it changed is what torch's kernel computes with."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from autoglm_core.kernels.linear_kernels import Int4Linear, PackedLinear  # noqa: E402


def q4_1_weights(rows: int, columns: int) -> torch.Tensor:
    """Weights as a Q4_1 GGUF file stores them: per block of 32, d * q + m with fp16 d and m."""
    generator = torch.Generator().manual_seed(0)
    blocks = columns // 32
    d = (torch.rand(rows, blocks, 1, generator=generator) * 0.05 + 0.01).half().float()
    m = (-torch.rand(rows, blocks, 1, generator=generator) * 0.4).half().float()
    q = torch.randint(0, 16, (rows, blocks, 32), generator=generator).float()
    q[..., 0], q[..., 1] = 0, 15  # the quantizer spans each block's range
    return (d * q + m).reshape(rows, columns)


def kernel_weights(layer: Int4Linear) -> torch.Tensor:
    """The weights the kernel really uses, read back through an identity matrix."""
    with torch.inference_mode():
        return layer(torch.eye(layer.in_features)).T


def test_int4_reports_the_weight_change_its_kernel_makes() -> None:
    weights = q4_1_weights(48, 128)
    layer = Int4Linear(weights)
    assert layer.grid_error == 0.0  # the file's 4-bit codes are kept
    actual = float((kernel_weights(layer) - weights).abs().max())
    assert actual > 0.0  # bf16 scales and zeros do move them a little
    assert layer.error == actual


def test_int4_of_weights_off_the_grid_says_so() -> None:
    weights = torch.randn(16, 64, generator=torch.Generator().manual_seed(1))
    layer = Int4Linear(weights)
    assert layer.grid_error > 0.01
    assert layer.error == float((kernel_weights(layer) - weights).abs().max())


@pytest.mark.parametrize("layer_type", [PackedLinear, Int4Linear])
def test_a_row_gives_the_same_bits_in_any_batch(layer_type: type) -> None:
    generator = torch.Generator().manual_seed(2)
    layer = layer_type(torch.randn(96, 64, generator=generator) * 0.1)
    x = torch.randn(37, 64, generator=generator)
    with torch.inference_mode():
        batched = layer(x)
        for size in (1, 2, 5, 16):
            assert torch.equal(layer(x[:size]), batched[:size])
