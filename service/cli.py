"""The `handpost` command: serve the API, run a publishing worker, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import uvicorn

from service.config import get_settings
from service.migrate import upgrade


def _serve(args: argparse.Namespace) -> int:
    from service.main import create_app

    settings = get_settings()
    if not args.no_migrate:
        upgrade(settings.database_url)
    dispatch = False if args.no_dispatch else None
    app = create_app(settings, dispatch=dispatch)
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level.lower(),
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    """Dispatch only: scales apart from the API; several may run against one PostgreSQL."""
    from service.db import Database
    from service.publishing.dispatcher import Dispatcher
    from service.publishing.registry import PublisherRegistry

    settings = get_settings()
    if not args.no_migrate:
        upgrade(settings.database_url)

    async def run() -> None:
        database = Database(settings.database_url)
        dispatcher = Dispatcher(database, settings, PublisherRegistry())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await dispatcher.start()
        await stop.wait()
        await dispatcher.stop()
        database.dispose()

    asyncio.run(run())
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    upgrade(get_settings().database_url)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="handpost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API (and, unless told not to, the dispatcher)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-dispatch", action="store_true", help="API only; run workers apart")
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run the dispatcher only")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=_worker)
    migrate = sub.add_parser("migrate", help="upgrade the database schema to this version")
    migrate.set_defaults(func=_migrate)
    args = parser.parse_args(argv)
    logging.basicConfig(level=get_settings().log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
