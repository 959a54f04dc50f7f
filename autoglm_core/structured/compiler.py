"""Compiles response formats for a tokenizer, once: a bounded LRU cache, off the event loop, limited.

Bad input is InvalidArgument with the field path and the library's reason; a format too large or
too slow to compile is ResourceExhausted. Compiling runs in a worker thread under llguidance's own
limits (grammar size, lexer fuel) and a wall-clock timeout, so a request never hangs on it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llguidance

from autoglm_core.backends.base import ChatTokenizer
from autoglm_core.errors import FieldViolation, InvalidArgument, ResourceExhausted
from autoglm_core.structured.constraint import GrammarConstraint, ReasoningMode
from autoglm_core.structured.formats import MAX_FORMAT_CHARS, ResponseFormat, format_field, grammar_text
from autoglm_core.structured.vocabulary import vocabulary_for

# A leading `<think>...</think>` block, then the document (grammar "body"): for models that reason
# in plain text without a prompt that opens the block.
_OPTIONAL_REASONING = "\n".join(
    [
        "start: think? @body",
        'think: "<think>" thought ws',
        'thought[stop="</think>"]: /(.|\\n)*/',
        "ws: /[ \\t\\r\\n]*/",
    ]
)
# Words in llguidance's messages when a limit (not the input's meaning) stopped compiling.
_LIMIT_WORDS = ("too big", "too large", "too complex", "too many", "limit for this grammar", "fuel")


@dataclass(frozen=True)
class CompiledFormat:
    """A format compiled for one vocabulary: pristine matchers that each request copies."""

    format: ResponseFormat
    vocabulary: llguidance.LLTokenizer
    _plain: llguidance.LLMatcher
    # The grammar behind an optional reasoning block; compiled only for requests that think.
    _with_reasoning: llguidance.LLMatcher | None = None

    def constraint(self, reasoning: ReasoningMode = "none") -> GrammarConstraint:
        """A fresh constraint for one request's turn."""
        source = self._plain
        if reasoning == "optional":
            if self._with_reasoning is None:
                raise ValueError("compiled without reasoning=True")
            source = self._with_reasoning
        return GrammarConstraint(source.deep_copy(), self.vocabulary, open_reasoning=reasoning == "open")


class GrammarCompiler:
    """Compiles ResponseFormats per tokenizer; the same (format, tokenizer) compiles once."""

    def __init__(
        self,
        *,
        max_entries: int = 256,
        timeout_s: float = 10.0,
        max_chars: int = MAX_FORMAT_CHARS,
        limits: llguidance.LLParserLimits | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.limits = limits or llguidance.LLParserLimits()
        # (format, tokenizer id, with reasoning) -> (weak reference to the tokenizer, compiled)
        self._cache: OrderedDict[tuple[ResponseFormat, int, bool], tuple[Any, CompiledFormat]] = OrderedDict()
        self._lock = threading.Lock()
        self.compiled = 0  # cache misses, for tests and metrics

    async def compile(
        self,
        fmt: ResponseFormat,
        tokenizer: ChatTokenizer,
        eos_ids: Sequence[int],
        *,
        reasoning: bool = False,
    ) -> CompiledFormat:
        """The compiled format, from the cache or compiled in a worker thread within the timeout;
        `reasoning`: also for turns where the model may open a reasoning block first."""
        if fmt.size > self.max_chars:
            raise ResourceExhausted(
                f"response_format is {fmt.size} characters; the limit is {self.max_chars}"
            )
        cached = self._cached(fmt, tokenizer, reasoning)
        if cached is not None:
            return cached
        # Reading the vocabulary is the model's one-time cost, not this format's: outside the limit
        # (on a busy machine it alone can take longer than the limit).
        await asyncio.to_thread(vocabulary_for, tokenizer, eos_ids)
        work = asyncio.to_thread(self.compile_sync, fmt, tokenizer, eos_ids, reasoning=reasoning)
        try:
            return await asyncio.wait_for(work, self.timeout_s)
        except TimeoutError:
            raise ResourceExhausted(
                f"response_format did not compile within {self.timeout_s:g} s; simplify it"
            ) from None

    def compile_sync(
        self,
        fmt: ResponseFormat,
        tokenizer: ChatTokenizer,
        eos_ids: Sequence[int],
        *,
        reasoning: bool = False,
    ) -> CompiledFormat:
        """Compiles on the calling thread (no timeout) and caches the result."""
        cached = self._cached(fmt, tokenizer, reasoning)
        if cached is not None:
            return cached
        vocabulary = vocabulary_for(tokenizer, eos_ids)
        grammar = grammar_text(fmt)
        plain = self._matcher(fmt, vocabulary, grammar)
        _check_can_match(fmt, plain)
        with_reasoning = (
            self._matcher(fmt, vocabulary, _with_optional_reasoning(grammar)) if reasoning else None
        )
        compiled = CompiledFormat(fmt, vocabulary, plain, with_reasoning)
        with self._lock:
            self.compiled += 1
            self._cache[(fmt, id(tokenizer), reasoning)] = (weakref.ref(tokenizer), compiled)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return compiled

    def _cached(
        self, fmt: ResponseFormat, tokenizer: ChatTokenizer, reasoning: bool
    ) -> CompiledFormat | None:
        key = (fmt, id(tokenizer), reasoning)
        with self._lock:
            entry = self._cache.get(key)
            # The id of a freed tokenizer may be reused by another: the weak reference tells.
            if entry is None or entry[0]() is not tokenizer:
                return None
            self._cache.move_to_end(key)
            return entry[1]

    def _matcher(
        self, fmt: ResponseFormat, vocabulary: llguidance.LLTokenizer, grammar: str
    ) -> llguidance.LLMatcher:
        matcher = llguidance.LLMatcher(vocabulary, grammar, log_level=0, limits=self.limits)
        if matcher.is_error():
            raise _compile_error(fmt, matcher.get_error())
        return matcher


def _with_optional_reasoning(grammar: str) -> str:
    """The grammar with an optional leading reasoning block (llguidance's multi-grammar form)."""
    # llguidance takes either Lark text or its JSON form.
    is_json = grammar.lstrip().startswith("{")
    spec = json.loads(grammar) if is_json else {"grammars": [{"lark_grammar": grammar}]}
    spec["grammars"][0]["name"] = "body"
    spec["grammars"].insert(0, {"name": "reasoning", "lark_grammar": _OPTIONAL_REASONING})
    return json.dumps(spec)


def _check_can_match(fmt: ResponseFormat, pristine: llguidance.LLMatcher) -> None:
    """InvalidArgument for a format no output can satisfy (e.g. a regex over an empty set)."""
    probe = pristine.deep_copy()
    probe.compute_bitmask()
    if probe.is_error() or (probe.is_stopped() and not probe.is_accepting()):
        raise InvalidArgument.one(format_field(fmt), "no output can match it")


def _compile_error(fmt: ResponseFormat, message: str) -> InvalidArgument | ResourceExhausted:
    reason = message.strip()[:2000]
    if any(word in reason.lower() for word in _LIMIT_WORDS):
        return ResourceExhausted(f"response_format is too large to compile: {reason}")
    return InvalidArgument([FieldViolation(format_field(fmt), reason)])
