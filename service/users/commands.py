"""`handpost user ...` and `handpost token ...`: the administrator's side of users and tokens.

The API has no sign-up, so the first user is made here; a forgotten password is reset here,
and a token that leaked is found and revoked here. Each command migrates the schema first,
so it works on a fresh database too. A refusal ends the command with one line on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from service.config import get_settings
from service.db import Database, utcnow
from service.migrate import upgrade
from service.users import repository
from service.users import service as users
from service.users.models import User

# As for POST /api/v1/tokens.
MAX_TOKEN_DAYS = 3650


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    user = commands.add_parser("user", help="manage users")
    user_actions = user.add_subparsers(dest="action", required=True)
    create = user_actions.add_parser("create", help="create a user (asks for the password)")
    create.add_argument("username")
    _password_stdin_option(create)
    create.set_defaults(func=user_create)
    user_actions.add_parser("list", help="print every username").set_defaults(func=user_list)
    password = user_actions.add_parser(
        "password", help="set a user's password (asks for it); signs out their login sessions"
    )
    password.add_argument("username")
    _password_stdin_option(password)
    password.set_defaults(func=user_password)

    token = commands.add_parser("token", help="manage API tokens")
    token_actions = token.add_subparsers(dest="action", required=True)
    token_create = token_actions.add_parser("create", help="print a new personal API token")
    token_create.add_argument("username")
    token_create.add_argument("--name", default="cli", help="what the token is for")
    token_create.add_argument(
        "--expires-in-days",
        type=_token_days,
        metavar="DAYS",
        help=f"1 to {MAX_TOKEN_DAYS}; without it the token does not expire",
    )
    token_create.set_defaults(func=token_create_command)
    token_list = token_actions.add_parser(
        "list", help="a user's tokens that still work: personal ones and login sessions"
    )
    token_list.add_argument("username")
    token_list.set_defaults(func=token_list_command)
    token_revoke = token_actions.add_parser("revoke", help="revoke one of a user's tokens")
    token_revoke.add_argument("username")
    token_revoke.add_argument("token_id", help="the ID `handpost token list` shows")
    token_revoke.set_defaults(func=token_revoke_command)


def _password_stdin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _token_days(value: str) -> int:
    days = int(value) if value.strip().isdigit() else 0
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise argparse.ArgumentTypeError(
            f"a token's lifetime is a whole number of days from 1 to {MAX_TOKEN_DAYS}, "
            f"not {value!r}"
        )
    return days


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise SystemExit("handpost: no password on standard input; nothing was changed.")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SystemExit(
            "handpost: no terminal to ask for the password on; give it on standard input "
            "with --password-stdin."
        )
    try:
        first = getpass.getpass("Password: ")
        again = getpass.getpass("Password again: ")
    except EOFError:
        raise SystemExit("\nhandpost: no password given; nothing was changed.") from None
    if again != first:
        raise SystemExit("handpost: the passwords differ; nothing was changed.")
    return first


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database, its schema migrated first; committed on success."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            yield session
            session.commit()
    finally:
        database.dispose()


def _user(session: Session, username: str) -> User:
    user = repository.find_by_username(session, username)
    if user is None:
        raise SystemExit(f"handpost: no user {username!r} (see `handpost user list`)")
    return user


def user_create(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    with _session() as session:
        user = users.create_user(session, args.username, password)
    print(f"created user {user.username}")
    return 0


def user_list(_args: argparse.Namespace) -> int:
    with _session() as session:
        for user in repository.all_users(session):
            print(user.username)
    return 0


def user_password(args: argparse.Namespace) -> int:
    with _session() as session:
        user = _user(session, args.username)  # before asking: a typo costs no typing
        password = read_password(args.password_stdin)
        signed_out = users.change_password(session, user, password)
    print(f"changed the password of {user.username}; signed out {signed_out} login session(s)")
    return 0


def token_create_command(args: argparse.Namespace) -> int:
    """A personal API token for scripts, printed once."""
    ttl = timedelta(days=args.expires_in_days) if args.expires_in_days else None
    with _session() as session:
        user = _user(session, args.username)
        _token, plain = users.issue_token(session, user, kind="personal", name=args.name, ttl=ttl)
    print(plain)
    return 0


def token_list_command(args: argparse.Namespace) -> int:
    with _session() as session:
        tokens = repository.active_tokens(session, _user(session, args.username).id, utcnow())
    rows: list[tuple[str, ...]] = [
        ("ID", "KIND", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES")
    ]
    rows += [
        (t.id, t.kind, t.name, t.prefix, *map(_when, (t.created_at, t.last_used_at, t.expires_at)))
        for t in tokens
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment is not None else "-"


def token_revoke_command(args: argparse.Namespace) -> int:
    with _session() as session:
        user = _user(session, args.username)
        token = repository.get_token(session, user.id, args.token_id)
        if token is None or token.revoked_at is not None:
            raise SystemExit(
                f"handpost: {user.username} has no working token {args.token_id!r} "
                "(see `handpost token list`)"
            )
        users.revoke(session, token)
    print(f"revoked {token.kind} token {token.id} ({token.name}) of {user.username}")
    return 0
