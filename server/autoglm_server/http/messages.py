"""OpenAI chat messages -> the engine's chat messages (the shape Hugging Face chat templates take).

Text only: content is a string or a list of text parts (joined). An assistant message's
`tool_calls` carry their arguments as a JSON string, which templates want as an object; a tool
message gets the name of the call it answers, which some templates print.
"""

from __future__ import annotations

import json
from typing import Any

from autoglm_core.errors import InvalidArgument

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
_TEXT_PARTS = ("text", "input_text", "output_text")


def content_text(content: Any, field: str) -> str:
    """A message's content as text: a string, None, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidArgument.one(field, "must be a string or a list of text parts")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS:
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise InvalidArgument.one(f"{field}[{j}]", f"only text parts are supported, not {kind!r}")
        texts.append(str(part.get("text") or ""))
    return "".join(texts)


def parse_arguments(raw: Any, field: str) -> dict[str, Any]:
    """A call's arguments: a JSON object, or a string holding one."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, json.JSONDecodeError):
        raise InvalidArgument.one(field, "must be a JSON object (as a string)") from None
    if not isinstance(value, dict):
        raise InvalidArgument.one(field, "must be a JSON object (as a string)")
    return value


def _tool_calls(calls: Any, field: str) -> list[dict[str, Any]]:
    if not isinstance(calls, list):
        raise InvalidArgument.one(field, "must be a list")
    out = []
    for k, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            raise InvalidArgument.one(f"{field}[{k}].function", "must have a name")
        arguments = parse_arguments(function.get("arguments"), f"{field}[{k}].function.arguments")
        call_id = str(call.get("id") or f"call_{k}")
        out.append(
            {
                "id": call_id,
                "type": "function",
                "function": {"name": function["name"], "arguments": arguments},
            }
        )
    return out


def chat_messages(raw: list[Any], field: str = "messages") -> list[dict[str, Any]]:
    """Engine messages for the request's `messages`; field paths in errors are OpenAI's."""
    if not raw:
        raise InvalidArgument.one(field, "must hold at least one message")
    names: dict[str, str] = {}  # tool call id -> function name, for the tool messages that answer
    messages = []
    for i, given in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(given, dict) or given.get("role") not in _ROLES:
            raise InvalidArgument.one(f"{where}.role", f"must be one of {', '.join(_ROLES)}")
        role = _ROLES[given["role"]]
        message: dict[str, Any] = {
            "role": role,
            "content": content_text(given.get("content"), f"{where}.content"),
        }
        if role == "assistant" and given.get("tool_calls"):
            message["tool_calls"] = _tool_calls(given["tool_calls"], f"{where}.tool_calls")
            names.update({c["id"]: c["function"]["name"] for c in message["tool_calls"]})
        if role == "tool":
            call_id = given.get("tool_call_id")
            if not call_id:
                raise InvalidArgument.one(f"{where}.tool_call_id", "must name the call this answers")
            message["tool_call_id"] = str(call_id)
            message["name"] = str(given.get("name") or names.get(str(call_id), ""))
        elif given.get("name"):
            message["name"] = str(given["name"])
        messages.append(message)
    return messages


def function_tools(tools: list[Any] | None, field: str = "tools") -> list[dict[str, Any]]:
    """Chat-completions tools (`{"type": "function", "function": {...}}`), checked."""
    out = []
    for i, tool in enumerate(tools or []):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if (
            not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not function["name"]
        ):
            raise InvalidArgument.one(
                f"{field}[{i}]", "must be {'type': 'function', 'function': {'name': ...}}"
            )
        out.append({"type": "function", "function": function})
    return out


def tool_choice(choice: Any, field: str = "tool_choice") -> str:
    """The engine's tool_choice: auto, none, required, or a tool's name."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise InvalidArgument.one(field, "must be auto, none, required or a named function")
        return choice
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if isinstance(name, str) and name:
            return name
    raise InvalidArgument.one(
        field, "must be auto, none, required or {'type': 'function', 'function': {'name': ...}}"
    )
