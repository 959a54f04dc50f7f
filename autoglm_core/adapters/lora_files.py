"""Reads a LoRA adapter saved by peft (`save_pretrained`) and checks it against the base model.

Everything is checked at load, so a request never meets a half-usable adapter: a missing directory or
an unreadable file is INVALID_ARGUMENT on `source`; an adapter of another kind, with features the
runner does not apply (DoRA, trained biases, extra saved modules, per-module ranks), or with shapes
that do not fit the base model is FAILED_PRECONDITION naming what does not fit.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from autoglm_core.adapters.shapes import BaseShapes
from autoglm_core.errors import FailedPrecondition, InvalidArgument
from autoglm_core.runtime.lora import FUSED_MODULES, LoraWeights, LowRank

# peft's keys: base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
_KEY = re.compile(r"(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])(?:\.weight)?$")
KIND_LORA = "lora"


@dataclass(frozen=True)
class LoadedAdapter:
    """An adapter read from disk: its weights in the decoder's layout, and what describes it."""

    kind: str
    weights: LoraWeights
    # LoRA rank, or a bottleneck adapter's size.
    rank: int
    targets: tuple[str, ...]
    nbytes: int


def read_lora(source: str, shapes: BaseShapes) -> LoadedAdapter:
    """Reads and validates `source` (blocking: run it in a thread)."""
    path = Path(source)
    if not source or not path.is_dir():
        raise InvalidArgument.one("source", f"{source!r} is not a directory")
    config = _read_config(path)
    tensors = _read_tensors(path)
    scale = _scale(config)
    pairs = _pairs(tensors, shapes)
    ranks = {a.shape[0] for a, _ in pairs.values()}
    if len(ranks) > 1:
        raise FailedPrecondition(f"adapter {source}: modules have different ranks {sorted(ranks)}")
    rank = ranks.pop()
    layers = [_fused_layer(pairs, layer, shapes, scale) for layer in range(shapes.num_layers)]
    weights = LoraWeights(load_id=uuid.uuid4().hex, layers=layers)
    nbytes = sum(t.numel() * t.element_size() for lr in layers for d in lr.values() for t in (d.down, d.up))
    targets = tuple(sorted({module for _, module in pairs}))
    return LoadedAdapter(kind=KIND_LORA, weights=weights, rank=rank, targets=targets, nbytes=nbytes)


def _read_config(path: Path) -> Any:
    from peft import PeftConfig, PeftType

    if not (path / "adapter_config.json").is_file():
        raise InvalidArgument.one("source", f"{path} has no adapter_config.json (not a peft adapter)")
    try:
        config = PeftConfig.from_pretrained(str(path))
    except Exception as exc:  # malformed JSON, unknown fields: the file is the problem
        raise InvalidArgument.one("source", f"adapter_config.json cannot be read: {exc}") from exc
    if config.peft_type != PeftType.LORA:
        raise FailedPrecondition(f"adapter {path}: peft type {config.peft_type} is not served (LORA is)")
    unsupported = [
        what
        for what, present in (
            ("use_dora", getattr(config, "use_dora", False)),
            ("bias", getattr(config, "bias", "none") != "none"),
            ("modules_to_save", bool(getattr(config, "modules_to_save", None))),
            ("rank_pattern", bool(getattr(config, "rank_pattern", None))),
            ("alpha_pattern", bool(getattr(config, "alpha_pattern", None))),
        )
        if present
    ]
    if unsupported:
        raise FailedPrecondition(f"adapter {path}: not served: {', '.join(unsupported)}")
    return config


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from peft.utils import load_peft_weights

    if not any((path / name).is_file() for name in ("adapter_model.safetensors", "adapter_model.bin")):
        raise InvalidArgument.one("source", f"{path} has no adapter_model.safetensors")
    try:
        tensors: dict[str, torch.Tensor] = load_peft_weights(str(path), device="cpu")
    except Exception as exc:  # a truncated or corrupt file
        raise InvalidArgument.one("source", f"the adapter's weights cannot be read: {exc}") from exc
    return tensors


def _scale(config: Any) -> float:
    rank, alpha = int(config.r), float(config.lora_alpha)
    return alpha / math.sqrt(rank) if getattr(config, "use_rslora", False) else alpha / rank


def _pairs(
    tensors: dict[str, torch.Tensor], shapes: BaseShapes
) -> dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]]:
    """(layer, module) -> (A [r, in], B [out, r]), each checked against the base model."""
    halves: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        match = _KEY.search(key)
        if match is None:
            raise FailedPrecondition(f"adapter weight {key!r} is not a LoRA matrix of a decoder layer")
        layer, module, half = int(match[1]), match[2], match[3]
        if module not in shapes.modules:
            raise FailedPrecondition(f"adapter weight {key!r}: the base model has no module {module!r}")
        if layer >= shapes.num_layers:
            raise FailedPrecondition(f"adapter weight {key!r}: the base model has {shapes.num_layers} layers")
        halves.setdefault((layer, module), {})[half] = tensor.detach().to(torch.float32)
    if not halves:
        raise FailedPrecondition("the adapter has no LoRA weights")
    pairs = {}
    order = list(shapes.modules)  # the model's order: the first mismatch named is the first one met
    for (layer, module), found in sorted(
        halves.items(), key=lambda item: (item[0][0], order.index(item[0][1]))
    ):
        if set(found) != {"A", "B"}:
            raise FailedPrecondition(f"layers.{layer}.{module}: lora_A or lora_B is missing")
        a, b = found["A"], found["B"]
        _check_shapes(layer, module, a, b, shapes.modules[module])
        pairs[(layer, module)] = (a, b)
    return pairs


def _check_shapes(layer: int, module: str, a: torch.Tensor, b: torch.Tensor, base: tuple[int, int]) -> None:
    where = f"layers.{layer}.{module}"
    in_features, out_features = base
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[1]:
        raise FailedPrecondition(f"{where}: lora_A {list(a.shape)} and lora_B {list(b.shape)} do not pair")
    if a.shape[1] != in_features:
        raise FailedPrecondition(
            f"{where}: lora_A is {list(a.shape)}, so it takes {a.shape[1]} inputs;"
            f" the base model's {module} takes {in_features}"
        )
    if b.shape[0] != out_features:
        raise FailedPrecondition(
            f"{where}: lora_B is {list(b.shape)}, so it gives {b.shape[0]} outputs;"
            f" the base model's {module} gives {out_features}"
        )


def _fused_layer(
    pairs: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]],
    layer: int,
    shapes: BaseShapes,
    scale: float,
) -> dict[str, LowRank]:
    """One layer's deltas in the decoder's fused layout (see runtime/lora.py)."""
    fused = {}
    for name, parts in FUSED_MODULES.items():
        present = [(p, pairs[(layer, p)]) for p in parts if (layer, p) in pairs]
        if not present:
            continue
        in_features = shapes.modules[parts[0]][0]
        out_total = sum(shapes.modules[p][1] for p in parts)
        rank_total = sum(a.shape[0] for _, (a, _) in present)
        down = torch.zeros(in_features, rank_total)
        up = torch.zeros(rank_total, out_total)
        row = 0
        for part, (a, b) in present:
            column = sum(shapes.modules[p][1] for p in parts[: parts.index(part)])
            rank = a.shape[0]
            down[:, row : row + rank] = a.T
            up[row : row + rank, column : column + b.shape[0]] = b.T * scale
            row += rank
        fused[name] = LowRank(down=down.contiguous(), up=up.contiguous())
    return fused
