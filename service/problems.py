"""RFC 9457 problem details: every error the API returns has this one shape.

A ``type`` is a stable URI per kind of problem (clients branch on it); ``title`` is the same
for every problem of that type; ``detail`` explains this occurrence in plain words.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

TYPE_BASE = "https://handpost.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """The RFC 9457 body; extension members (e.g. ``errors``, ``conflicting_post``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


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


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.slug, exc.title, exc.detail, exc.headers, **exc.extensions
        )

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
        errors = [
            {
                "field": _field_path(e.get("loc", ())),
                "code": e.get("type", "invalid"),
                "message": e.get("msg", "invalid value"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(
            request, 422, "validation-error", "The request is not valid", summary, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        slug = {404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, phrase.lower().replace(" ", "-")
        )
        return problem_response(
            request, exc.status_code, slug, phrase, detail, headers=getattr(exc, "headers", None)
        )


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
