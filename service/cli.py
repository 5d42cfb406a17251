"""The `handpost` command: serve the API, run a publishing worker, migrate the database, and
manage users and tokens.

Whatever a person can get wrong (a setting, a database that cannot be reached, an answer at a
prompt) ends with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any, NoReturn

import uvicorn
from pydantic import ValidationError

from service.config import get_settings
from service.migrate import current_revision, upgrade
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
    from service.background import BackgroundChores, default_chores
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
        chores = BackgroundChores(database, default_chores(database, settings))
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
    database_url = get_settings().database_url
    upgrade(database_url)
    print(f"the database schema is at revision {current_revision(database_url)}")
    return 0


class _Parser(argparse.ArgumentParser):
    """A refused argument is one line on stderr (with where to look), not the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {value!r}")
    return port


def _workers(value: str) -> int:
    workers = int(value) if value.isdigit() else 0
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"API processes are 1 to 64, not {value!r}")
    return workers


def _version() -> str:
    try:
        return metadata.version("handpost")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    from service.users import commands as user_commands

    parser = _Parser(prog="handpost", description=__doc__)
    parser.add_argument("--version", action="version", version=f"handpost {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and, unless told not to, the dispatcher)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=_port)
    serve.add_argument("--no-dispatch", action="store_true", help="API only; run workers apart")
    serve.add_argument(
        "--workers", type=_workers, help="API processes (PostgreSQL only); default HANDPOST_WORKERS"
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run the dispatcher only")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=_worker)
    migrate = sub.add_parser("migrate", help="upgrade the database schema to this version")
    migrate.set_defaults(func=_migrate)
    user_commands.add_commands(sub)
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        print(f"handpost: {_settings_problem(error)}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_format=settings.log_format == "json")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as error:
        explanation = _explain(error, settings.database_url)
        if explanation is None:
            raise  # a fault in Handpost itself: its traceback is what a bug report needs
        print(f"handpost: {explanation}", file=sys.stderr)
        return 1


def _settings_problem(error: ValidationError) -> str:
    """Which HANDPOST_* variables are wrong and why, without echoing values (may be secret)."""
    return "; ".join(
        f"HANDPOST_{'_'.join(str(part) for part in problem['loc']).upper()}: "
        + problem["msg"].removeprefix("Value error, ")
        for problem in error.errors()
    )


def _explain(error: Exception, database_url: str) -> str | None:
    """One sentence for a failure the person running the command can fix; None for a bug."""
    from alembic.util import CommandError as AlembicError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from service.problems import ProblemError

    if isinstance(error, ProblemError):
        return error.detail
    if isinstance(error, DBAPIError) and error.connection_invalidated is False:
        where = make_url(database_url).render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        hint = ""
        if where.startswith("sqlite") and "unable to open" in reason:
            hint = " (does its folder exist, and may this user write there?)"
        return f"cannot use the database {where}: {reason}{hint}"
    if isinstance(error, AlembicError):
        return f"cannot migrate the database: {error}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return None


if __name__ == "__main__":
    sys.exit(main())
