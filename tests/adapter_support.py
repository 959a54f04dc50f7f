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
