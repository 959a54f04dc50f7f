"""`autoglm generate`: one prompt, one answer (unary or streamed)."""

from __future__ import annotations

import argparse
from typing import Any

from autoglm_client.cli.common import connect
from autoglm_client.cli.output import print_json


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    generate = commands.add_parser("generate", parents=[common], help="generate an answer to one prompt")
    generate.add_argument("prompt", help="the prompt")
    generate.add_argument("--model", default="", help="model alias or name@version")
    generate.add_argument("--stream", action="store_true", help="print tokens as they come")
    generate.add_argument("--thinking", action="store_true", help="enable thinking mode")
    generate.add_argument("--session", default="", help="keep the conversation in this server-side session")
    generate.add_argument("--max-new-tokens", type=int, default=None)
    generate.add_argument("--temperature", type=float, default=None)
    generate.set_defaults(run=_generate)


def _generate(args: argparse.Namespace) -> None:
    options: dict[str, Any] = {"model": args.model, "thinking": args.thinking, "session_id": args.session}
    if args.max_new_tokens is not None:
        options["max_new_tokens"] = args.max_new_tokens
    if args.temperature is not None:
        options["temperature"] = args.temperature
    client = connect(args)
    if args.output == "json":
        print_json(client.generate(args.prompt, **options))
    elif not args.stream:
        response = client.generate(args.prompt, **options)
        if response.reasoning:
            print(f"[reasoning]\n{response.reasoning}\n[answer]")
        print(response.text)
    else:
        for event in client.stream(args.prompt, **options):
            kind = event.WhichOneof("event")
            if kind in ("content_delta", "reasoning_delta"):
                print(getattr(event, kind).text, end="", flush=True)
        print()
