"""Structured output: response formats compiled into per-request token constraints (llguidance)."""

from autoglm_core.structured.compiler import CompiledFormat, GrammarCompiler
from autoglm_core.structured.constraint import GrammarConstraint, ReasoningMode
from autoglm_core.structured.formats import FormatKind, GrammarSyntax, ResponseFormat

__all__ = [
    "CompiledFormat",
    "FormatKind",
    "GrammarCompiler",
    "GrammarConstraint",
    "GrammarSyntax",
    "ReasoningMode",
    "ResponseFormat",
]
