"""`autoglm`: the parser, the commands other distributions add, and how failures become exit codes.

Exit codes (for scripts):
  0       success
  1-16    the gRPC status code of the failed call: 3 INVALID_ARGUMENT (also bad local input such as a
          malformed tool file), 5 NOT_FOUND, 6 ALREADY_EXISTS, 7 PERMISSION_DENIED,
          8 RESOURCE_EXHAUSTED, 9 FAILED_PRECONDITION, 14 UNAVAILABLE (also: server unreachable),
          4 DEADLINE_EXCEEDED, 16 UNAUTHENTICATED
  2       bad command line (usage)
  130     interrupted (Ctrl-C)
Errors are printed to stderr as one line: `autoglm: CODE: message (field.path: why)`.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from autoglm_client.cli import chat, completion, generate, mcp, memory, models, tools, users
from autoglm_client.cli.common import InvalidInput, add_connection_options, connection_options
from autoglm_client.cli.output import fail
from autoglm_client.errors import AutoGLMError

# Other distributions add commands here; the server adds `serve` and `pull`.
PLUGIN_GROUP = "autoglm.commands"
INVALID_INPUT_EXIT = 3
INTERRUPTED_EXIT = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoglm",
        description="Open-AutoGLM: chat with a model server and manage it.",
        epilog=__doc__.split("\n", 2)[2] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_connection_options(parser, with_defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = connection_options()
    for module in (chat, generate, models, users, tools, mcp, memory):
        module.register(commands, common)
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(commands)
    completion.register(commands, parser)  # last: it completes every command above
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except AutoGLMError as error:
        fail(str(error))
        return int(error.code().value[0])
    except InvalidInput as error:
        fail(str(error))
        return INVALID_INPUT_EXIT
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT


if __name__ == "__main__":
    sys.exit(main())
