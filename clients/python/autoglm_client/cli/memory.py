"""`autoglm knowledge` and `autoglm sessions`: MemoryService."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autoglm.v1 import common_pb2
from autoglm_client.cli.common import InvalidInput, connect, parse_pairs
from autoglm_client.cli.output import Column, print_table, show
from autoglm_client.cli.users import when

MATCH_COLUMNS: list[Column] = [
    ("ENTRY ID", lambda m: m.entry.entry_id),
    ("SCORE", lambda m: f"{m.score:.3f}"),
    ("TEXT", lambda m: " ".join(m.entry.text.split())[:70]),
]
SESSION_COLUMNS: list[Column] = [
    ("SESSION ID", lambda s: s.session_id),
    ("MESSAGES", lambda s: len(s.messages)),
    ("UPDATED", lambda s: when(s.update_time)),
]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    knowledge = commands.add_parser("knowledge", help="add, search and delete knowledge entries")
    actions = knowledge.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=[common], help="add an entry from text, a file or stdin")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("text", nargs="?", help="the text (or use --file; - reads stdin)")
    source.add_argument("--file", help="read the text from a file (- = stdin)")
    add.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="metadata, repeatable")
    add.set_defaults(run=_add)
    search = actions.add_parser("search", parents=[common], help="search entries")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=5)
    search.set_defaults(run=_search)
    delete = actions.add_parser("delete", parents=[common], help="delete an entry")
    delete.add_argument("entry_id")
    delete.set_defaults(run=_delete_entry)

    sessions = commands.add_parser("sessions", help="list, show and delete chat sessions")
    session_actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = session_actions.add_parser("list", parents=[common], help="list your sessions")
    listing.set_defaults(run=_list_sessions)
    show_one = session_actions.add_parser("show", parents=[common], help="print a session's messages")
    show_one.add_argument("session_id")
    show_one.set_defaults(run=_show_session)
    delete_session = session_actions.add_parser("delete", parents=[common], help="delete a session")
    delete_session.add_argument("session_id")
    delete_session.set_defaults(run=_delete_session)


def _text(args: argparse.Namespace) -> str:
    name = args.file if args.file is not None else ("-" if args.text == "-" else None)
    if name is None:
        return str(args.text)
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"{name}: {error.strerror}") from None


def _add(args: argparse.Namespace) -> None:
    entry = connect(args).add_knowledge(_text(args), metadata=parse_pairs(args.meta, "--meta"))
    show(args.output, entry, lambda: print(f"added entry {entry.entry_id}"))


def _search(args: argparse.Namespace) -> None:
    found = connect(args).search_knowledge(args.query, limit=args.limit)
    show(args.output, found, lambda: print_table(found, MATCH_COLUMNS))


def _delete_entry(args: argparse.Namespace) -> None:
    connect(args).delete_knowledge(args.entry_id)
    show(args.output, {}, lambda: print(f"deleted entry {args.entry_id}"))


def _list_sessions(args: argparse.Namespace) -> None:
    found = list(connect(args).iter_sessions(page_size=100))
    show(args.output, found, lambda: print_table(found, SESSION_COLUMNS))


def _show_session(args: argparse.Namespace) -> None:
    session = connect(args).get_session(args.session_id)

    def render() -> None:
        for message in session.messages:
            role = common_pb2.Role.Name(message.role).removeprefix("ROLE_").lower()
            print(f"[{role}] {message.content}")

    show(args.output, session, render)


def _delete_session(args: argparse.Namespace) -> None:
    connect(args).delete_session(args.session_id)
    show(args.output, {}, lambda: print(f"deleted session {args.session_id}"))
