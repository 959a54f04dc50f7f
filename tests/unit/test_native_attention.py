"""The decode-step attention kernel in C (native_attention.c) against the torch path it replaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from autoglm_core.kernels import native_attention  # noqa: E402
from autoglm_core.runtime.runners.ragged import SequenceKV, decode_attention  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler to build the kernel")

HEADS, KV_HEADS, DIM = 6, 2, 64


def rows_of(lengths: list[int], dim: int = DIM, seed: int = 0) -> list[SequenceKV]:
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for n in lengths:
        row = SequenceKV()
        row.append(
            0,
            torch.randn(KV_HEADS, n, dim, generator=generator),
            torch.randn(KV_HEADS, n, dim, generator=generator),
        )
        rows.append(row)
    return rows


def step(
    rows: list[SequenceKV],
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    window: int | None = None,
) -> torch.Tensor:
    return native_attention.decode_step(rows, 0, query, keys, values, 0.125, window)


def torch_step(
    rows: list[SequenceKV],
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    window: int | None = None,
) -> torch.Tensor:
    for b, row in enumerate(rows):
        row.append(0, keys[b][:, None], values[b][:, None])
    out = decode_attention(rows, 0, query[:, :, None], 0.125, window)
    return out.reshape(len(rows), -1)


@pytest.fixture(autouse=True)
def kernel_built() -> None:
    assert native_attention.available(), "the kernel did not build (see the log for the compiler's error)"


@pytest.mark.parametrize("dim", [64, 128, 20])  # the register-held paths and the plain one
@pytest.mark.parametrize("window", [None, 5])
def test_kernel_matches_the_torch_path(dim: int, window: int | None) -> None:
    lengths = [1, 7, 33, 130]
    generator = torch.Generator().manual_seed(1)
    query = torch.randn(len(lengths), HEADS, dim, generator=generator)
    keys, values = torch.randn(2, len(lengths), KV_HEADS, dim, generator=generator)
    ours_rows, torch_rows = rows_of(lengths, dim), rows_of(lengths, dim)
    ours = step(ours_rows, query, keys, values, window)
    expected = torch_step(torch_rows, query, keys, values, window)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)
    # The step's keys and values were appended as the torch path appends them.
    for mine, theirs in zip(ours_rows, torch_rows, strict=True):
        assert mine.lengths == theirs.lengths
        assert torch.equal(mine.view(0)[0], theirs.view(0)[0]) and torch.equal(
            mine.view(0)[1], theirs.view(0)[1]
        )


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """The decoder's torch rotation: x * cos + rotate_half(x) * sin, per row's table [B, dim]."""
    half = x.shape[-1] // 2
    rotated_half = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos[:, None] + rotated_half * sin[:, None]


def test_the_kernel_rotates_queries_and_keys_as_torch_does() -> None:
    lengths = [1, 7, 33]
    generator = torch.Generator().manual_seed(4)
    query = torch.randn(len(lengths), HEADS, DIM, generator=generator)
    keys, values = torch.randn(2, len(lengths), KV_HEADS, DIM, generator=generator)
    angles = torch.rand(len(lengths), DIM // 2, generator=generator) * 6
    cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)
    ours_rows, torch_rows = rows_of(lengths), rows_of(lengths)
    ours = native_attention.decode_step(ours_rows, 0, query, keys, values, 0.125, None, rotary=(cos, sin))
    expected = torch_step(torch_rows, rotate(query, cos, sin), rotate(keys, cos, sin), values)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)
    for mine, theirs in zip(ours_rows, torch_rows, strict=True):  # the cached key is the rotated one
        torch.testing.assert_close(mine.view(0)[0], theirs.view(0)[0], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="rotary tables"):
        native_attention.decode_step(rows_of(lengths), 0, query, keys, values, 0.125, None, (cos[:2], sin))


def test_a_row_gives_the_same_bits_alone_and_in_a_batch() -> None:
    lengths = [3, 130, 64, 9]
    generator = torch.Generator().manual_seed(2)
    query = torch.randn(len(lengths), HEADS, DIM, generator=generator)
    keys, values = torch.randn(2, len(lengths), KV_HEADS, DIM, generator=generator)
    batched = step(rows_of(lengths), query, keys, values)
    for b in range(len(lengths)):
        alone = step([rows_of(lengths)[b]], query[b : b + 1], keys[b : b + 1], values[b : b + 1])
        assert torch.equal(alone[0], batched[b])


def test_strided_rows_as_the_decoder_passes_them() -> None:
    """The decoder hands over views into its fused q/k/v output, not contiguous copies."""
    generator = torch.Generator().manual_seed(3)
    fused = torch.randn(3, (HEADS + KV_HEADS) * DIM + 5, generator=generator)
    qk = fused[:, : (HEADS + KV_HEADS) * DIM].reshape(3, HEADS + KV_HEADS, DIM)
    values = torch.randn(3, KV_HEADS, DIM, generator=generator)
    query, keys = qk[:, :HEADS], qk[:, HEADS:]
    ours = step(rows_of([4, 8, 16]), query, keys, values)
    expected = torch_step(rows_of([4, 8, 16]), query.contiguous(), keys.contiguous(), values)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="fp32"):
        native_attention.decode_step(rows_of([4, 8, 16]), 0, query.double(), keys, values, 0.125, None)


def test_it_builds_into_the_cache_directory_once(fresh_build: None, tmp_path: Path) -> None:
    assert native_attention.available()
    built = list((tmp_path / "kernels").glob("native_attention-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    native_attention._library.cache_clear()
    assert native_attention.available() and built[0].stat().st_mtime_ns == stamp


def test_without_a_compiler_the_torch_path_is_used(
    fresh_build: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CC", "no-such-compiler")
    assert not native_attention.available()
    assert "no C compiler 'no-such-compiler'" in caplog.text
    with pytest.raises(RuntimeError, match="not available"):
        native_attention.decode_step(
            rows_of([2]),
            0,
            torch.zeros(1, HEADS, DIM),
            torch.zeros(1, KV_HEADS, DIM),
            torch.zeros(1, KV_HEADS, DIM),
            0.125,
            None,
        )


def test_it_can_be_switched_off(fresh_build: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGLM_DISABLE_NATIVE_ATTENTION", "1")
    assert not native_attention.available()
