"""`autoglm tools`: ToolService. HTTP tools are registered from a JSON or YAML file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from autoglm.v1 import tool_pb2
from autoglm_client import messages
from autoglm_client.cli.common import InvalidInput, connect
from autoglm_client.cli.output import Column, print_fields, print_table, show

TOOL_COLUMNS: list[Column] = [
    ("NAME", lambda t: t.name),
    ("KIND", lambda t: tool_pb2.ToolKind.Name(t.kind).removeprefix("TOOL_KIND_").lower()),
    ("DESCRIPTION", lambda t: t.description.splitlines()[0][:60] if t.description else ""),
]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    tools = commands.add_parser("tools", help="register, list, get, delete and invoke tools")
    actions = tools.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser(
        "register",
        parents=[common],
        help="register an HTTP tool from a file",
        description="FILE (JSON, or YAML with PyYAML installed; - = stdin) holds name, description, "
        "parameters (a JSON Schema) and http: {method: GET|POST, url_template, secret_headers, timeout_ms}.",
    )
    add.add_argument("file")
    add.set_defaults(run=_register)

    listing = actions.add_parser("list", parents=[common], help="list tools")
    listing.set_defaults(run=_list)

    get = actions.add_parser("get", parents=[common], help="show a tool")
    get.add_argument("name")
    get.set_defaults(run=_get)

    delete = actions.add_parser("delete", parents=[common], help="delete an HTTP tool")
    delete.add_argument("name")
    delete.set_defaults(run=_delete)

    invoke = actions.add_parser("invoke", parents=[common], help="run a tool as the model would")
    invoke.add_argument("name")
    invoke.add_argument("arguments", nargs="?", default="{}", help="the arguments as a JSON object")
    invoke.set_defaults(run=_invoke)


def read_tool_file(name: str) -> dict[str, Any]:
    """The tool's JSON form from a file (or stdin); InvalidInput says what is wrong and where."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"{name}: {error.strerror}") from None
    try:
        data = json.loads(text) if name.endswith(".json") or text.lstrip().startswith("{") else _yaml(text)
    except ValueError as error:
        raise InvalidInput(f"{name}: not valid JSON or YAML: {error}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{name}: expected an object with name, description, parameters and http")
    return data


def _yaml(text: str) -> Any:
    try:
        import yaml  # optional: pip install 'openautoglm-client[yaml]'
    except ImportError:
        raise InvalidInput("YAML tool files need PyYAML: pip install 'openautoglm-client[yaml]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(" ".join(str(error).split())) from None


def _register(args: argparse.Namespace) -> None:
    data = read_tool_file(args.file)
    try:
        tool = messages.tool(data)
    except (json_format.ParseError, TypeError) as error:
        raise InvalidInput(f"{args.file}: {error}") from None
    registered = connect(args).register_tool(tool)
    show(args.output, registered, lambda: print(f"registered tool {registered.name}"))


def _list(args: argparse.Namespace) -> None:
    found = connect(args).list_tools()
    show(args.output, found, lambda: print_table(found, TOOL_COLUMNS))


def _get(args: argparse.Namespace) -> None:
    tool = connect(args).get_tool(args.name)
    pairs: list[tuple[str, object]] = [
        ("name", tool.name),
        ("kind", TOOL_COLUMNS[1][1](tool)),
        ("description", tool.description),
        ("parameters", tool.parameters_json_schema),
    ]
    if tool.HasField("http"):
        pairs.append(("method", tool_pb2.HttpMethod.Name(tool.http.method).removeprefix("HTTP_METHOD_")))
        pairs.append(("url", tool.http.url_template))
    show(args.output, tool, lambda: print_fields(pairs))


def _delete(args: argparse.Namespace) -> None:
    connect(args).delete_tool(args.name)
    show(args.output, {}, lambda: print(f"deleted tool {args.name}"))


def _invoke(args: argparse.Namespace) -> None:
    try:
        json.loads(args.arguments)
    except ValueError as error:
        raise InvalidInput(f"arguments: not valid JSON: {error}") from None
    result = connect(args).invoke_tool(args.name, args.arguments)
    if result.error:
        show(args.output, result, lambda: print(f"error: {result.error}"))
        return
    show(args.output, result, lambda: print(result.result_json))
