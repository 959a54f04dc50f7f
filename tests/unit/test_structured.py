"""Response formats: compiling, bad input, limits, the cache and the per-request constraint.

The vocabulary is the mock backend's (one token per byte), so a document is walked byte by byte and
every mask can be checked exactly.
"""

from __future__ import annotations

import asyncio
import json

import llguidance
import pytest
import torch

from autoglm_core.backends.mock import EOS_ID, VOCAB_SIZE, ByteTokenizer
from autoglm_core.errors import InvalidArgument, ResourceExhausted
from autoglm_core.runtime.constraint import TokenConstraint
from autoglm_core.structured import FormatKind, GrammarCompiler, GrammarSyntax, ResponseFormat
from autoglm_core.structured.compiler import CompiledFormat
from autoglm_core.structured.constraint import GrammarConstraint
from autoglm_core.structured.turns import document_complete, reasoning_mode

TOKENIZER = ByteTokenizer()
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def compile_now(
    fmt: ResponseFormat, compiler: GrammarCompiler | None = None, *, reasoning: bool = False
) -> CompiledFormat:
    return asyncio.run((compiler or GrammarCompiler()).compile(fmt, TOKENIZER, [EOS_ID], reasoning=reasoning))


def allowed(constraint: TokenConstraint, size: int = VOCAB_SIZE) -> set[int]:
    logits = torch.zeros(size)
    constraint.mask_logits(logits)
    return set(torch.nonzero(logits == 0).flatten().tolist())


def walk(constraint: GrammarConstraint, text: str) -> None:
    """Feeds text as a sampler would, checking that each token was allowed by the mask."""
    for token in TOKENIZER.encode(text):
        assert token in allowed(constraint), f"{chr(token - 3)!r} masked in {text!r}"
        constraint.accept(token)


@pytest.mark.parametrize(
    ("fmt", "document"),
    [
        (ResponseFormat(FormatKind.JSON_OBJECT), '{"a": [1, {"b": null}], "c": "模型"}'),
        (ResponseFormat.json_schema(PERSON), '{"name": "Ada 🙂", "age": 36}'),
        (ResponseFormat(FormatKind.REGEX, pattern=r"[0-9]{3}-[a-z]+"), "123-abc"),
        (ResponseFormat(FormatKind.CHOICE, choices=("yes", "no", "maybe")), "maybe"),
        (ResponseFormat(FormatKind.GRAMMAR, grammar='start: "a" b+\nb: "b"'), "abbb"),
        (ResponseFormat(FormatKind.GRAMMAR, grammar='root ::= "x" [0-9]+', syntax=GrammarSyntax.GBNF), "x42"),
    ],
)
def test_each_kind_allows_its_documents_and_ends_there(fmt: ResponseFormat, document: str) -> None:
    constraint = compile_now(fmt).constraint()
    assert isinstance(constraint, TokenConstraint)
    walk(constraint, document)
    assert constraint.is_complete()
    if fmt.kind not in (FormatKind.REGEX, FormatKind.GRAMMAR):  # [a-z]+ and b+ may go on
        assert constraint.is_finished() and allowed(constraint) == {EOS_ID}


def test_the_mask_forbids_what_breaks_the_document() -> None:
    constraint = compile_now(ResponseFormat.json_schema(PERSON)).constraint()
    walk(constraint, '{"name": "x", "age": ')
    digits = {ord(c) + 3 for c in "0123456789"}
    assert allowed(constraint) == digits  # no sign: minimum 0; no quote, brace or EOS
    walk(constraint, "15")
    assert ord("}") + 3 in allowed(constraint) and ord("9") + 3 not in allowed(constraint)  # <= 150
    assert not constraint.is_complete()


def test_logits_past_the_vocabulary_are_never_allowed() -> None:
    constraint = compile_now(ResponseFormat(FormatKind.CHOICE, choices=("a",))).constraint()
    logits = torch.zeros(VOCAB_SIZE + 64)  # models often pad the output layer
    constraint.mask_logits(logits)
    assert torch.isinf(logits[VOCAB_SIZE:]).all()


