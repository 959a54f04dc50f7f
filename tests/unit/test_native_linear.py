"""The block-weight linear kernel in C (native_linear.c): exact GGUF weights, fp32, batch invariance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from autoglm_core.kernels import native_build, native_linear  # noqa: E402
from autoglm_core.kernels.linear_kernels import Int4Linear, PackedLinear, make_linear  # noqa: E402
from autoglm_core.kernels.native_linear import BlockGrid, NativeLinear, exact_grid  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler to build the kernel")


def gguf_weights(kind: str, rows: int = 40, columns: int = 96, seed: int = 0) -> torch.Tensor:
    """Weights as a GGUF file of this kind restores them: per block of 32, fp16 d (and m) times codes."""
    generator = torch.Generator().manual_seed(seed)
    shape = (rows, columns // 32, 1)
    d = (torch.rand(shape, generator=generator) * 0.05 + 0.01).half().double()
    if kind == "Q4_1":
        m = (-torch.rand(shape, generator=generator) * 0.4).half().double()
        q = torch.randint(0, 16, (rows, columns // 32, 32), generator=generator).double()
        q[..., 0], q[..., 1] = 0, 15  # the quantizer spans each block's range
        w = d * q + m
    elif kind == "Q4_0":
        q = torch.randint(-8, 8, (rows, columns // 32, 32), generator=generator).double()
        q[..., 0] = -8  # d = extreme / -8: the extreme weight has code -8
        w = d * q
    else:  # Q8_0
        q = torch.randint(-127, 128, (rows, columns // 32, 32), generator=generator).double()
        q[..., 0] = 127  # d = amax / 127
        w = d * q
    return w.float().reshape(rows, columns)


def kernel_weights(layer: NativeLinear) -> torch.Tensor:
    """The weights the kernel really uses, read back through an identity matrix."""
    with torch.inference_mode():
        return layer(torch.eye(layer.in_features)).T


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    assert native_linear.available(), "the kernel did not build (see the log for the compiler's error)"


@pytest.mark.parametrize(("kind", "bits"), [("Q4_1", 4), ("Q4_0", 4), ("Q8_0", 8)])
def test_gguf_blocks_are_restored_exactly(kind: str, bits: int) -> None:
    weights = gguf_weights(kind)
    grid = exact_grid(weights)
    assert grid is not None and grid.bits == bits and grid.error == 0.0
    layer = NativeLinear(grid)
    # 8-bit blocks keep a GGUF file's fp16 scales in fp16 (4 bytes a block); 4-bit ones keep fp32.
    assert layer.header == (4 if bits == 8 else 8)
    assert torch.equal(kernel_weights(layer), weights)


def test_fitting_rows_a_slice_at_a_time_gives_the_same_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large matrices are fitted in slices of rows (to bound the fit's memory): the slices must not
    show in the result, exact GGUF weights or weights on no grid."""
    for weights, bits in ((gguf_weights("Q4_1", rows=40), 4), (torch.randn(40, 64), 8)):
        whole = BlockGrid(weights, bits)
        monkeypatch.setattr(native_linear, "ROWS_PER_FIT", 16)  # 40 rows: slices of 16, 16 and 8
        sliced = BlockGrid(weights, bits)
        monkeypatch.undo()
        assert torch.equal(sliced.codes, whole.codes)
        assert torch.equal(sliced.scale, whole.scale) and torch.equal(sliced.low, whole.low)
        assert sliced.error == whole.error


@pytest.mark.parametrize(("kind", "bits"), [("Q4_1", 4), ("Q4_0", 4), ("Q8_0", 8)])
def test_rows_restored_by_torch_are_the_kernels_weights(kind: str, bits: int) -> None:
    """restore_rows (an embedding lookup from a tied head's blocks) gives the rows the kernel uses."""
    layer = NativeLinear(BlockGrid(gguf_weights(kind), bits))
    weights = kernel_weights(layer)
    assert torch.equal(layer.restore_rows(torch.arange(layer.out_features)), weights)
    ids = torch.tensor([[3, 0], [39, 3]])
    assert torch.equal(layer.restore_rows(ids), weights[ids])


def test_weights_on_no_grid_are_not_taken_for_exact() -> None:
    weights = torch.randn(24, 64, generator=torch.Generator().manual_seed(1))
    assert exact_grid(weights) is None
    assert exact_grid(torch.randn(8, 40)) is None  # not whole blocks of 32
    # Forced into 4 bits (quantization int4), the change is reported as it really is.
    layer = NativeLinear(BlockGrid(weights, 4))
    actual = float((kernel_weights(layer) - weights).abs().max())
    assert actual > 0.01 and layer.error == actual
    assert layer.header == 8  # its scales are no fp16 values: they stay fp32


def test_results_are_fp32_products_of_the_weights() -> None:
    generator = torch.Generator().manual_seed(3)
    weights, bias = gguf_weights("Q4_1", rows=37), torch.randn(37, generator=generator)  # 37: a partial panel
    layer = NativeLinear(BlockGrid(weights, 4), bias)
    x = torch.randn(3, 5, 96, generator=generator)
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), x @ weights.T + bias, rtol=1e-5, atol=1e-5)


