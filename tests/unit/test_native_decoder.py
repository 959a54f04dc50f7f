"""The fused decode path (native_decoder.c) against the lean decoder's per-layer path, on a tiny model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from autoglm_core.kernels import native_build, native_decoder  # noqa: E402
from autoglm_core.models.default_model import build_tiny_model  # noqa: E402
from autoglm_core.runtime.runners.llama_decoder import LAYERS_PER_CALL, LlamaDecoder, StepInterrupted  # noqa: E402
from autoglm_core.runtime.runners.ragged import SequenceKV  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler to build the kernels")

PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [40, 41, 42], [300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310]]


# qwen2: the q/k/v projections carry a bias, which the fused layers add too.
@pytest.fixture(scope="module", params=["llama", "qwen2"])
def tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoModelForCausalLM

    path = build_tiny_model(Path(tmp_path_factory.mktemp("tiny")) / "model", model_type=request.param)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    assert (model.model.layers[0].self_attn.q_proj.bias is not None) == (request.param == "qwen2")
    return model


def fused_decoder(model: Any) -> LlamaDecoder:
    assert native_decoder.available(), "the kernels did not build (see the log for the compiler's error)"
    decoder = LlamaDecoder(model, "int4")  # every product through the native kernel: the fused case
    assert decoder.fused is not None
    return decoder


@pytest.fixture(scope="module")
def decoder(tiny_model: Any) -> LlamaDecoder:
    return fused_decoder(tiny_model)


def prefilled(decoder: LlamaDecoder) -> list[SequenceKV]:
    rows = [SequenceKV() for _ in PROMPTS]
    with torch.inference_mode():
        for row, prompt in zip(rows, PROMPTS, strict=True):
            decoder.forward([row], [prompt])
    return rows


def decode(decoder: LlamaDecoder, rows: list[SequenceKV], steps: int, *, batched: bool) -> torch.Tensor:
    """Greedy steps from token 1 in every row: the logits of each step, [steps, rows, vocab]."""
    tokens, out = [[1] for _ in rows], []
    with torch.inference_mode():
        for _ in range(steps):
            if batched:
                logits = decoder.forward(rows, tokens)
            else:
                logits = torch.cat([decoder.forward([row], [t]) for row, t in zip(rows, tokens, strict=True)])
            out.append(logits)
            tokens = [[int(row.argmax())] for row in logits]
    return torch.stack(out)


def test_silu_mul_is_torchs_within_rounding_and_the_same_wherever_a_value_falls() -> None:
    generator = torch.Generator().manual_seed(0)
    gate = torch.cat(
        [torch.randn(3, 37, generator=generator) * 8, torch.tensor([[0.0, -200.0, 200.0] + [1e-30] * 34] * 3)]
    )
    up = torch.randn_like(gate)
    ours = native_decoder.silu_mul(torch.cat([gate, up], -1), gate.shape[-1])
    expected = torch.nn.functional.silu(gate.double()) * up.double()
    assert torch.allclose(ours.double(), expected, rtol=1e-6, atol=1e-30)
    # A value gives the same bits at any offset: in the vector body, in the padded tail, alone.
    for width in (1, 8, 13, 37):
        part = native_decoder.silu_mul(torch.cat([gate[:, :width], up[:, :width]], -1), width)
        assert torch.equal(part, ours[:, :width])


def test_fused_decode_steps_give_the_bits_of_the_per_layer_path(decoder: LlamaDecoder) -> None:
    fused = decode(decoder, prefilled(decoder), 4, batched=True)
    kept, decoder.fused = decoder.fused, None
    try:
        per_layer = decode(decoder, prefilled(decoder), 4, batched=True)
    finally:
        decoder.fused = kept
    assert torch.equal(fused, per_layer)


def test_fused_decode_rows_get_the_same_bits_batched_or_alone(decoder: LlamaDecoder) -> None:
    assert_batch_invariant(decoder)


def assert_batch_invariant(decoder: LlamaDecoder) -> None:
    rows, alone_rows = prefilled(decoder), prefilled(decoder)
    assert torch.equal(decode(decoder, rows, 4, batched=True), decode(decoder, alone_rows, 4, batched=False))
    for row, twin in zip(rows, alone_rows, strict=True):
        assert row.lengths == twin.lengths
        for layer in range(len(row.lengths)):
            assert all(torch.equal(a, b) for a, b in zip(row.view(layer), twin.view(layer), strict=True))


def test_a_fused_step_stopped_between_groups_of_layers_is_undone_exactly(decoder: LlamaDecoder) -> None:
    rows, twins = prefilled(decoder), prefilled(decoder)
    lengths = [row.length for row in rows]
    decoder.layers_per_call = 1
    try:
        with torch.inference_mode(), pytest.raises(StepInterrupted):
            decoder.forward(rows, [[5], [6], [7]], interrupt=lambda: True)
        assert [row.lengths for row in rows] == [[n + 1, n] for n in lengths]  # the first group ran
        for row, n in zip(rows, lengths, strict=True):
            row.truncate(n)
        with torch.inference_mode():
            redone = decoder.forward(rows, [[5], [6], [7]])
            straight = decoder.forward(twins, [[5], [6], [7]])
    finally:
        decoder.layers_per_call = LAYERS_PER_CALL
    assert torch.equal(redone, straight)
    assert [row.lengths for row in rows] == [twin.lengths for twin in twins]


def test_the_plain_c_path_without_vector_instructions_agrees_with_itself(
    tiny_model: Any, fresh_build: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a CPU without AVX2 runs: the scalar exp, fused or per layer, batched or alone."""
    plain = [flag for flag in native_build._flags() if flag not in ("-mavx2", "-mfma", "-mf16c")]
    monkeypatch.setattr(native_build, "_flags", lambda: plain)
    gate = torch.linspace(-90, 90, 301)[None]
    up = torch.ones_like(gate)
    torch.testing.assert_close(
        native_decoder.silu_mul(torch.cat([gate, up], -1), gate.shape[-1]), torch.nn.functional.silu(gate)
    )
    decoder = fused_decoder(tiny_model)
    fused = decode(decoder, prefilled(decoder), 3, batched=True)
    decoder.fused = None
    assert torch.equal(fused, decode(decoder, prefilled(decoder), 3, batched=True))
    assert_batch_invariant(fused_decoder(tiny_model))


