"""`autoglm mcp`: MCP servers of ToolService (their tools show in `autoglm tools list` as server.tool)."""

from __future__ import annotations

import argparse

from autoglm.v1 import tool_pb2
from autoglm_client import messages
from autoglm_client.cli.common import InvalidInput, connect
from autoglm_client.cli.output import Column, print_fields, print_table, show


def _state(server: tool_pb2.McpServer) -> str:
    return tool_pb2.McpServerState.Name(server.state).removeprefix("MCP_SERVER_STATE_").lower()


def _where(server: tool_pb2.McpServer) -> str:
    if server.HasField("http"):
        return server.http.url
    return " ".join([server.stdio.command, *server.stdio.args])


SERVER_COLUMNS: list[Column] = [
    ("NAME", lambda s: s.name),
    ("STATE", _state),
    ("TOOLS", lambda s: len(s.tool_names)),
    ("ENDPOINT", lambda s: _where(s)[:60]),
]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    mcp = commands.add_parser("mcp", help="register, list, get and delete MCP servers")
    actions = mcp.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser(
        "register",
        parents=[common],
        help="register an MCP server (admin)",
        description="Streamable HTTP (--url, with --header NAME=SECRET) or stdio (--command on the "
        "server's allowlist, with --arg and --env VAR=SECRET); SECRET names a server-side secret.",
    )
    add.add_argument("name")
    transport = add.add_mutually_exclusive_group(required=True)
    transport.add_argument("--url", help="the server's streamable HTTP endpoint")
    transport.add_argument("--command", help="the executable of a stdio server")
    add.add_argument(
        "--arg",
        action="append",
        default=[],
        help="an argument of --command (repeatable; --arg=-x for one that starts with '-')",
    )
    add.add_argument("--header", action="append", default=[], metavar="NAME=SECRET")
    add.add_argument("--env", action="append", default=[], metavar="VAR=SECRET")
    add.add_argument("--timeout-ms", type=int, help="timeout of one tool call")
    add.set_defaults(run=_register)

    listing = actions.add_parser("list", parents=[common], help="list MCP servers")
    listing.set_defaults(run=_list)

    get = actions.add_parser("get", parents=[common], help="show an MCP server")
    get.add_argument("name")
    get.set_defaults(run=_get)

    delete = actions.add_parser("delete", parents=[common], help="remove an MCP server and its tools (admin)")
    delete.add_argument("name")
    delete.set_defaults(run=_delete)


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise InvalidInput(f"{flag} {item!r}: expected NAME=SECRET")
        pairs[key] = value
    return pairs


def _register(args: argparse.Namespace) -> None:
    if args.url is not None:
        server = messages.mcp_http_server(
            args.name, args.url, secret_headers=_pairs(args.header, "--header"), timeout_ms=args.timeout_ms
        )
    else:
        server = messages.mcp_stdio_server(
            args.name,
            args.command,
            args.arg,
            secret_env=_pairs(args.env, "--env"),
            timeout_ms=args.timeout_ms,
        )
    registered = connect(args).register_mcp_server(server)
    show(
        args.output,
        registered,
        lambda: print(f"registered MCP server {registered.name}: {', '.join(registered.tool_names)}"),
    )


def _list(args: argparse.Namespace) -> None:
    found = connect(args).list_mcp_servers()
    show(args.output, found, lambda: print_table(found, SERVER_COLUMNS))


def _get(args: argparse.Namespace) -> None:
    server = connect(args).get_mcp_server(args.name)
    pairs: list[tuple[str, object]] = [
        ("name", server.name),
        ("state", _state(server)),
        ("endpoint", _where(server)),
        ("tools", ", ".join(server.tool_names)),
    ]
    if server.last_error:
        pairs.append(("last error", server.last_error))
    show(args.output, server, lambda: print_fields(pairs))


def _delete(args: argparse.Namespace) -> None:
    connect(args).delete_mcp_server(args.name)
    show(args.output, {}, lambda: print(f"deleted MCP server {args.name}"))
