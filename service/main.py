"""The FastAPI application: routers, problem handlers and the dispatcher's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import problems
from service.accounts.endpoints import router as accounts_router
from service.config import Settings, get_settings
from service.db import Database, get_database
from service.health.endpoints import router as health_router
from service.networks.endpoints import router as networks_router
from service.posts.endpoints import router as posts_router
from service.publishing.dispatcher import Dispatcher
from service.publishing.endpoints import router as publishing_router
from service.publishing.registry import PublisherRegistry

log = logging.getLogger("handpost")


def create_app(settings: Settings | None = None, *, dispatch: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings.database_url)
    run_dispatcher = settings.dispatch if dispatch is None else dispatch

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dispatcher = None
        if run_dispatcher:
            dispatcher = Dispatcher(database, settings, PublisherRegistry())
            await dispatcher.start()
        app.state.dispatcher = dispatcher
        try:
            yield
        finally:
            if dispatcher is not None:
                await dispatcher.stop()
            database.dispose()

    app = FastAPI(
        title="Handpost",
        version="0.1.0",
        summary="Schedules hand-tailored social media posts, one version per network.",
        description=(
            "Write each post for one network's audience, schedule it, and check the publish "
            "log. Handpost is not a cross-poster: the same text is refused on a second "
            "network (409, problem type `cross-post`). Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.dispatcher = None
    app.dependency_overrides[get_database] = lambda: database
    problems.install(app)
    for router in (
        health_router,
        accounts_router,
        networks_router,
        posts_router,
        publishing_router,
    ):
        app.include_router(router)
    return app
