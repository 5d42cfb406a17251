"""The `handpost` command: serve the API, run a publishing worker, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Any

import uvicorn

from service.config import get_settings
from service.migrate import upgrade
from service.observability.logging import configure_logging

if TYPE_CHECKING:
    from service.db import Database


def _serve(args: argparse.Namespace) -> int:
    import os

    from service.http_server import ProblemH11Protocol
    from service.main import create_app

    settings = get_settings()
    if not args.no_migrate:
        upgrade(settings.database_url)
    workers = args.workers or settings.workers
    server: dict[str, Any] = {
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "log_level": settings.log_level.lower(),
        # Our handler formats uvicorn's records too; our middleware writes the access lines
        # (uvicorn's would log raw paths with query strings, which may carry secrets).
        "log_config": None,
        "access_log": False,
        # h11 bounds the request line and headers (httptools cannot); see service.http_server.
        "http": ProblemH11Protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # X-Forwarded-For is read by the app, only from HANDPOST_TRUSTED_PROXIES.
        "proxy_headers": False,
        "server_header": False,
    }
    if workers > 1:
        if settings.database_url.startswith("sqlite"):
            print(
                "handpost: several API processes need PostgreSQL; SQLite has one writer. "
                "Set HANDPOST_WORKERS=1 or point HANDPOST_DATABASE_URL at PostgreSQL.",
                file=sys.stderr,
            )
            return 2
        if args.no_dispatch:
            os.environ["HANDPOST_DISPATCH"] = "false"
        uvicorn.run("service.main:app_from_environment", factory=True, workers=workers, **server)
        return 0
    app = create_app(settings, dispatch=False if args.no_dispatch else None)
    if settings.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(
            settings.metrics_port,
            addr=settings.metrics_host or settings.host,
            registry=app.state.metrics.registry,
        )
    uvicorn.run(app, **server)
    return 0


def _worker(args: argparse.Namespace) -> int:
    """Dispatch only: scales apart from the API; several may run against one PostgreSQL."""
    from service.background import BackgroundChores, service_chores
    from service.db import Database
    from service.publishing.dispatcher import Dispatcher
    from service.publishing.registry import PublisherRegistry

    settings = get_settings()
    if not args.no_migrate:
        upgrade(settings.database_url)

    async def run() -> None:
        database = Database(settings.database_url, settings.pool_limits)
        database.checkpoint_in_background()
        if settings.metrics_port is not None:
            _serve_worker_metrics(
                database, settings.metrics_host or settings.host, settings.metrics_port
            )
        dispatcher = Dispatcher(database, settings, PublisherRegistry(database, settings))
        chores = BackgroundChores(database, service_chores(database, settings))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await dispatcher.start()
        await chores.start()
        await stop.wait()
        await chores.stop()
        await dispatcher.stop()
        database.dispose()

    asyncio.run(run())
    return 0


def _serve_worker_metrics(database: Database, host: str, port: int) -> None:
    """A worker serves no API, so its publishing metrics get a small HTTP server of their own."""
    from prometheus_client import start_http_server

    from service.db import utcnow
    from service.observability.metrics import Metrics
    from service.publishing import repository

    def posts_due() -> int:
        with database.session(read_only=True) as session:
            return repository.count_due(session, now=utcnow())

    start_http_server(port, addr=host, registry=Metrics(posts_due=posts_due).registry)


def _migrate(_args: argparse.Namespace) -> int:
    upgrade(get_settings().database_url)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("The passwords differ; nothing was changed.")
    return first


def _user_create(args: argparse.Namespace) -> int:
    """The first user is made here: the API has no sign-up, so nobody can add themselves."""
    from service.db import Database
    from service.problems import ProblemError
    from service.users import service as users

    settings = get_settings()
    upgrade(settings.database_url)
    password = _read_password(args.password_stdin)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            user = users.create_user(session, args.username, password)
            session.commit()
    except ProblemError as problem:
        print(f"handpost: {problem.detail}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    print(f"created user {user.username}")
    return 0


def _user_list(_args: argparse.Namespace) -> int:
    from service.db import Database
    from service.users import repository

    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session(read_only=True) as session:
            for user in repository.all_users(session):
                print(user.username)
    finally:
        database.dispose()
    return 0


def _token_create(args: argparse.Namespace) -> int:
    """A personal API token for scripts, printed once."""
    from datetime import timedelta

    from service.db import Database
    from service.users import repository
    from service.users import service as users

    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            user = repository.find_by_username(session, args.username)
            if user is None:
                print(f"handpost: no user {args.username!r}", file=sys.stderr)
                return 1
            ttl = timedelta(days=args.expires_in_days) if args.expires_in_days else None
            _token, plain = users.issue_token(
                session, user, kind="personal", name=args.name, ttl=ttl
            )
            session.commit()
    finally:
        database.dispose()
    print(plain)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="handpost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and, unless told not to, the dispatcher)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-dispatch", action="store_true", help="API only; run workers apart")
    serve.add_argument(
        "--workers", type=int, help="API processes (PostgreSQL only); default HANDPOST_WORKERS"
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run the dispatcher only")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=_worker)
    migrate = sub.add_parser("migrate", help="upgrade the database schema to this version")
    migrate.set_defaults(func=_migrate)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    user_create = user.add_parser("create", help="create a user (asks for the password)")
    user_create.add_argument("username")
    user_create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_create.set_defaults(func=_user_create)
    user.add_parser("list", help="print every username").set_defaults(func=_user_list)
    token = sub.add_parser("token", help="manage API tokens").add_subparsers(
        dest="action", required=True
    )
    token_create = token.add_parser("create", help="print a new personal API token")
    token_create.add_argument("username")
    token_create.add_argument("--name", default="cli", help="what the token is for")
    token_create.add_argument("--expires-in-days", type=int)
    token_create.set_defaults(func=_token_create)
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, json_format=settings.log_format == "json")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
