"""`autoglm users` and `autoglm keys`: UserService."""

from __future__ import annotations

import argparse
import datetime as dt

from autoglm.v1 import user_pb2
from autoglm_client.cli.common import connect
from autoglm_client.cli.output import Column, print_fields, print_table, show

USER_COLUMNS: list[Column] = [
    ("USER ID", lambda u: u.user_id),
    ("NAME", lambda u: u.name),
    ("AGE", lambda u: u.age),
    ("ADMIN", lambda u: "yes" if u.admin else ""),
    ("CREATED", lambda u: when(u.create_time)),
]
KEY_COLUMNS: list[Column] = [
    ("KEY ID", lambda k: k.key_id),
    ("LABEL", lambda k: k.label),
    ("CREATED", lambda k: when(k.create_time)),
    ("REVOKED", lambda k: "yes" if k.revoked else ""),
]


def when(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if seconds else ""


def show_user(output: str, user: user_pb2.User) -> None:
    show(output, user, lambda: print_table([user], USER_COLUMNS))


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    users = commands.add_parser("users", help="create, get, list, update and delete users")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = actions.add_parser("create", parents=[common], help="create a user")
    create.add_argument("name")
    create.add_argument("--age", type=int, default=0)
    create.add_argument("--admin", action="store_true", help="may manage users, keys, tools and models")
    create.set_defaults(
        run=lambda a: show_user(a.output, connect(a).create_user(a.name, age=a.age, admin=a.admin))
    )

    get = actions.add_parser("get", parents=[common], help="show a user")
    get.add_argument("user_id")
    get.set_defaults(run=lambda a: show_user(a.output, connect(a).get_user(a.user_id)))

    listing = actions.add_parser("list", parents=[common], help="list every user")
    listing.add_argument("--page-size", type=int, default=100, help="users fetched per call")
    listing.set_defaults(run=_list_users)

    update = actions.add_parser("update", parents=[common], help="change a user's name or age")
    update.add_argument("user_id")
    update.add_argument("--name")
    update.add_argument("--age", type=int)
    update.set_defaults(
        run=lambda a: show_user(a.output, connect(a).update_user(a.user_id, name=a.name, age=a.age))
    )

    delete = actions.add_parser("delete", parents=[common], help="delete a user and its keys")
    delete.add_argument("user_id")
    delete.set_defaults(run=_delete_user)

    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create_key = key_actions.add_parser("create", parents=[common], help="create an API key (shown once)")
    create_key.add_argument("user_id")
    create_key.add_argument("--label", default="")
    create_key.set_defaults(run=_create_key)
    list_keys = key_actions.add_parser("list", parents=[common], help="list a user's keys")
    list_keys.add_argument("user_id")
    list_keys.set_defaults(run=_list_keys)
    revoke = key_actions.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke_key)


def _delete_user(args: argparse.Namespace) -> None:
    connect(args).delete_user(args.user_id)
    show(args.output, {}, lambda: print(f"deleted user {args.user_id}"))


def _revoke_key(args: argparse.Namespace) -> None:
    connect(args).revoke_api_key(args.key_id)
    show(args.output, {}, lambda: print(f"revoked key {args.key_id}"))


def _list_users(args: argparse.Namespace) -> None:
    found = list(connect(args).iter_users(page_size=args.page_size))
    show(args.output, found, lambda: print_table(found, USER_COLUMNS))


def _create_key(args: argparse.Namespace) -> None:
    created = connect(args).create_api_key(args.user_id, label=args.label)
    pairs = [("key id", created.key.key_id), ("user id", created.key.user_id), ("label", created.key.label)]
    pairs.append(("secret", f"{created.secret}   (shown only now: store it)"))
    show(args.output, created, lambda: print_fields(pairs))


def _list_keys(args: argparse.Namespace) -> None:
    found = connect(args).list_api_keys(args.user_id)
    show(args.output, found, lambda: print_table(found, KEY_COLUMNS))
