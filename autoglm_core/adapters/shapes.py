"""What an adapter must fit: the base model's layer count and each projection's input and output sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BaseShapes:
    """The base model's projections: name (q_proj, ...) -> (in_features, out_features)."""

    num_layers: int
    modules: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, config: Any) -> BaseShapes:
        """From a Llama-family config (the lean decoder's architectures)."""
        text = config.get_text_config()
        hidden = int(text.hidden_size)
        heads = int(text.num_attention_heads)
        kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
        head_dim = int(getattr(text, "head_dim", None) or hidden // heads)
        inter = int(text.intermediate_size)
        return cls(
            num_layers=int(text.num_hidden_layers),
            modules={
                "q_proj": (hidden, heads * head_dim),
                "k_proj": (hidden, kv_heads * head_dim),
                "v_proj": (hidden, kv_heads * head_dim),
                "o_proj": (heads * head_dim, hidden),
                "gate_proj": (hidden, inter),
                "up_proj": (hidden, inter),
                "down_proj": (inter, hidden),
            },
        )