WINDOW = 4  # shorter than every prompt here but one, so the window decides what a token attends to


# Mistral: one window for every layer, in the config only. Qwen2: a window on the layers its config
# names (here the second of two), carried by their attention modules.
QWEN2_SLIDING = {"use_sliding_window": True, "layer_types": ["full_attention", "sliding_attention"]}
WINDOWS = {
    "mistral": ({"sliding_window": WINDOW}, [WINDOW, WINDOW]),
    "qwen2": ({"sliding_window": WINDOW, **QWEN2_SLIDING}, [None, WINDOW]),
}


@pytest.fixture(scope="module", params=sorted(WINDOWS))
def windowed_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoModelForCausalLM

    path = build_tiny_model(Path(tmp_path_factory.mktemp("tiny")) / "model", model_type=request.param)
    settings, windows = WINDOWS[request.param]
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, **settings)
    model.expected_windows = windows
    return model


def test_a_sliding_window_gives_transformers_logits_and_the_same_bits_fused(windowed_model: Any) -> None:
    """Attention to the last WINDOW positions (every layer's, or some layers'): the per-layer path
    reproduces transformers' logits past the window, and the fused decode steps give its bits."""
    exact = LlamaDecoder(windowed_model, "none")
    assert [layer.window for layer in exact.layers] == windowed_model.expected_windows
    rows = prefilled(exact)
    with torch.inference_mode():
        step = exact.forward(rows, [[1] for _ in rows])
        for index, prompt in enumerate(PROMPTS):
            ids = torch.tensor([[*prompt, 1]])
            expected = windowed_model(input_ids=ids).logits[0, -1]
            torch.testing.assert_close(step[index], expected, rtol=1e-4, atol=1e-4)
    # The window changes the answer wherever a sequence outgrows it (else this test shows nothing).
    plain = LlamaDecoder(windowed_model, "none")
    for layer in plain.layers:
        layer.window = None
    with torch.inference_mode():
        unwindowed = plain.forward(prefilled(plain), [[1] for _ in PROMPTS])
    for index, prompt in enumerate(PROMPTS):
        assert torch.allclose(unwindowed[index], step[index]) == (len(prompt) + 1 <= WINDOW)
    decoder = fused_decoder(windowed_model)
    fused = decode(decoder, prefilled(decoder), 6, batched=True)
    decoder.fused = None
    assert torch.equal(fused, decode(decoder, prefilled(decoder), 6, batched=True))
    assert_batch_invariant(fused_decoder(windowed_model))
