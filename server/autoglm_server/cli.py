"""`autoglm serve` and `autoglm pull`: the server's commands, added to the client's `autoglm` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

from autoglm_core.wiring.settings import CONFIG_FILE_ENV
from autoglm_server.server_settings import ServerSettings


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ServerSettings field, documented from the field's description."""
    for name, field in ServerSettings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        default = field.default
        parser.add_argument(flag, dest=name, default=None, help=f"{field.description} [default: {default}]")


def _serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in vars(args).items() if k in ServerSettings.model_fields and v is not None}
    try:
        settings = ServerSettings(**overrides)
    except ValidationError as error:
        print(f"autoglm serve: invalid settings:\n{error}", file=sys.stderr)
        return 2
    from autoglm_server.observability.logs import configure_logging

    # Text for people, or JSON lines with trace_id/span_id for log pipelines (setting log_format).
    configure_logging(settings.log_level, settings.log_format)
    from autoglm_server.app import serve

    try:
        asyncio.run(serve(settings))
    except Exception as error:  # start-up errors end the process with a clear line
        logging.getLogger("autoglm").debug("start-up failed", exc_info=True)
        print(f"autoglm serve: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def _pull(args: argparse.Namespace) -> int:
    from autoglm_core.models.default_model import resolve_model_source

    print(resolve_model_source(args.model))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `serve` and `pull` to the `autoglm` command of the client distribution (an entry point)."""
    serve = commands.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the gRPC server. Settings come from defaults < the YAML file named by "
        f"{CONFIG_FILE_ENV} < AUTOGLM_<NAME> environment variables < these flags.",
    )
    _add_settings_flags(serve)
    serve.set_defaults(run=_serve)

    pull = commands.add_parser("pull", help="fetch and convert a model into the local cache")
    pull.add_argument("model", nargs="?", default="openautoglm-base-v1", help="model alias")
    pull.set_defaults(run=_pull)


def build_parser() -> argparse.ArgumentParser:
    """The server's commands alone (`python -m autoglm_server.cli`); `autoglm` has them all."""
    parser = argparse.ArgumentParser(prog="autoglm", description="Open-AutoGLM model server.")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
