"""What the OpenAPI document says beyond FastAPI's defaults, so that clients generated from it
read well and know the whole contract: operation ids and response headers."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """The endpoint function's own name, a verb on a resource (``list_posts``), instead of
    FastAPI's ``list_posts_api_v1_posts_get``; FastAPI warns if two are the same."""
    return route.name


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """The headers answers every operation may give carry: the challenge of a 401 where the
    bearer token is taken (the scheme itself is declared by service.users.auth.BEARER), and
    Retry-After on every 429 and 503."""
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            responses = operation["responses"]
            if operation.get("security"):
                responses.setdefault("401", {"description": ""})["headers"] = WWW_AUTHENTICATE
            for status in ("429", "503"):
                if status in responses and "content" in responses[status]:
                    responses[status]["headers"] = RETRY_AFTER
    return openapi


# -- response headers ------------------------------------------------------------------------

ETAG = {
    "ETag": {
        "description": "The resource's version; send it back in If-Match to change it.",
        "required": True,
        "schema": {"type": "string", "example": '"3"'},
    }
}
LOCATION = {
    "Location": {
        "description": "Where the new resource lives.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "How to authenticate: `Bearer`.",
        "required": True,
        "schema": {"type": "string", "example": 'Bearer realm="handpost"'},
    }
}

Responses = dict[int | str, dict[str, Any]]


def with_headers(responses: Responses, status: int, *declared: dict[str, Any]) -> Responses:
    """A route's ``responses``, adding the headers its ``status`` answer carries."""
    entry = dict(responses.get(status, {}))
    entry["headers"] = {name: spec for header in declared for name, spec in header.items()}
    return {**responses, status: entry}
