"""What every command shares: the connection options, the client they make, local input errors."""

from __future__ import annotations

import argparse
import os

from autoglm_client.client import AutoGLMClient

DEFAULT_TARGET = "127.0.0.1:50051"


class InvalidInput(Exception):
    """Bad local input (a malformed file, an unreadable argument): exit code 3, like INVALID_ARGUMENT."""


def add_connection_options(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    """--target, --api-key, --timeout and --output.

    They are accepted before the command (`autoglm --target X users list`, with the defaults) and
    after it (without defaults there, so that a subcommand does not reset what was given before).
    """

    def default(value: object) -> object:
        return value if with_defaults else argparse.SUPPRESS

    target = os.environ.get("AUTOGLM_TARGET", DEFAULT_TARGET)
    parser.add_argument(
        "--target",
        default=default(target),
        help=f"server address host:port (env AUTOGLM_TARGET) [default: {DEFAULT_TARGET}]",
    )
    parser.add_argument(
        "--api-key",
        default=default(os.environ.get("AUTOGLM_API_KEY")),
        help="API key sent as 'authorization: Bearer <key>' (env AUTOGLM_API_KEY)",
    )
    parser.add_argument("--timeout", type=float, default=default(60.0), help="deadline of each call, seconds")
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default=default("table"),
        help="table for people, json for scripts",
    )


def connection_options() -> argparse.ArgumentParser:
    """The options as a parent parser for each command that calls a server."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common, with_defaults=False)
    return common


def connect(args: argparse.Namespace) -> AutoGLMClient:
    return AutoGLMClient(args.target, timeout=args.timeout, api_key=args.api_key)


def parse_pairs(items: list[str], what: str) -> dict[str, str]:
    """KEY=VALUE arguments as a dict."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what}: expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs
