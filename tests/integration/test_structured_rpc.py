"""response_format over gRPC against a live mock server: bad formats get INVALID_ARGUMENT with field
paths (or RESOURCE_EXHAUSTED), and the result says whether the answer is a complete document.

The mock backend's "model" writes a script and its runner honours the constraint as a sampler would:
a scripted token the format does not allow is skipped, and when the script has nothing allowed left
the runner takes EOS if allowed, else the lowest allowed token. So the tests choose the text and check
both that the output is held to the format and that the server judges it honestly.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pydantic
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from autoglm.v1 import common_pb2, generation_pb2
from autoglm_client import build_response_format
from autoglm_core.backends.base import BackendRequest
from autoglm_core.backends.mock import MockBehaviour
from autoglm_core.runtime.constraint import TokenConstraint
from autoglm_core.structured.constraint import GrammarConstraint
from autoglm_core.structured.tools import ToolCallConstraint
from tests.conftest import RunningServer, start_mock_server

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "rich status details are missing"
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


BAD_FORMATS: list[tuple[Any, str, str]] = [
    ({"type": "json_schema", "json_schema": {"schema": '{"type": '}}, "json_schema.schema", "not valid JSON"),
    (
        {"type": "json_schema", "json_schema": {"schema": "[1]"}},
        "json_schema.schema",
        "must be a JSON object",
    ),
    ({"type": "strng"}, "json_schema.schema", "Invalid type: strng"),
    ({"type": "string", "format": "zip-code"}, "json_schema.schema", "Unknown format: zip-code"),
    ({"type": "object", "dependentSchemas": {"a": {}}}, "json_schema.schema", "Unimplemented keys"),
    ({"type": "array", "minItems": 3, "maxItems": 1}, "json_schema.schema", "minItems"),
    ({"$ref": "#/$defs/nowhere"}, "json_schema.schema", "does not exist"),
    ({"type": "regex", "pattern": "(a"}, "regex.pattern", "unclosed group"),
    ({"type": "regex", "pattern": "[^\\s\\S]"}, "regex.pattern", "no output can match"),
    ({"type": "regex", "pattern": ""}, "regex.pattern", "must not be empty"),
    ({"type": "choice", "choices": []}, "choice.choices", "at least one"),
    ({"type": "choice", "choices": ["a", ""]}, "choice.choices[1]", "must not be empty"),
    ({"type": "grammar", "grammar": "start: missing_rule"}, "grammar.text", "unknown name"),
    ({"type": "grammar", "grammar": 'start: "a" |) b'}, "grammar.text", ""),
    ({"type": "grammar", "grammar": "root ::= [", "syntax": "gbnf"}, "grammar.text", ""),
]


@pytest.mark.parametrize(("given", "field", "reason"), BAD_FORMATS)
async def test_bad_formats_are_invalid_argument_with_the_field_path(
    mock_server: RunningServer, given: Any, field: str, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("hi", max_new_tokens=4, response_format=given)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = _violations(caught.value)
    assert list(violations) == [f"input.response_format.{field}"]
    assert reason in violations[f"input.response_format.{field}"]


async def test_bad_format_in_a_stream_too(mock_server: RunningServer) -> None:
    call = mock_server.client.stream("hi", response_format={"type": "regex", "pattern": "(a"})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        [e async for e in call]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.response_format.regex.pattern" in _violations(caught.value)


async def test_a_format_too_large_is_resource_exhausted(mock_server: RunningServer) -> None:
    huge = {"type": "object", "properties": {f"field_{i}": {"type": "string"} for i in range(3000)}}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("hi", response_format=huge)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "the limit is" in (caught.value.details() or "")
    # The server stays healthy and serves the next request.
    assert (await mock_server.client.generate("hi", max_new_tokens=4)).text


async def _scripted(*script: str) -> RunningServer:
    # A script answers the same request differently each time: no response cache in front of it.
    return await start_mock_server(MockBehaviour(script=list(script)), response_cache=False)


async def test_the_result_says_whether_the_answer_is_a_whole_document() -> None:
    running = await _scripted('{"name": "Ada", "age": 36}', '{"name": "Ada", "ag', "hello")
    try:
        whole = await running.client.generate("x", response_format=PERSON, max_new_tokens=200)
        assert json.loads(whole.text) == {"name": "Ada", "age": 36}
        assert whole.finish_reason == common_pb2.FINISH_REASON_EOS and not whole.incomplete
        # The script ends mid-document: the constraint keeps the output a prefix of a valid document,
        # which runs into max_new_tokens.
        cut = await running.client.generate("x", response_format=PERSON, max_new_tokens=200)
        assert cut.text.startswith('{"name": "Ada", "age')
        assert cut.finish_reason == common_pb2.FINISH_REASON_LENGTH and cut.incomplete
        # Prose is not a document: nothing of it is allowed, the output still starts one.
        events = [e async for e in running.client.stream("x", response_format=PERSON, max_new_tokens=200)]
        text = "".join(e.content_delta.text for e in events if e.HasField("content_delta"))
        assert text.startswith('{"name": "') and events[-1].finished.incomplete
        # Without a response_format nothing is constrained or judged.
        free = await running.client.generate("x", max_new_tokens=200)
        assert free.text == '{"name": "Ada", "age": 36}' and not free.incomplete
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_a_document_cut_by_max_new_tokens_is_length_and_incomplete() -> None:
    running = await _scripted('{"name": "Ada", "age": 36}')
    try:
        reply = await running.client.generate("x", response_format={"type": "json_object"}, max_new_tokens=5)
        assert reply.finish_reason == common_pb2.FINISH_REASON_LENGTH and reply.incomplete
        assert reply.text == '{"nam'
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_choice_regex_and_grammar_hold_the_output_to_the_format() -> None:
    running = await _scripted("perhaps maybe", "call 555-1234 now", "abb")
    try:
        choice = {"type": "choice", "choices": ["yes", "no", "maybe"]}
        picked = await running.client.generate("x", response_format=choice)
        assert picked.text == "maybe" and not picked.incomplete
        regex = {"type": "regex", "pattern": "[0-9]{3}-[0-9]{4}"}
        number = await running.client.generate("x", response_format=regex)
        assert number.text == "555-1234" and not number.incomplete
        # "abb" is one b too many: the grammar ends the answer after "ab".
        grammar = {"type": "grammar", "grammar": 'start: "a" "b"'}
        short = await running.client.generate("x", response_format=grammar)
        assert short.text == "ab" and short.finish_reason == common_pb2.FINISH_REASON_EOS
        assert not short.incomplete
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)


async def test_native_tool_calls_and_a_response_format_do_not_mix(mock_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mock_server.client.generate("x", allowed_tools=["get_time"], response_format=PERSON)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input.response_format" in _violations(caught.value)


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_the_client_takes_dicts_pydantic_models_and_messages() -> None:
    from_model = build_response_format(Person)
    assert json.loads(from_model.json_schema.schema)["required"] == ["name", "age"]
    assert from_model.json_schema.strict
    lenient = build_response_format(
        {"type": "json_schema", "json_schema": {"schema": PERSON, "strict": False}}
    )
    assert json.loads(lenient.json_schema.schema) == PERSON and not lenient.json_schema.strict
    assert build_response_format({"type": "json_object"}).HasField("json_object")
    grammar = build_response_format({"type": "grammar", "grammar": "root ::= [a]", "syntax": "gbnf"})
    assert grammar.grammar.syntax == generation_pb2.GRAMMAR_SYNTAX_GBNF
    message = generation_pb2.ResponseFormat(regex=generation_pb2.RegexFormat(pattern="a"))
    assert build_response_format(message) is message
    with pytest.raises(TypeError):
        build_response_format("a string")  # type: ignore[arg-type]


async def test_the_backend_gets_each_request_its_constraint() -> None:
    """What the runtime's sampler will apply: the format's grammar, or the tools' call blocks."""
    running = await _scripted('{"name": "Ada", "age": 36}', "free text", "no call")
    seen: list[Any] = []
    original = running.backend.reply_text

    def reply(request: BackendRequest) -> str:
        seen.append(request.constraint)
        return original(request)

    running.backend.reply_text = reply  # type: ignore[method-assign]
    try:
        await running.client.generate("x", response_format=PERSON)
        await running.client.generate("x")
        await running.client.generate("x", allowed_tools=["get_time"])
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
    schema, free, tools = seen
    assert isinstance(schema, GrammarConstraint) and isinstance(schema, TokenConstraint)
    assert free is None
    assert isinstance(tools, ToolCallConstraint) and isinstance(tools, TokenConstraint)


