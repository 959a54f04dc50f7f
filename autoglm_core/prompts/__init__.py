"""Prompt engine: task templates (Jinja2 files), a rule-based task classifier, per-request choice."""

from autoglm_core.prompts.classifier import classify
from autoglm_core.prompts.engine import PromptEngine

__all__ = ["PromptEngine", "classify"]
