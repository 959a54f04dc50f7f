"""A lean forward pass for Llama-family models on CPU, over the backend's per-request KV caches.

Why not transformers' own forward: on this 2-core CPU with SmolLM2-135M, a decode step through the
HF modules spent ~18 ms per token in Python around the arithmetic (module calls, hooks, separate
q/k/v and gate/up projections, rotary tables rebuilt per step). This pass runs the same arithmetic
with fused q/k/v and gate/up weights and one rotary table: 63 -> 45 ms per step for one row and
135 -> 120 ms for 16 (same process, back to back). It reads the weights out of the loaded HF model
and is checked against that model's own logits at load, so a model it does not reproduce is refused
and served by the HF path instead.

A decode step's attention runs in the C kernel of native_attention.py where it could be built (one
call per layer for the whole batch), else through ragged.decode_attention. Where every product runs
in the native kernel too, a decode step hands its layers to C a group at a time (native_decoder.py).

Covered: the plain pre-norm architecture of llama, mistral and qwen2 (RMSNorm, rotary embeddings
with a position-independent table, grouped-query attention with optional q/k/v bias and sliding
window, SiLU-gated MLP). Anything else (q/k norms, soft-capping, scaled residuals, dynamic rope)
goes through transformers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional
from transformers import PreTrainedModel

from autoglm_core.kernels import native_attention, native_decoder
from autoglm_core.kernels.linear_kernels import Int4Linear, make_linear
from autoglm_core.kernels.native_linear import NativeLinear
from autoglm_core.runtime.lora import LoraWeights, RowAdapters
from autoglm_core.runtime.runners.ragged import SequenceKV, decode_attention, prefill_attention

FAMILIES = ("llama", "mistral", "qwen2")
ROPE_TYPES = ("default", "linear", "llama3", "yarn")
# Rotary positions computed ahead; the table doubles when a sequence goes past it.
_FIRST_TABLE = 4096
_ROWS_CHECKED = 4096  # rows of the embedding compared with the head at a time
# Layers of a decode step per call into native_decoder: `interrupt` is asked between such groups.
LAYERS_PER_CALL = 10


def unsupported_reason(model: PreTrainedModel) -> str | None:
    """Why the lean decoder cannot run this model, or None when it can."""
    config = model.config
    if config.model_type not in FAMILIES:
        return f"model type {config.model_type!r} is not one of {', '.join(FAMILIES)}"
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if not isinstance(rope, dict) or rope.get("rope_type", "default") not in ROPE_TYPES:
        return f"rope parameters {rope!r} are not position-independent"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"activation {config.hidden_act!r} is not silu"
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if inner is None or layers is None or not hasattr(inner, "rotary_emb"):
        return "no model.layers / rotary_emb"
    for layer in layers:
        attn = getattr(layer, "self_attn", None)
        if attn is None or hasattr(attn, "q_norm") or not hasattr(layer, "post_attention_layernorm"):
            return "decoder layers are not plain pre-norm attention + MLP"
        if not all(isinstance(getattr(attn, n, None), nn.Linear) for n in ("q_proj", "k_proj", "v_proj")):
            return "attention projections are not plain linear layers"
    return None


def sliding_window(config: Any, attention: nn.Module, index: int) -> int | None:
    """How many of the latest positions layer `index` attends to, or None for all of them.

    Qwen2's attention modules carry their own window (set on the layers that slide). Mistral's carry
    none: its config's one window applies to every layer, through the attention mask."""
    if hasattr(attention, "sliding_window"):
        return getattr(attention, "sliding_window", None) or None
    kinds = getattr(config, "layer_types", None)
    if kinds is not None:
        return getattr(config, "sliding_window", None) if kinds[index] == "sliding_attention" else None
    return getattr(config, "sliding_window", None) or None


class StepInterrupted(Exception):
    """A forward pass was stopped between layers (a more urgent request arrived)."""