async def test_thinking_then_json_and_the_budget_still_holds() -> None:
    """The mock's template opens <think>: the reasoning is free, the document after it is judged;
    a budget cut closes the reasoning and the next turn's answer is the document."""
    reasoning = 'I should answer {"name": ...} with the age.'
    running = await _scripted(
        f"\n{reasoning}\n</think>\n\n" + '{"name": "Ada", "age": 36}',
        "thinking on and on and on and on and on",
        '{"name": "Bo", "age": 7}',
    )
    # Whether each turn's constraint applied from its first token (the runner then drives it on).
    active_at_start: list[bool] = []
    original = running.backend.reply_text

    def reply(request: BackendRequest) -> str:
        assert isinstance(request.constraint, GrammarConstraint)
        active_at_start.append(request.constraint.active)
        return original(request)

    running.backend.reply_text = reply  # type: ignore[method-assign]
    try:
        first = await running.client.generate("x", thinking=True, response_format=PERSON, max_new_tokens=300)
        assert first.reasoning == reasoning
        assert json.loads(first.text) == {"name": "Ada", "age": 36} and not first.incomplete
        budgeted = await running.client.generate(
            "x", thinking=True, thinking_budget=8, response_format=PERSON, max_new_tokens=300
        )
        assert budgeted.usage.reasoning_tokens <= 9
        assert json.loads(budgeted.text) == {"name": "Bo", "age": 7} and not budgeted.incomplete
    finally:
        await running.client.close()
        await running.server.stop(grace_s=0)
    # Each turn's constraint: the reasoning left free while it lasts, the answer turn constrained at once.
    assert active_at_start == [False, False, True]