def test_the_norm_before_and_the_residual_after_are_those_of_a_decoder_layer() -> None:
    generator = torch.Generator().manual_seed(4)
    weights, bias = gguf_weights("Q4_1"), torch.randn(40, generator=generator)
    layer = NativeLinear(BlockGrid(weights, 4), bias)
    x, norm = torch.randn(2, 3, 96, generator=generator), torch.rand(96, generator=generator) + 0.5
    residual = torch.randn(2, 3, 40, generator=generator)
    normed = norm * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))  # transformers' LlamaRMSNorm
    with torch.inference_mode():
        got = layer(x, norm, 1e-5, residual)
        torch.testing.assert_close(got, residual + (normed @ weights.T + bias), rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError, match="residual"):
            layer(x, residual=residual[:1])
        with pytest.raises(ValueError, match="96 inputs"):
            layer(x[..., :64])


@pytest.mark.parametrize("kind", ["Q4_1", "Q8_0"])
def test_a_row_gives_the_same_bits_in_any_batch_and_on_any_number_of_threads(kind: str) -> None:
    generator = torch.Generator().manual_seed(2)
    layer = NativeLinear(BlockGrid(gguf_weights(kind, rows=72, columns=128), 8 if kind == "Q8_0" else 4))
    x = torch.randn(37, 128, generator=generator)
    threads = torch.get_num_threads()
    with torch.inference_mode():
        batched = layer(x)
        for size in (1, 2, 3, 5, 16):  # one row, then the 2- and 3-row tiles and their remainders
            assert torch.equal(layer(x[:size]), batched[:size])
        try:
            torch.set_num_threads(1)
            assert torch.equal(layer(x), batched)
        finally:
            torch.set_num_threads(threads)


def test_make_linear_chooses_by_quantization() -> None:
    q4, q8, plain = gguf_weights("Q4_1"), gguf_weights("Q8_0"), torch.randn(16, 64)
    assert isinstance(make_linear(q4, None, "none"), PackedLinear)
    auto4, auto8 = make_linear(q4, None, "auto"), make_linear(q8, None, "auto")
    assert isinstance(auto4, NativeLinear) and auto4.bits == 4 and auto4.error == 0.0
    assert isinstance(auto8, NativeLinear) and auto8.bits == 8 and auto8.error == 0.0
    assert isinstance(make_linear(plain, None, "auto"), PackedLinear)  # auto never rounds a weight
    forced = make_linear(plain, None, "int4")
    assert isinstance(forced, NativeLinear) and forced.bits == 4 and forced.error > 0


def test_without_a_compiler_torch_kernels_serve(
    fresh_build: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CC", "no-such-compiler")
    assert not native_linear.available()
    assert "no C compiler 'no-such-compiler'" in caplog.text
    q4 = gguf_weights("Q4_1", rows=48)
    assert isinstance(make_linear(q4, None, "auto"), PackedLinear)
    assert isinstance(make_linear(q4, None, "int4"), Int4Linear)
    with pytest.raises(RuntimeError, match="not available"):
        NativeLinear(BlockGrid(q4, 4))(torch.zeros(1, 96))


def test_a_compiler_without_openmp_builds_it_single_threaded(
    fresh_build: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    compiler = tmp_path / "cc-without-openmp"
    compiler.write_text('#!/bin/sh\nfor a in "$@"; do [ "$a" = -fopenmp ] && exit 1; done\nexec cc "$@"\n')
    compiler.chmod(0o755)
    monkeypatch.setenv("CC", str(compiler))
    assert native_linear.available()
    assert "building it single-threaded" in caplog.text
    weights = gguf_weights("Q4_1")
    assert torch.equal(kernel_weights(NativeLinear(BlockGrid(weights, 4))), weights)


def test_the_plain_c_path_without_vector_instructions_is_exact_and_batch_invariant(
    fresh_build: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a CPU without AVX2 (an ARM server, say) runs."""
    plain = [flag for flag in native_build._flags() if flag not in ("-mavx2", "-mfma", "-mf16c")]
    monkeypatch.setattr(native_build, "_flags", lambda: plain)
    for kind, bits in (("Q4_1", 4), ("Q8_0", 8)):  # fp32 and fp16 block headers
        weights = gguf_weights(kind, rows=37)
        layer = NativeLinear(BlockGrid(weights, bits))
        assert torch.equal(kernel_weights(layer), weights)
        x = torch.randn(9, 96, generator=torch.Generator().manual_seed(5))
        with torch.inference_mode():
            batched = layer(x)
            torch.testing.assert_close(batched, x @ weights.T, rtol=1e-5, atol=1e-5)
            for size in (1, 2, 3, 4):
                assert torch.equal(layer(x[:size]), batched[:size])


def test_it_can_be_switched_off(fresh_build: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGLM_DISABLE_NATIVE_LINEAR", "1")
    assert not native_linear.available()
