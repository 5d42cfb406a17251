"""The checked-in openapi.yaml, as tests hold responses to it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


def operation_for(method: str, path: str) -> dict[str, Any] | None:
    """The documented operation a request reached (a literal path beats a template)."""
    paths: dict[str, dict[str, Any]] = spec()["paths"]
    if path in paths:
        return paths[path].get(method.lower())
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    return None


def assert_documented(response: Any) -> None:
    """The answer's status is one its operation documents, with the headers it declares."""
    request = response.request
    operation = operation_for(request.method, request.url.path)
    if operation is None:
        return  # a path the API does not have: a 404 or 405 for any URL
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, (
        f"{request.method} {request.url.path} answered {response.status_code}, which "
        f"openapi.yaml does not document (it has {sorted(operation['responses'])})"
    )
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{name} is declared but was not sent"
