"""Model sources: the embedded default model and name/path resolution."""

from autoglm_core.models.default_model import (
    DEFAULT_MODEL_ALIASES,
    build_tiny_model,
    default_cache_dir,
    ensure_default_model,
    is_default_alias,
    resolve_model_source,
)

__all__ = [
    "DEFAULT_MODEL_ALIASES",
    "build_tiny_model",
    "default_cache_dir",
    "ensure_default_model",
    "is_default_alias",
    "resolve_model_source",
]
