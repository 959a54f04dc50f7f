"""The `autoglm` command: serve, generate (a client), models, pull."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

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


def _generate(args: argparse.Namespace) -> int:
    import grpc

    from autoglm_client import AutoGLMClient

    options: dict[str, Any] = {"model": args.model, "thinking": args.thinking}
    if args.max_new_tokens is not None:
        options["max_new_tokens"] = args.max_new_tokens
    if args.temperature is not None:
        options["temperature"] = args.temperature
    with AutoGLMClient(args.target, timeout=args.timeout) as client:
        try:
            if not args.stream:
                response = client.generate(args.prompt, **options)
                if response.reasoning:
                    print(f"[reasoning]\n{response.reasoning}\n[answer]")
                print(response.text)
                return 0
            for event in client.stream(args.prompt, **options):
                kind = event.WhichOneof("event")
                if kind in ("content_delta", "reasoning_delta"):
                    print(getattr(event, kind).text, end="", flush=True)
            print()
        except grpc.RpcError as error:
            print(f"autoglm generate: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    return 0


def _models(args: argparse.Namespace) -> int:
    from google.protobuf.json_format import MessageToDict

    from autoglm_client import AutoGLMClient

    with AutoGLMClient(args.target, timeout=args.timeout) as client:
        print(json.dumps(MessageToDict(client.list_models()), indent=2, ensure_ascii=False))
    return 0


def _pull(args: argparse.Namespace) -> int:
    from autoglm_core.models.default_model import resolve_model_source

    print(resolve_model_source(args.model))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autoglm", description="Open-AutoGLM model server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the gRPC server. Settings come from defaults < the YAML file named by "
        f"{CONFIG_FILE_ENV} < AUTOGLM_<NAME> environment variables < these flags.",
    )
    _add_settings_flags(serve)
    serve.set_defaults(run=_serve)

    for name, run, helptext in (
        ("generate", _generate, "generate text on a running server"),
        ("models", _models, "list a running server's models"),
    ):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("--target", default="127.0.0.1:50051", help="server address host:port")
        sub.add_argument("--timeout", type=float, default=120.0, help="deadline in seconds")
        sub.set_defaults(run=run)
        if name == "generate":
            sub.add_argument("prompt", help="the prompt")
            sub.add_argument("--model", default="", help="model alias or name@version")
            sub.add_argument("--stream", action="store_true", help="print tokens as they come")
            sub.add_argument("--thinking", action="store_true", help="enable thinking mode")
            sub.add_argument("--max-new-tokens", type=int, default=None)
            sub.add_argument("--temperature", type=float, default=None)

    pull = commands.add_parser("pull", help="fetch and convert a model into the local cache")
    pull.add_argument("model", nargs="?", default="openautoglm-base-v1", help="model alias")
    pull.set_defaults(run=_pull)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
