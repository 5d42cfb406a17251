"""The error shape of Google APIs (developers.google.com/youtube/v3/docs/errors), shared by
the emulated OAuth server and the emulated YouTube Data API."""

from __future__ import annotations

from typing import Any


def google_error(
    code: int, message: str, reason: str, status: str, domain: str = "global"
) -> dict[str, Any]:
    """``{"error": {code, message, errors: [{message, domain, reason}], status}}``."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status,
        }
    }


UNAUTHENTICATED = google_error(
    401,
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
    "authError",
    "UNAUTHENTICATED",
)
INSUFFICIENT = google_error(
    403,
    "Request had insufficient authentication scopes.",
    "insufficientPermissions",
    "PERMISSION_DENIED",
)