class _Layer:
    """One decoder layer's weights, fused for fewer and larger matrix products."""

    def __init__(self, layer: Any, quantization: str, window: int | None) -> None:
        attn, mlp = layer.self_attn, layer.mlp
        q, k, v = attn.q_proj, attn.k_proj, attn.v_proj
        bias = None if q.bias is None else torch.cat([q.bias, k.bias, v.bias])
        self.qkv = make_linear(torch.cat([q.weight, k.weight, v.weight]), bias, quantization)
        self.o = make_linear(attn.o_proj.weight, attn.o_proj.bias, quantization)
        self.gate_up = make_linear(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]), None, quantization)
        self.down = make_linear(mlp.down_proj.weight, None, quantization)
        self.intermediate = mlp.gate_proj.out_features
        # Copies: a view would keep the whole checkpoint file mapped (and counted as memory).
        self.norm_in = layer.input_layernorm.weight.detach().clone()
        self.norm_post = layer.post_attention_layernorm.weight.detach().clone()
        self.eps = float(layer.input_layernorm.variance_epsilon)
        self.scaling = float(attn.scaling)
        self.window = window

    def modules(self) -> list[nn.Module]:
        return [self.qkv, self.o, self.gate_up, self.down]


class LlamaDecoder:
    """forward(rows, tokens): last-token logits of each row after appending its tokens to its cache."""

    def __init__(
        self,
        model: PreTrainedModel,
        quantization: str = "none",
        on_packed: Callable[[nn.Module], None] | None = None,
    ) -> None:
        """`on_packed` is called with each of the model's modules (a layer, the head, the embedding)
        once the decoder has its own copy: a load uses it to let go of what it has read."""
        config = model.config.get_text_config()
        self.heads = int(config.num_attention_heads)
        self.kv_heads = int(config.num_key_value_heads)
        self.head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // self.heads)
        inner: Any = model.model
        self.rotary = inner.rotary_emb
        done = on_packed or (lambda module: None)
        self.layers = []
        for index, layer in enumerate(inner.layers):
            self.layers.append(_Layer(layer, quantization, sliding_window(config, layer.self_attn, index)))
            done(layer)
        self.norm = inner.norm.weight.detach().clone()
        self.norm_eps = float(inner.norm.variance_epsilon)
        # The output head picks the tokens: fp32, or 8-bit blocks only where that is exactly the file's
        # (a Q8_0 head would not survive int4).
        lm_head = model.lm_head  # type: ignore[union-attr]
        head_mode = "none" if quantization == "none" else "auto"
        self.head = make_linear(lm_head.weight, lm_head.bias, head_mode)
        self.embed: Callable[[torch.Tensor], torch.Tensor] = _embedding(inner.embed_tokens, self.head)
        done(lm_head)
        done(inner.embed_tokens)
        # Decode steps attend through the C kernel where it could be built (native_attention.py).
        self.native_attention = native_attention.available()
        # SiLU * up in C wherever it was built, so the fused decode path and the per-layer one agree.
        self.native_silu = native_decoder.available()
        self.fused: native_decoder.DecodeLayers | None = None
        if self.native_attention and native_decoder.DecodeLayers.fits(self.layers):
            hidden = int(config.hidden_size)
            self.fused = native_decoder.DecodeLayers(
                self.layers, hidden, self.heads, self.kv_heads, self.head_dim
            )
        self.layers_per_call = LAYERS_PER_CALL
        self._cos = self._sin = torch.empty(0)
        self._grow_table(_FIRST_TABLE)

    def linear_kinds(self) -> str:
        """What computes the linear layers, e.g. "120 x 4-bit native; head 8-bit native"."""
        kinds = Counter(_kind(m) for layer in self.layers for m in layer.modules())
        layers = ", ".join(f"{count} x {kind}" for kind, count in kinds.items())
        return f"{layers}; head {_kind(self.head)}"

    @property
    def int4_error(self) -> float:
        """Largest change the quantized layers make to a weight, the kernel's own rounding included."""
        return self._largest("error")

    @property
    def int4_grid_error(self) -> float:
        """Largest distance of a weight from its 4-bit grid (0.0 for Q4 GGUF files)."""
        return self._largest("grid_error")

    def _largest(self, attribute: str) -> float:
        errors = [getattr(m, attribute, 0.0) for layer in self.layers for m in layer.modules()]
        return max(errors, default=0.0)

    def forward(
        self,
        rows: list[SequenceKV],
        tokens: list[list[int]],
        interrupt: Callable[[], bool] | None = None,
        adapters: list[LoraWeights | None] | None = None,
    ) -> torch.Tensor:
        """`interrupt` is asked between layers (between groups of `layers_per_call` layers on the fused
        decode path); when it says so the pass stops with StepInterrupted, leaving the rows' caches
        longer in some layers (SequenceKV.truncate undoes that).

        Rows may take different numbers of tokens (prompts prefilled together): their tokens then run
        as one sequence [1, total] through the linear layers, whose rows are bitwise the same in any
        batch, and each row attends over its own segment, so every row gets the bits it gets alone.
        `adapters` names each row's LoRA adapter (None: the base model); see runtime/lora.py."""
        counts = [len(t) for t in tokens]
        lora = RowAdapters.of(adapters, counts)
        ragged = len(set(counts)) > 1
        if ragged:
            x = self.embed(torch.tensor([[t for row_tokens in tokens for t in row_tokens]]))  # [1, total, H]
            positions = torch.cat(
                [torch.arange(r.length, r.length + n) for r, n in zip(rows, counts, strict=True)]
            )
            positions = positions[None, :]
        else:
            x = self.embed(torch.tensor(tokens, dtype=torch.long))  # [B, n, H]
            starts = torch.tensor([[row.length] for row in rows], dtype=torch.long)
            positions = starts + torch.arange(counts[0])[None, :]
        cos, sin = self._rotary(positions)
        if self._fusable(rows, x.shape[1], lora):
            x = self._decode_fused(rows, x, cos, sin, interrupt)
        else:
            x = self._layers(rows, counts, x, cos, sin, interrupt, lora)
        last = x[0, torch.tensor(counts).cumsum(0) - 1] if ragged else x[:, -1]  # each row's last token
        logits = _linear(self.head, last, self.norm, self.norm_eps)
        return logits

    def _fusable(self, rows: list[SequenceKV], n: int, lora: RowAdapters | None) -> bool:
        """A decode step onto started caches, with no adapter: the fused path's case."""
        layers = len(self.layers)
        return (
            self.fused is not None and n == 1 and lora is None and all(len(r.lengths) == layers for r in rows)
        )

    def _decode_fused(
        self,
        rows: list[SequenceKV],
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        interrupt: Callable[[], bool] | None,
    ) -> torch.Tensor:
        """The layers of a one-token-per-row pass in C, `layers_per_call` at a time: [B, 1, H] -> same."""
        assert self.fused is not None
        hidden, step = x[:, 0], max(1, self.layers_per_call)
        for first in range(0, len(self.layers), step):
            if interrupt is not None and first > 0 and interrupt():
                raise StepInterrupted
            last = min(first + step, len(self.layers))
            hidden = self.fused.run(rows, first, last, hidden, cos[:, 0, 0], sin[:, 0, 0])
        return hidden[:, None]

    def _layers(
        self,
        rows: list[SequenceKV],
        counts: list[int],
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        interrupt: Callable[[], bool] | None,
        lora: RowAdapters | None,
    ) -> torch.Tensor:
        """The layers one at a time through torch and the kernels' Python wrappers: [B, n, H] -> same."""
        ragged = len(set(counts)) > 1
        batch, n = x.shape[0], x.shape[1]
        q_width = self.heads * self.head_dim
        for index, layer in enumerate(self.layers):
            if interrupt is not None and index > 0 and interrupt():
                raise StepInterrupted
            qkv = _linear(layer.qkv, x, layer.norm_in, layer.eps)
            if lora is not None:
                lora.add(qkv, x, index, "qkv", (layer.norm_in, layer.eps))
            if ragged:
                attended = self._attend_segments(rows, counts, index, layer, qkv, cos, sin)
            else:
                attended = self._attend(rows, index, layer, qkv, cos, sin)
            attended = attended.reshape(batch, n, q_width)
            out = _linear(layer.o, attended, residual=x)
            if lora is not None:
                lora.add(out, attended, index, "o")
            x = out
            gate_up = _linear(layer.gate_up, x, layer.norm_post, layer.eps)
            if lora is not None:
                lora.add(gate_up, x, index, "gate_up", (layer.norm_post, layer.eps))
            if self.native_silu:
                hidden = native_decoder.silu_mul(gate_up, layer.intermediate)
            else:
                gate, up = gate_up[..., : layer.intermediate], gate_up[..., layer.intermediate :]
                hidden = functional.silu(gate) * up
            out = _linear(layer.down, hidden, residual=x)
            if lora is not None:
                lora.add(out, hidden, index, "down")
                lora.add_bottleneck(out, x, index)
            x = out
        return x

    def _attend(
        self,
        rows: list[SequenceKV],
        index: int,
        layer: _Layer,
        qkv: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
    ) -> torch.Tensor:
        """Rotates queries and keys, appends the keys/values and attends: qkv [B, n, (heads + 2 kv_heads)
        * dim] and cos/sin [B, n, 1, dim] -> [B, n, heads, dim]. One token per row onto existing caches
        (a decode step) goes through the C kernel where it was built, rotation included; anything else
        through torch ops."""
        batch, n = qkv.shape[0], qkv.shape[1]
        heads = qkv.reshape(batch, n, self.heads + 2 * self.kv_heads, self.head_dim)
        qk, values = heads[:, :, : self.heads + self.kv_heads], heads[:, :, self.heads + self.kv_heads :]
        if n == 1 and self.native_attention and all(len(row.lengths) > index for row in rows):
            attended = native_attention.decode_step(
                rows,
                index,
                qk[:, 0, : self.heads],
                qk[:, 0, self.heads :],
                values[:, 0],
                layer.scaling,
                layer.window,
                rotary=(cos[:, 0, 0], sin[:, 0, 0]),
            )
            return attended.reshape(batch, 1, self.heads, self.head_dim)
        # Queries and keys rotate together: one rotary application for both.
        qk = qk * cos + _rotate_half(qk) * sin
        query = qk[:, :, : self.heads].transpose(1, 2)  # [B, heads, n, dim]
        keys = qk[:, :, self.heads :].transpose(1, 2)
        values = values.transpose(1, 2)
        for b, row in enumerate(rows):
            row.append(index, keys[b], values[b])
        if query.shape[2] == 1:
            return decode_attention(rows, index, query, layer.scaling, layer.window)
        return prefill_attention(rows, index, query, layer.scaling, layer.window).transpose(1, 2)

    def _attend_segments(
        self,
        rows: list[SequenceKV],
        counts: list[int],
        index: int,
        layer: _Layer,
        qkv: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
    ) -> torch.Tensor:
        """Attention of a flat [1, total] pass: each row over its own segment, as if it ran alone."""
        parts, start = [], 0
        for row, n in zip(rows, counts, strict=True):
            segment = slice(start, start + n)
            parts.append(self._attend([row], index, layer, qkv[:, segment], cos[:, segment], sin[:, segment]))
            start += n
        return torch.cat(parts, dim=1)

    def _rotary(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin for [B, n] positions, shaped [B, n, 1, dim] to broadcast over heads."""
        needed = int(positions.max()) + 1
        if needed > self._cos.shape[0]:
            self._grow_table(max(needed, 2 * self._cos.shape[0]))
        return self._cos[positions][:, :, None], self._sin[positions][:, :, None]

    def _grow_table(self, length: int) -> None:
        # The model's own rotary module, so scaled variants (llama3, yarn, linear) come out right.
        with torch.inference_mode():
            probe = torch.zeros(1, dtype=torch.float32)
            cos, sin = self.rotary(probe, torch.arange(length)[None, :])
        self._cos, self._sin = cos[0].float(), sin[0].float()


def _embedding(embed: nn.Embedding, head: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """Token ids -> their embedding rows. Where the output head is tied to the embedding and its
    8-bit or 4-bit blocks give every row back bit for bit (a GGUF file's tied Q8_0 head), the rows
    come from the head's blocks and the fp32 table (4 bytes a weight) need not be kept."""
    if not isinstance(head, NativeLinear) or head.error != 0.0:
        return embed
    if tuple(embed.weight.shape) != (head.out_features, head.in_features):
        return embed
    table = embed.weight.detach()
    with torch.no_grad():
        for start in range(0, head.out_features, _ROWS_CHECKED):
            rows = torch.arange(start, min(start + _ROWS_CHECKED, head.out_features))
            if not torch.equal(head.restore_rows(rows), table[rows]):
                return embed
    return head.restore_rows


def _kind(linear: nn.Module) -> str:
    if isinstance(linear, NativeLinear):
        return f"{linear.bits}-bit native"
    return "int4 torch (bf16)" if isinstance(linear, Int4Linear) else "fp32"


def _linear(
    linear: nn.Module,
    x: torch.Tensor,
    norm: torch.Tensor | None = None,
    eps: float = 0.0,
    residual: torch.Tensor | None = None,
) -> torch.Tensor:
    """[rms_norm(x)] W^T [+ residual]: one call of the native kernel, which does all three, else torch ops."""
    if isinstance(linear, NativeLinear):
        return linear.forward(x, norm, eps, residual)  # not through __call__: no hooks to run
    y: torch.Tensor = linear(x if norm is None else _rms_norm(x, norm, eps))
    return y if residual is None else residual + y


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """As transformers' LlamaRMSNorm (fp32 model): x / rms(x) * weight."""
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)
