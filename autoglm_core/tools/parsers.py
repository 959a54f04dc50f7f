"""Incremental extraction of tool calls from a model's content stream.

The engine feeds the *content* pieces of `ThinkingStreamParser` (reasoning never carries calls) into
one parser per generation. Each `feed(delta)` returns a `ParseResult`: `content` is text that is
certainly not part of a tool call and may be streamed to the user now, `calls` are the calls completed
by this delta, and `errors` describe tool-call blocks that could not be parsed (their raw text is kept
out of the content). `finish()` flushes the rest at the end of the generation.

Formats (DESIGN.md, "Output formats to support"):

- `HermesToolCallParser` (Qwen2.5/Qwen3, Hermes):
  `<tool_call>\\n{"name": "f", "arguments": {...}}\\n</tool_call>`, several per turn.
- `Glm45ToolCallParser` (GLM-4.5/4.6):
  `<tool_call>f\\n<arg_key>k</arg_key>\\n<arg_value>v</arg_value>\\n</tool_call>`; the template writes
  string values raw and everything else as JSON, so the tool's parameter schema decides.
- `JsonToolCallParser` (prompted models): the whole content is one JSON object
  `{"name": ..., "arguments": {...}}` or `{"tool": ..., "parameters": ...}` (or a list of them),
  possibly in a ```json fence.

Why not `transformers.utils.chat_parsing.ResponseParser` (which does stream Qwen3 and GLM formats)?
It raises `ValueError` from `feed()`/`finalize()` on one malformed JSON call, losing the rest of the
turn, where we need to report the error and go on; it needs the rendered prompt and a per-model
response template; it is new and still changing between transformers releases; and it would make this
engine-side piece import transformers, which the mock backend and the tests do not otherwise need.
The formats are small enough to parse by hand in a few lines each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from autoglm_core.reasoning.think_parser import EdgeTrimmer, partial_tag_len

Schemas = Mapping[str, Mapping[str, Any]]
"""Tool name -> the tool's parameters JSON schema (`{"type": "object", "properties": {...}}`)."""


