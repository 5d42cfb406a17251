"""Per-request id, access log line and HTTP metrics, as one pure ASGI middleware.

Pure ASGI rather than ``BaseHTTPMiddleware``: it does not buffer or re-wrap the response, and
the contextvar it sets is seen by the endpoint (the request id reaches every log line).

The access line and the metrics name the route's template (``/api/v1/posts/{post_id}``),
never the raw path or its query string: both may carry secrets, and raw paths would make the
metrics' label sets grow without bound.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http_guards import send_problem
from service.observability.logging import request_id_var
from service.observability.metrics import UNMATCHED_ROUTE, Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING = REQUEST_ID_HEADER.lower().encode("latin-1")
# An id from a proxy or a client is kept only if it cannot forge or break a log line.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Probes and scrapes come every few seconds: their access lines are DEBUG, not INFO.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = logging.getLogger("handpost.access")
error_log = logging.getLogger("handpost.errors")


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's path template, or ``unmatched`` (404s, before routing).

    FastAPI puts its own routes in ``scope["route"]``. A mount (``/static``) extends
    ``root_path`` by its prefix, so it reads ``/static/{path}``. Plain Starlette routes
    (``/docs``, ``/openapi.json``) leave only their ``endpoint``, looked up in the app's routes.
    """
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str) and template:
        return template
    mounted = str(scope.get("root_path", ""))
    if mounted != root_path and mounted.startswith(root_path):
        return f"{mounted[len(root_path) :]}/{{path}}"
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        for route in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
            found = getattr(route, "path_format", None)
            if getattr(route, "endpoint", None) is endpoint and isinstance(found, str):
                return found
    return UNMATCHED_ROUTE


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _INCOMING:
            candidate = value.decode("latin-1")
            return candidate if VALID_REQUEST_ID.fullmatch(candidate) else None
    return None


class RequestContextMiddleware:
    """Assigns ``X-Request-ID``, logs one access line, and counts the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500  # what the client gets if the app raises before responding
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        started_response = False

        async def tracking_send(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # Whatever went wrong, the client gets a problem it can quote (with the request
            # id), never a bare "Internal Server Error" in plain text; the log has the trace.
            error_log.exception("unhandled error serving %s %s", scope.get("method"), scope["path"])
            if not started_response:
                await send_problem(
                    send_with_id,
                    scope,
                    500,
                    "internal-error",
                    "Internal error",
                    f"Something went wrong on our side; nothing is known to have changed. "
                    f"Quote request id {request_id} when reporting it.",
                )
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, root_path)
            self._finish(scope, route, status, seconds, request_id)
            request_id_var.reset(token)

    def _finish(
        self, scope: Scope, route: str, status: int, seconds: float, request_id: str
    ) -> None:
        method = str(scope.get("method", ""))
        try:
            if self.metrics is not None:
                self.metrics.observe_request(method, route, status, seconds)
        except Exception:
            access_log.warning("could not record request metrics", exc_info=True)
        duration_ms = round(seconds * 1000, 2)
        client = scope.get("client")
        user_id = (scope.get("state") or {}).get("user_id")
        access_log.log(
            logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
            "%s %s %s %.1fms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": request_id,
                "client": client[0] if client else None,
                "user_id": user_id,
            },
        )
