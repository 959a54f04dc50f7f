"""Adapters of a loaded base model: LoRA in peft's format, validated at load, kept in a bounded LRU."""
