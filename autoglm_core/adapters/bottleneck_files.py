"""Reads a bottleneck adapter (the seed's section 2.5) in this project's documented format.

A directory with
- `adapter_config.json`: {"adapter_type": "bottleneck", "bottleneck_size": 16,
  "non_linearity": "relu" | "silu" | "gelu" | "tanh", "scaling": 1.0}
- `adapter_model.safetensors`: for every decoder layer i, `layers.{i}.adapter.down.weight`
  [size, hidden], `layers.{i}.adapter.down.bias` [size], `layers.{i}.adapter.up.weight` [hidden, size],
  `layers.{i}.adapter.up.bias` [hidden] (torch.nn.Linear's layout).

Each layer's MLP output h becomes h + scaling * up(act(down(h))) (Pfeiffer placement: after the
feed-forward block, before the residual). Checked like LoRA: a bad file is INVALID_ARGUMENT on
`source`, a shape that does not fit the base model FAILED_PRECONDITION naming it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import torch
from safetensors.torch import load_file

from autoglm_core.adapters.lora_files import LoadedAdapter
from autoglm_core.adapters.shapes import BaseShapes
from autoglm_core.errors import FailedPrecondition, InvalidArgument
from autoglm_core.runtime.lora import ACTIVATIONS, Bottleneck, LoraWeights

KIND_BOTTLENECK = "bottleneck"
_PARTS = ("down.weight", "down.bias", "up.weight", "up.bias")


def read_bottleneck(path: Path, config: dict[str, object], shapes: BaseShapes) -> LoadedAdapter:
    """Reads and validates a bottleneck adapter whose config is `config` (blocking)."""
    size, activation, scaling = _settings(config)
    weights_file = path / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise InvalidArgument.one("source", f"{path} has no adapter_model.safetensors")
    try:
        tensors = load_file(str(weights_file), device="cpu")
    except Exception as exc:  # a truncated or corrupt file
        raise InvalidArgument.one("source", f"the adapter's weights cannot be read: {exc}") from exc
    hidden = shapes.modules["o_proj"][1]
    expected = {
        "down.weight": [size, hidden],
        "down.bias": [size],
        "up.weight": [hidden, size],
        "up.bias": [hidden],
    }
    layers = []
    for layer in range(shapes.num_layers):
        found = {}
        for part in _PARTS:
            key = f"layers.{layer}.adapter.{part}"
            tensor = tensors.pop(key, None)
            if tensor is None:
                raise FailedPrecondition(f"bottleneck adapter: {key} is missing")
            if list(tensor.shape) != expected[part]:
                raise FailedPrecondition(
                    f"{key} is {list(tensor.shape)}; with hidden size {hidden} and bottleneck size {size}"
                    f" the base model needs {expected[part]}"
                )
            found[part] = tensor.to(torch.float32)
        layers.append(
            Bottleneck(
                down=found["down.weight"].T.contiguous(),
                down_bias=found["down.bias"],
                up=found["up.weight"].T.contiguous(),
                up_bias=found["up.bias"],
                activation=activation,
                scaling=scaling,
            )
        )
    if tensors:
        raise FailedPrecondition(f"bottleneck adapter: unexpected weights {sorted(tensors)[:3]}")
    nbytes = sum(t.numel() * 4 for b in layers for t in (b.down, b.down_bias, b.up, b.up_bias))
    weights = LoraWeights(load_id=uuid.uuid4().hex, layers=[{} for _ in layers], bottlenecks=layers)
    return LoadedAdapter(kind=KIND_BOTTLENECK, weights=weights, rank=size, targets=("mlp",), nbytes=nbytes)


def _settings(config: dict[str, object]) -> tuple[int, str, float]:
    size, activation = config.get("bottleneck_size"), config.get("non_linearity", "relu")
    scaling = config.get("scaling", 1.0)
    if not isinstance(size, int) or size < 1:
        raise InvalidArgument.one("source", "adapter_config.json: bottleneck_size must be a positive integer")
    if activation not in ACTIVATIONS:
        raise InvalidArgument.one(
            "source", f"adapter_config.json: non_linearity must be one of {sorted(ACTIVATIONS)}"
        )
    if not isinstance(scaling, int | float):
        raise InvalidArgument.one("source", "adapter_config.json: scaling must be a number")
    return size, str(activation), float(scaling)


def read_config(path: Path) -> dict[str, object]:
    """adapter_config.json as a dict; INVALID_ARGUMENT when it is missing or not JSON."""
    file = path / "adapter_config.json"
    if not file.is_file():
        raise InvalidArgument.one("source", f"{path} has no adapter_config.json (not an adapter directory)")
    try:
        config = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidArgument.one("source", f"adapter_config.json cannot be read: {exc}") from exc
    if not isinstance(config, dict):
        raise InvalidArgument.one("source", "adapter_config.json is not a JSON object")
    return config
