"""Reads an adapter directory of either kind: LoRA in peft's format, or a bottleneck adapter."""

from __future__ import annotations

from pathlib import Path

from autoglm_core.adapters.bottleneck_files import KIND_BOTTLENECK, read_bottleneck, read_config
from autoglm_core.adapters.lora_files import LoadedAdapter, read_lora
from autoglm_core.adapters.shapes import BaseShapes
from autoglm_core.errors import InvalidArgument


def read_adapter(source: str, shapes: BaseShapes) -> LoadedAdapter:
    """Reads and validates `source` (blocking: run it in a thread); the config's `adapter_type`
    "bottleneck" picks the bottleneck format, anything else is read as peft's."""
    path = Path(source)
    if not source or not path.is_dir():
        raise InvalidArgument.one("source", f"{source!r} is not a directory")
    config = read_config(path)
    if config.get("adapter_type") == KIND_BOTTLENECK:
        return read_bottleneck(path, config, shapes)
    return read_lora(source, shapes)
