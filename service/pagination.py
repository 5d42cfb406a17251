"""Opaque keyset cursors: stable pages however many rows are added meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from service.problems import ProblemError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> list[Any]:
    """The key a cursor holds; a cursor from another listing or a mangled one is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data["v"], list):
            raise ValueError(cursor)
        return list(data["v"])
    except (ValueError, binascii.Error, UnicodeDecodeError, KeyError) as exc:
        raise ProblemError(
            422,
            "invalid-cursor",
            "Invalid cursor",
            "The cursor is not one this listing returned; start again without a cursor.",
        ) from exc


def keyset_page(
    rows: list[T], limit: int, kind: str, key: Callable[[T], list[Any]]
) -> tuple[list[T], str | None]:
    """``rows`` fetched as ``limit + 1``: the page, and the cursor of the next one (None on
    the last), made of ``key(last row)``."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(kind, key(rows[-1]))
