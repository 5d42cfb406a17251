"""PATCH fields that a client may leave out, but may not send as null.

Typed ``str | None`` such a field is documented as nullable, and a null then met a refusal the
schema did not announce. Typed plainly with a default the schema does not show, the document
says what the code does: leave it out and nothing changes, send null and get a 422 that names it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def omittable(**constraints: Any) -> Any:
    """``Field`` for such a field; read it only when it is in ``model_fields_set``."""
    return Field(default=None, json_schema_extra=_without_default, **constraints)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
