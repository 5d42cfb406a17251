"""The tus 1.0 resumable upload protocol's headers (https://tus.io/protocols/resumable-upload).

Core protocol plus the creation, creation-with-upload and termination extensions: a client
creates an upload with its length (POST), sends bytes with PATCH at ``Upload-Offset``, asks
where it stands with HEAD after a dropped connection, and may give up with DELETE.
"""

from __future__ import annotations

import base64
import binascii
import re

from service.problems import ProblemError

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
RESUMABLE = "Tus-Resumable"
# For CORS: what a browser on another origin may send and read.
TUS_REQUEST_HEADERS = ("Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata")
TUS_RESPONSE_HEADERS = (
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Max-Size",
    "Upload-Offset",
    "Upload-Length",
)
# Upload-Metadata: at most this many pairs, and this long in all.
MAX_METADATA_PAIRS = 16
MAX_METADATA_LENGTH = 8192
_KEY = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,64}$")  # printable ASCII, no spaces or commas


def problem(status: int, slug: str, title: str, detail: str) -> ProblemError:
    refusal = ProblemError(status, slug, title, detail)
    refusal.headers[RESUMABLE] = VERSION
    return refusal


def require_version(value: str | None) -> None:
    """Every tus request but OPTIONS names the protocol version it speaks."""
    if value != VERSION:
        refusal = problem(
            412,
            "tus-version",
            "Unsupported tus version",
            f"Send Tus-Resumable: {VERSION}; it is the version this server speaks.",
        )
        refusal.headers["Tus-Version"] = VERSION
        raise refusal


def parse_length(value: str | None, name: str) -> int:
    if value is None or not value.isdigit() or len(value) > 19:
        raise problem(
            400,
            "invalid-upload-header",
            f"Invalid {name}",
            f"{name} must be a non-negative whole number of bytes.",
        )
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str]:
    """``key base64value`` pairs, comma-separated; values decoded as UTF-8."""
    if not value:
        return {}
    if len(value) > MAX_METADATA_LENGTH:
        raise problem(400, "invalid-upload-header", "Invalid Upload-Metadata", "Too long.")
    pairs = value.split(",")
    if len(pairs) > MAX_METADATA_PAIRS:
        raise problem(400, "invalid-upload-header", "Invalid Upload-Metadata", "Too many keys.")
    found: dict[str, str] = {}
    for pair in pairs:
        key, _, encoded = pair.strip().partition(" ")
        if not _KEY.match(key) or key in found:
            raise problem(
                400,
                "invalid-upload-header",
                "Invalid Upload-Metadata",
                "Each pair is a unique key (printable ASCII) and a base64 value.",
            )
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise problem(
                400,
                "invalid-upload-header",
                "Invalid Upload-Metadata",
                f"The value of {key!r} is not base64 of UTF-8 text.",
            ) from None
    return found


def common_headers(offset: int | None = None, length: int | None = None) -> dict[str, str]:
    headers = {RESUMABLE: VERSION, "Cache-Control": "no-store"}
    if offset is not None:
        headers["Upload-Offset"] = str(offset)
    if length is not None:
        headers["Upload-Length"] = str(length)
    return headers
