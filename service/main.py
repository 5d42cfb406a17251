"""The FastAPI application: routers, problem handlers and the dispatcher's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service import problems
from service.accounts.endpoints import router as accounts_router
from service.apidocs import contract
from service.apidocs.pages import router as apidocs_router
from service.background import BackgroundChores, default_chores
from service.config import Settings, get_settings
from service.connect.endpoints import browser_router as connect_browser_router
from service.connect.endpoints import router as connect_router
from service.connect.service import Connections
from service.db import Database, utcnow
from service.feeds.endpoints import router as feeds_router
from service.hand.endpoints import router as hand_router
from service.health.endpoints import router as health_router
from service.http_guards import (
    ClientAddress,
    LoadShedding,
    RequestLimits,
    SecurityHeaders,
    parse_networks,
)
from service.idempotency import service as idempotency
from service.media.endpoints import UPLOADS_PATH
from service.media.endpoints import public_router as media_public_router
from service.media.endpoints import router as media_router
from service.media.service import MediaContext
from service.media.tus import TUS_REQUEST_HEADERS, TUS_RESPONSE_HEADERS
from service.networks.endpoints import router as networks_router
from service.notify.endpoints import router as notify_router
from service.observability.metrics import Metrics
from service.observability.metrics import router as metrics_router
from service.observability.middleware import RequestContextMiddleware
from service.posts.endpoints import router as posts_router
from service.publishing import repository as publishing_repository
from service.publishing.dispatcher import Dispatcher
from service.publishing.endpoints import router as publishing_router
from service.publishing.registry import PublisherRegistry
from service.strategy.endpoints import router as strategy_router
from service.users.auth import RefusedTokens, RefuseKnownBadTokens
from service.users.endpoints import router as users_router
from service.users.security import PasswordSlots
from service.web.endpoints import router as web_router
from service.webhooks.endpoints import router as webhooks_router

log = logging.getLogger("handpost")

# API routes that mostly wait on something else (a password hash, another server, a client's
# upload): they get a lane of their own in the load shedder (see LoadShedding).
WAITING_ROUTES = (
    "/api/v1/auth/login",
    "/api/v1/accounts",
    "/api/v1/connect",
    "/api/v1/webhooks",
    "/api/v1/notification-settings",
    "/api/v1/media",
)


def create_app(settings: Settings | None = None, *, dispatch: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings.database_url, settings.pool_limits)
    run_dispatcher = settings.dispatch if dispatch is None else dispatch

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database.checkpoint_in_background()
        dispatcher = None
        chores = BackgroundChores(database, default_chores(database, settings))
        if run_dispatcher:
            dispatcher = Dispatcher(database, settings, PublisherRegistry(database, settings))
            await dispatcher.start()
            await chores.start()
        app.state.dispatcher = dispatcher
        try:
            yield
        finally:
            if dispatcher is not None:
                await chores.stop()
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
        # Served by apidocs_router instead: FastAPI's own pages load their scripts from a CDN.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=contract.operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.password_slots = PasswordSlots(settings.password_hash_concurrency)
    app.state.refused_tokens = RefusedTokens()
    app.state.dispatcher = None
    app.state.media = MediaContext.from_settings(database, settings)
    app.state.connections = Connections(database, settings)

    def posts_due() -> int:
        with database.session(read_only=True) as session:
            return publishing_repository.count_due(session, now=utcnow())

    app.state.metrics = Metrics(posts_due=posts_due)
    problems.install(app)
    idempotency.install(app)
    for router in (
        health_router,
        accounts_router,
        connect_router,
        connect_browser_router,
        networks_router,
        posts_router,
        publishing_router,
        hand_router,
        notify_router,
        web_router,
        users_router,
        strategy_router,
        webhooks_router,
        feeds_router,
        media_router,
        media_public_router,
        metrics_router,
        apidocs_router,
    ):
        app.include_router(router)
    # Added innermost first: each add_middleware wraps everything added before it.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                *TUS_REQUEST_HEADERS,
            ],
            expose_headers=["ETag", "Location", "Retry-After", *TUS_RESPONSE_HEADERS],
        )
    app.add_middleware(
        LoadShedding,
        limit=settings.max_concurrent_requests,
        queue_seconds=settings.request_queue_seconds,
        auth_failure_delay=settings.auth_failure_delay_seconds,
        waiting_limit=settings.max_concurrent_waiting_requests,
        waiting_prefixes=WAITING_ROUTES,
        # An upload transfer holds its connection for minutes: uploads have their own bound
        # (HANDPOST_MEDIA_UPLOAD_CONCURRENCY) instead of taking either lane's slots.
        exempt=(UPLOADS_PATH,),
    )
    # Cheap refusals come before the queue: a token refused before, or an oversized request,
    # never waits for a slot.
    app.add_middleware(
        RefuseKnownBadTokens,
        refused=app.state.refused_tokens,
        delay=settings.auth_failure_delay_seconds,
    )
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_body_bytes,
        max_headers=settings.max_headers,
        max_members=settings.max_json_members,
        max_depth=settings.max_json_depth,
        # Upload bytes are bounded by HANDPOST_MEDIA_MAX_BYTES and the upload's own length.
        exempt=(UPLOADS_PATH,),
    )
    # Request ids, access lines and metrics cover every response, 413s and 503s included,
    # and any error the app did not handle becomes a 500 problem here.
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders)
    # Outermost: everything inside sees the client's real address.
    app.add_middleware(ClientAddress, trusted=parse_networks(settings.trusted_proxies))
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = contract.document(problems.document_common_problems(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_environment() -> FastAPI:
    """The app as configured by HANDPOST_* variables: what each uvicorn worker process runs."""
    return create_app()