@pytest.mark.parametrize(
    ("fmt", "field", "reason"),
    [
        (ResponseFormat.json_schema({"type": "strin"}), "json_schema.schema", "Invalid type: strin"),
        (
            ResponseFormat.json_schema({"type": "string", "format": "zip"}),
            "json_schema.schema",
            "Unknown format",
        ),
        (
            ResponseFormat.json_schema({"type": "object", "dependentSchemas": {"a": {}}}),
            "json_schema.schema",
            "Unimplemented keys",
        ),
        (
            ResponseFormat.json_schema({"type": "integer", "minimum": 5, "maximum": 1}),
            "json_schema.schema",
            "Unsatisfiable",
        ),
        (ResponseFormat.json_schema({"$ref": "#/$defs/missing"}), "json_schema.schema", "does not exist"),
        (ResponseFormat(FormatKind.REGEX, pattern="a(b"), "regex.pattern", "unclosed group"),
        (ResponseFormat(FormatKind.REGEX, pattern=r"[^\s\S]"), "regex.pattern", "no output can match"),
        (ResponseFormat(FormatKind.REGEX, pattern=""), "regex.pattern", "must not be empty"),
        (ResponseFormat(FormatKind.GRAMMAR, grammar="start: foo"), "grammar.text", 'unknown name: "foo"'),
        (ResponseFormat(FormatKind.GRAMMAR, grammar=" "), "grammar.text", "must not be empty"),
        (
            ResponseFormat(FormatKind.GRAMMAR, grammar="root ::= (", syntax=GrammarSyntax.GBNF),
            "grammar.text",
            "",
        ),
        (ResponseFormat(FormatKind.CHOICE, choices=()), "choice.choices", "at least one"),
        (ResponseFormat(FormatKind.CHOICE, choices=("a", "")), "choice.choices[1]", "must not be empty"),
        (ResponseFormat(FormatKind.CHOICE, choices=("a", "a")), "choice.choices", "repeat"),
    ],
)
def test_bad_formats_name_the_field_and_the_library_reason(
    fmt: ResponseFormat, field: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        compile_now(fmt)
    [violation] = caught.value.violations
    assert violation.field == field
    assert reason in violation.description


def test_a_schema_that_is_not_json_is_invalid() -> None:
    with pytest.raises(InvalidArgument) as caught:
        ResponseFormat.json_schema('{"type": ')
    assert caught.value.violations[0].field == "json_schema.schema"
    with pytest.raises(InvalidArgument):
        ResponseFormat.json_schema("[1, 2]")


def test_strict_off_ignores_keywords_the_library_cannot_enforce() -> None:
    schema = {"type": "string", "format": "zip"}
    constraint = compile_now(ResponseFormat.json_schema(schema, strict=False)).constraint()
    walk(constraint, '"12345"')
    assert constraint.is_complete()


def test_too_large_or_too_slow_is_resource_exhausted_never_a_hang() -> None:
    wide = {
        "type": "object",
        "properties": {f"f{i}": {"type": "string", "pattern": f"[a-z]{{1,{i + 1}}}"} for i in range(200)},
    }
    with pytest.raises(ResourceExhausted, match="limit is 100"):
        compile_now(ResponseFormat.json_schema(wide), GrammarCompiler(max_chars=100))
    small_limits = llguidance.LLParserLimits(max_grammar_size=1000)
    with pytest.raises(ResourceExhausted, match="too big"):
        compile_now(ResponseFormat.json_schema(wide), GrammarCompiler(limits=small_limits))
    with pytest.raises(ResourceExhausted, match="did not compile within"):
        compile_now(ResponseFormat.json_schema(wide), GrammarCompiler(timeout_s=0))


def test_a_format_compiles_once_per_tokenizer_in_a_bounded_cache() -> None:
    compiler = GrammarCompiler(max_entries=2)
    first = compile_now(ResponseFormat.json_schema(PERSON), compiler)
    # The same schema sent as JSON text with other spacing is the same format.
    assert compile_now(ResponseFormat.json_schema(json.dumps(PERSON, indent=2)), compiler) is first
    assert compiler.compiled == 1
    compile_now(ResponseFormat(FormatKind.REGEX, pattern="a+"), compiler)
    compile_now(ResponseFormat(FormatKind.REGEX, pattern="b+"), compiler)  # evicts the schema
    assert compile_now(ResponseFormat.json_schema(PERSON), compiler) is not first
    assert compiler.compiled == 4
    # Another tokenizer object compiles its own.
    other = asyncio.run(
        compiler.compile(ResponseFormat(FormatKind.REGEX, pattern="b+"), ByteTokenizer(), [EOS_ID])
    )
    assert compiler.compiled == 5 and other.constraint() is not None


def test_each_request_gets_its_own_state() -> None:
    compiled = compile_now(ResponseFormat(FormatKind.CHOICE, choices=("left", "right")))
    one, two = compiled.constraint(), compiled.constraint()
    walk(one, "left")
    assert one.is_complete() and not two.is_complete()
    walk(two, "right")
    assert two.is_complete()


def test_open_reasoning_passes_through_until_the_closing_tag() -> None:
    constraint = compile_now(ResponseFormat.json_schema(PERSON)).constraint("open")
    reasoning = 'Maybe {"name": 1} </thin k> fine.</think>'
    for token in TOKENIZER.encode(reasoning):  # the tag itself arrives byte by byte
        assert allowed(constraint) == set(range(VOCAB_SIZE))
        constraint.accept(token)
    assert constraint.active
    assert allowed(constraint) == {ord("{") + 3}  # the document starts at once, no blank line
    walk(constraint, '{"name": "A", "age": 3}')
    assert constraint.is_complete()


def test_reasoning_that_never_closes_is_not_a_document() -> None:
    constraint = compile_now(ResponseFormat(FormatKind.JSON_OBJECT)).constraint("open")
    for token in TOKENIZER.encode('{"a": 1}'):
        constraint.accept(token)
    assert not constraint.active and not constraint.is_complete() and not constraint.is_finished()


def test_optional_reasoning_may_come_first_or_not_at_all() -> None:
    compiled = compile_now(ResponseFormat(FormatKind.CHOICE, choices=("yes", "no")), reasoning=True)
    thinking = compiled.constraint("optional")
    walk(thinking, "<think>\nIt is no, or yes?\n</think>\n\nyes")
    assert thinking.is_complete()
    direct = compiled.constraint("optional")
    walk(direct, "no")
    assert direct.is_complete()
    # The reasoning variant is compiled only when asked for (it costs several times the plain one).
    with pytest.raises(ValueError):
        compile_now(ResponseFormat(FormatKind.CHOICE, choices=("yes", "no"))).constraint("optional")


def test_the_reasoning_mode_of_a_turn() -> None:
    assert reasoning_mode(starts_in_reasoning=True, thinking=True, reasoned_before=False) == "open"
    assert reasoning_mode(starts_in_reasoning=False, thinking=True, reasoned_before=False) == "optional"
    # After the engine closed reasoning at its budget, the next turn is the answer.
    assert reasoning_mode(starts_in_reasoning=False, thinking=True, reasoned_before=True) == "none"
    assert reasoning_mode(starts_in_reasoning=False, thinking=False, reasoned_before=False) == "none"


def test_document_complete_replays_a_turn() -> None:
    compiled = compile_now(ResponseFormat.json_schema(PERSON))
    assert document_complete(compiled, "none", TOKENIZER.encode('{"name": "A", "age": 3}'))
    assert not document_complete(compiled, "none", TOKENIZER.encode('{"name": "A", "ag'))
    assert not document_complete(compiled, "none", TOKENIZER.encode("alpha beta"))
    assert document_complete(compiled, "open", TOKENIZER.encode('x</think> {"name": "", "age": 0}'))
