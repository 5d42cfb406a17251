"""Optimistic concurrency: ETags carry a row's version; If-Match must name the current one."""

from __future__ import annotations

from service.problems import ProblemError


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(if_match: str | None, current_version: int, *, required: bool) -> None:
    """412 when the client's copy is stale; 428 when an edit names no version at all.

    Without this, two browser tabs editing one post would silently overwrite each other.
    """
    if if_match is None or not if_match.strip():
        if required:
            raise ProblemError(
                428,
                "precondition-required",
                "If-Match required",
                "Send the post's ETag in an If-Match header, so that an edit made elsewhere "
                "is never overwritten silently.",
            )
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" in tags or etag(current_version) in tags:
        return
    raise ProblemError(
        412,
        "stale-version",
        "The resource changed",
        f"This was changed since you loaded it (now at version {current_version}); "
        "reload it and apply your change again.",
        current_version=current_version,
    )
