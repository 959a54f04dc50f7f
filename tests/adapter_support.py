"""Small LoRA adapters made with peft for tests: random init (non-zero B, so output changes), saved
in peft's format to a directory, as a user's `save_pretrained` would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def make_lora(
    base_dir: Path,
    out_dir: Path,
    *,
    seed: int,
    rank: int = 8,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    scale_b: float = 1.0,
) -> Path:
    """A LoRA adapter on the model in `base_dir`, saved to `out_dir`."""
    model = peft_model(base_dir, seed=seed, rank=rank, targets=targets, scale_b=scale_b)
    model.save_pretrained(str(out_dir))
    return out_dir


def peft_model(
    base_dir: Path,
    *,
    seed: int,
    rank: int = 8,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    scale_b: float = 1.0,
) -> Any:
    """The base model with a random LoRA adapter, as peft computes it (the reference)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=list(targets), init_lora_weights=False)
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.mul_(scale_b)
    return model.eval()


def make_bottleneck(out_dir: Path, *, layers: int, hidden: int, size: int = 16, seed: int = 0) -> Path:
    """A random bottleneck adapter in the documented format (autoglm_core/adapters/bottleneck_files.py)."""
    import json

    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for i in range(layers):
        down, up = torch.nn.Linear(hidden, size), torch.nn.Linear(size, hidden)
        for name, linear in (("down", down), ("up", up)):
            tensors[f"layers.{i}.adapter.{name}.weight"] = (
                torch.randn(linear.weight.shape, generator=generator) * 0.1
            )
            tensors[f"layers.{i}.adapter.{name}.bias"] = (
                torch.randn(linear.bias.shape, generator=generator) * 0.1
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "adapter_model.safetensors"))
    config = {"adapter_type": "bottleneck", "bottleneck_size": size, "non_linearity": "relu", "scaling": 1.0}
    (out_dir / "adapter_config.json").write_text(json.dumps(config))
    return out_dir


def with_bottleneck(model: Any, adapter_dir: Path) -> Any:
    """Hooks a bottleneck adapter onto an HF Llama model's MLPs (the reference computation)."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(adapter_dir / "adapter_model.safetensors"))

    def hook(layer: int) -> Any:
        def apply(_module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
            w = {
                p: tensors[f"layers.{layer}.adapter.{p}"]
                for p in ("down.weight", "down.bias", "up.weight", "up.bias")
            }
            inner = torch.relu(output @ w["down.weight"].T + w["down.bias"])
            return output + inner @ w["up.weight"].T + w["up.bias"]

        return apply

    for i, decoder_layer in enumerate(model.model.layers):
        decoder_layer.mlp.register_forward_hook(hook(i))
    return model