@dataclass(frozen=True)
class ParsedToolCall:
    """One complete tool call. `id` is unique within a generation: "call_0", "call_1", ..."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class ParseResult:
    """What one `feed()` or `finish()` produced."""

    content: str = ""
    calls: list[ParsedToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        """Append another result (used to collect a whole stream)."""
        self.content += other.content
        self.calls.extend(other.calls)
        self.errors.extend(other.errors)


class ToolCallParser(Protocol):
    """Streaming tool-call parser; one instance per generation."""

    def feed(self, text: str) -> ParseResult: ...

    def finish(self) -> ParseResult: ...


ToolCallParserFactory = Callable[[Schemas | None], ToolCallParser]


class ToolCallFormatError(ValueError):
    """A tool-call block whose text does not follow the format."""


def parse_text(parser: ToolCallParser, text: str) -> ParseResult:
    """Parse a complete output in one go (unary generation)."""
    result = parser.feed(text)
    result.extend(parser.finish())
    return result


class _TaggedToolCallParser:
    """Shared streaming logic for formats that wrap each call in `<tool_call>...</tool_call>`.

    Outside a block, text is content, except a possible partial opening tag at the end of the buffer
    (held back) and whitespace at the edges of the content (dropped). Inside a block, nothing is
    emitted until the closing tag; the block's body is then parsed by `_parse_block`. A block left
    open at the end of the stream (the model hit its token limit or forgot the tag) is parsed as
    well: it becomes a call if its body is complete, otherwise an error.
    """

    start_tag = "<tool_call>"
    end_tag = "</tool_call>"

    def __init__(self, schemas: Schemas | None = None) -> None:
        self._schemas: Schemas = schemas or {}
        self._buffer = ""
        self._in_call = False
        self._trimmer = EdgeTrimmer()
        self._next_id = 0

    def feed(self, text: str) -> ParseResult:
        self._buffer += text
        result = ParseResult()
        while self._step(result):
            pass
        if not self._in_call:
            keep = partial_tag_len(self._buffer, (self.start_tag,))
            result.content += self._trimmer.push(self._buffer[: len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep :]
        return result

    def finish(self) -> ParseResult:
        result = ParseResult()
        if self._in_call:
            self._close_block(result, self._buffer, terminated=False)
        else:
            result.content += self._trimmer.push(self._buffer)
        self._buffer = ""
        self._in_call = False
        return result

    def _step(self, result: ParseResult) -> bool:
        """Consume one complete tag from the buffer, if there is one; return whether it did."""
        tag = self.end_tag if self._in_call else self.start_tag
        index = self._buffer.find(tag)
        if index < 0:
            return False
        before, self._buffer = self._buffer[:index], self._buffer[index + len(tag) :]
        if self._in_call:
            self._close_block(result, before, terminated=True)
        else:
            # Whitespace around a call stays held by the trimmer: it is dropped if no content
            # follows, and kept as the separator when content resumes after the call.
            result.content += self._trimmer.push(before)
        self._in_call = not self._in_call
        return True

    def _close_block(self, result: ParseResult, body: str, terminated: bool) -> None:
        try:
            name, arguments = self._parse_block(body)
        except ToolCallFormatError as error:
            where = "" if terminated else " (unterminated)"
            result.errors.append(f"malformed tool call{where}: {error}: {body.strip()[:200]!r}")
            return
        result.calls.append(ParsedToolCall(f"call_{self._next_id}", name, arguments))
        self._next_id += 1

    def _parse_block(self, body: str) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError


class HermesToolCallParser(_TaggedToolCallParser):
    """Qwen/Hermes: a JSON object `{"name": ..., "arguments": {...}}` inside each block."""

    def _parse_block(self, body: str) -> tuple[str, dict[str, Any]]:
        try:
            obj = json.loads(body)
        except json.JSONDecodeError as error:
            raise ToolCallFormatError(f"invalid JSON ({error.msg})") from None
        return call_from_object(obj)


# Name line, then key/value pairs. Values are taken verbatim between the tags (no strip: a string
# argument may be code whose whitespace matters).
_GLM_PAIR = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.DOTALL)
_GLM_TAGS = re.compile(r"</?arg_(?:key|value)>")


class Glm45ToolCallParser(_TaggedToolCallParser):
    """GLM-4.5/4.6: the function name, then `<arg_key>`/`<arg_value>` pairs."""

    def _parse_block(self, body: str) -> tuple[str, dict[str, Any]]:
        head, _, _ = body.partition("<arg_key>")
        name = head.strip()
        if not name or any(ch.isspace() for ch in name):
            raise ToolCallFormatError("missing or invalid function name")
        pairs = _GLM_PAIR.findall(body, len(head))
        # Every tag must belong to a complete pair, and nothing but whitespace may sit between pairs.
        leftover = _GLM_PAIR.sub("", body[len(head) :])
        if _GLM_TAGS.search(leftover) or leftover.strip():
            raise ToolCallFormatError("unbalanced <arg_key>/<arg_value> tags")
        properties = _properties(self._schemas.get(name))
        return name, {key.strip(): _glm_value(value, properties.get(key.strip())) for key, value in pairs}


def _properties(schema: Mapping[str, Any] | None) -> Mapping[str, Any]:
    properties = (schema or {}).get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _schema_types(schema: Any) -> set[str]:
    """The JSON types a property schema allows (`type`, a list of types, or anyOf/oneOf branches)."""
    if not isinstance(schema, Mapping):
        return set()
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else {t for t in declared or () if isinstance(t, str)}
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key) or ():
            types |= _schema_types(branch)
    return types


def _glm_value(raw: str, schema: Any) -> Any:
    """String-typed parameters keep the raw text; other types are JSON, as GLM's template writes them.

    With no schema for the parameter, JSON is tried and the raw text kept when it is not JSON
    (so "Beijing" stays a string but "3" becomes 3). A value that claims a non-string type but is not
    JSON also stays raw text: argument validation against the schema reports it, not the parser.
    """
    types = _schema_types(schema)
    if "string" in types:
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


_NAME_KEYS = ("name", "tool", "function", "tool_name")
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")


def call_from_object(obj: Any) -> tuple[str, dict[str, Any]]:
    """(name, arguments) from a decoded call object; accepts the common key spellings and the
    OpenAI shape `{"function": {"name": ..., "arguments": "<json>"}}`."""
    if not isinstance(obj, dict):
        raise ToolCallFormatError("a tool call must be a JSON object")
    if isinstance(obj.get("function"), dict):
        return call_from_object(obj["function"])
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), "")
    if not name.strip():
        raise ToolCallFormatError("missing function name")
    raw = next((obj[k] for k in _ARGUMENT_KEYS if k in obj), None)
    return name.strip(), _arguments(raw)


def _arguments(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, str):  # some models serialise the arguments object a second time
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            raise ToolCallFormatError("arguments are a string that is not a JSON object") from None
    if not isinstance(raw, dict):
        raise ToolCallFormatError("arguments must be a JSON object")
    return raw


_FENCE = re.compile(r"^```[ \t]*(?:json)?[ \t]*\n(.*?)\n?```$", re.DOTALL | re.IGNORECASE)
# Text that was meant as a call even though it does not decode (so it is an error, not content).
_LOOKS_LIKE_CALL = re.compile(r'"(?:name|tool|function)"\s*:')


class JsonToolCallParser:
    """The whole content is one call object or a list of them, optionally in a ```json fence.

    Until the first non-blank characters show otherwise, the content may be a call, so it is held
    back: text starting with `{`, `[` or a json (or unlabelled) fence is held to the end of the
    stream and decided there; anything else is streamed as content at once.
    """

    def __init__(self, schemas: Schemas | None = None) -> None:
        self._schemas: Schemas = schemas or {}  # unused: JSON carries its own types
        self._buffer = ""
        self._mode: str | None = None  # None: undecided, "content", or "candidate"
        self._trimmer = EdgeTrimmer()

    def feed(self, text: str) -> ParseResult:
        if self._mode == "content":
            return ParseResult(content=self._trimmer.push(text))
        self._buffer += text
        if self._mode is None:
            self._mode = _json_mode(self._buffer.lstrip())
        if self._mode == "content":
            held, self._buffer = self._buffer, ""
            return ParseResult(content=self._trimmer.push(held))
        return ParseResult()

    def finish(self) -> ParseResult:
        text, self._buffer = self._buffer.strip(), ""
        if self._mode == "content" or not text:
            return ParseResult()  # content was streamed already; only trailing whitespace was held
        fenced = _FENCE.match(text)
        try:
            decoded = json.loads(fenced.group(1) if fenced else text)
        except json.JSONDecodeError as error:
            if _LOOKS_LIKE_CALL.search(text):
                message = f"malformed tool call: invalid JSON ({error.msg}): {text[:200]!r}"
                return ParseResult(errors=[message])
            return ParseResult(content=self._trimmer.push(text))
        return self._calls(decoded, text)

    def _calls(self, decoded: Any, text: str) -> ParseResult:
        objects = decoded if isinstance(decoded, list) else [decoded]
        if not objects or not all(isinstance(o, dict) and _has_name(o) for o in objects):
            return ParseResult(content=self._trimmer.push(text))  # JSON, but an answer, not a call
        result = ParseResult()
        for obj in objects:
            try:
                name, arguments = call_from_object(obj)
            except ToolCallFormatError as error:
                result.errors.append(f"malformed tool call: {error}: {json.dumps(obj)[:200]!r}")
                continue
            result.calls.append(ParsedToolCall(f"call_{len(result.calls)}", name, arguments))
        return result


def _has_name(obj: dict[str, Any]) -> bool:
    return any(k in obj for k in _NAME_KEYS)


def _json_mode(text: str) -> str | None:
    """Decide from the start of the (left-stripped) content whether it may be a JSON call."""
    if not text:
        return None
    if text[0] in "{[":
        return "candidate"
    if not text.startswith("```"):
        return None if "```".startswith(text) else "content"
    first_line, newline, _ = text.partition("\n")
    if not newline:
        return None  # the fence's language tag is not complete yet
    return "candidate" if first_line[3:].strip().lower() in ("", "json") else "content"


def parser_for_model(model_type_or_template: str) -> ToolCallParserFactory:
    """Choose a parser class from a model type, model name, parser name or chat template text.

    GLM is checked first because GLM templates also contain `<tool_call>`; Hermes is the default
    (Qwen2.5/Qwen3 and most fine-tunes use it).
    """
    key = model_type_or_template.lower()
    if "glm" in key or "<arg_key>" in key:
        return Glm45ToolCallParser
    if key in ("json", "prompted") or key.startswith("json"):
        return JsonToolCallParser
    return HermesToolCallParser


def call_opening(parser: ToolCallParser, name: str | None) -> str:
    """The text that opens a call in the parser's format: of the named tool, or of any tool (the
    model writes the name) when name is None. A forced tool choice pre-fills the model's turn with
    it, so the model can only go on writing that call."""
    if isinstance(parser, Glm45ToolCallParser):
        return "<tool_call>" + (f"{name}\n" if name else "")
    head = '{"name": ' + (json.dumps(name, ensure_ascii=False) + ', "arguments": ' if name else '"')
    if isinstance(parser, JsonToolCallParser):
        return head
    return "<tool_call>\n" + head
