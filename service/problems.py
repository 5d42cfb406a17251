"""RFC 9457 problem details: every error the API returns has this one shape.

A ``type`` is a stable URI per kind of problem (clients branch on it); ``title`` is the same
for every problem of that type; ``detail`` explains this occurrence in plain words.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.db import DatabaseBusy
from service.observability.logging import request_id_var

TYPE_BASE = "https://handpost.dev/problems/"
MEDIA_TYPE = "application/problem+json"
# A 422 lists at most this many field errors: 60,000 bad keys must not make a 5 MB answer.
MAX_LISTED_ERRORS = 20
# How long a client should wait before trying again when the service sheds load.
RETRY_AFTER_SECONDS = 1

log = logging.getLogger("handpost.errors")


class Problem(BaseModel):
    """The RFC 9457 body; extension members (e.g. ``errors``, ``conflicting_post``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem; nothing is committed."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}


def not_found(kind: str, object_id: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", f"No {kind} with id {object_id!r}.")


def invalid(detail: str, errors: list[dict[str, Any]] | None = None) -> ProblemError:
    """422 for input that is well-formed JSON but not acceptable."""
    return ProblemError(
        422, "validation-error", "The request is not valid", detail, errors=errors or []
    )


def problem_body(
    status: int, slug: str, title: str, detail: str, instance: str | None, **extensions: Any
) -> dict[str, Any]:
    """The problem document; the request id lets a user's report be matched to the logs."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    request_id = request_id_var.get()
    if request_id is not None:
        body["request_id"] = request_id
    return {**body, **extensions}


def problem_bytes(
    status: int, slug: str, title: str, detail: str, instance: str | None, **extensions: Any
) -> bytes:
    """``problem_body`` serialised, for the ASGI layers that answer without FastAPI."""
    return json.dumps(problem_body(status, slug, title, detail, instance, **extensions)).encode()


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = problem_body(status, slug, title, detail, request.url.path, **extensions)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def overloaded(detail: str) -> ProblemError:
    """503 with Retry-After: the service is shedding load, and the request changed nothing."""
    problem = ProblemError(503, "overloaded", "Service busy", detail)
    problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return _problem_of(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(
                request,
                400,
                "malformed-json",
                "Malformed JSON",
                "The request body is not valid JSON.",
            )
        found = exc.errors()
        errors = [
            {
                "field": _field_path(e.get("loc", ())),
                "code": e.get("type", "invalid"),
                "message": e.get("msg", "invalid value"),
            }
            for e in found[:MAX_LISTED_ERRORS]
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        if len(found) > len(errors):
            summary += f" (and {len(found) - len(errors)} more)"
        return problem_response(
            request, 422, "validation-error", "The request is not valid", summary, errors=errors
        )

    @app.exception_handler(sa_exc.TimeoutError)
    async def _pool_exhausted(request: Request, exc: sa_exc.TimeoutError) -> JSONResponse:
        # Every database connection was busy for the pool timeout: shed, don't hang.
        log.warning("no database connection free in time: %s %s", request.method, request.url.path)
        return _problem_of(request, _busy("every database connection is in use"))

    @app.exception_handler(DatabaseBusy)
    async def _database_busy(request: Request, exc: DatabaseBusy) -> JSONResponse:
        log.warning("the database stayed busy: %s", exc)
        return _problem_of(request, _busy(str(exc)))

    @app.exception_handler(sa_exc.OperationalError)
    async def _database_unavailable(request: Request, exc: sa_exc.OperationalError) -> JSONResponse:
        if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
            return _problem_of(request, _busy("the database is locked by another writer"))
        log.error("the database is unavailable: %s", type(exc.orig).__name__)
        problem = ProblemError(
            503,
            "database-unavailable",
            "Database unavailable",
            "The service cannot reach its database right now; nothing was changed. "
            "Try again shortly.",
        )
        problem.headers["Retry-After"] = "5"
        return _problem_of(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        slug = {404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, phrase.lower().replace(" ", "-")
        )
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; list them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return problem_response(request, exc.status_code, slug, phrase, detail, headers=headers)


def _busy(reason: str) -> ProblemError:
    return overloaded(f"The service is busy ({reason}); nothing was changed. Try again shortly.")


def _problem_of(request: Request, problem: ProblemError) -> JSONResponse:
    return problem_response(
        request,
        problem.status,
        problem.slug,
        problem.title,
        problem.detail,
        problem.headers,
        **problem.extensions,
    )


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {})
    if path in paths:  # a literal route such as /posts/preview beats /posts/{post_id}
        return sorted(m.upper() for m in paths[path])
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m in operations}
    return sorted(methods)


def document_common_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare, on every API operation, the problems any request can get.

    Written once here instead of on each route: a malformed body (400), a missing token
    (401), a body over the limit (413), invalid input (422), too many headers (431), an
    unexpected error (500) and shed load (503) are possible everywhere.
    """
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    common = {
        "400": "Malformed request body",
        "401": "Missing, expired or revoked token",
        "413": "Request body too large",
        "422": "Invalid input",
        "431": "Too many request headers",
        "500": "An unexpected error (the problem names the request id)",
        "503": "The service is busy; try again after Retry-After",
    }
    for path, operations in openapi.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in common.items():
                if status == "401" and path == "/api/v1/auth/login":
                    description = "Wrong username or password"
                responses[status] = {
                    "description": responses.get(status, {}).get("description", description)
                    if status != "422"
                    else description,
                    "content": {MEDIA_TYPE: {"schema": problem_ref}},
                }
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" in response:
                    response["content"] = {MEDIA_TYPE: {"schema": problem_ref}}
    return openapi


# For the OpenAPI document: the responses every endpoint may give.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid input", "content": {MEDIA_TYPE: {}}},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses = dict(PROBLEM_RESPONSES)
    for status in statuses:
        responses[status] = {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {}},
        }
    return responses
