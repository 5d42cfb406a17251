"""A Mastodon instance's own limits, from ``GET /api/v2/instance``.

Instances choose their own character limit (500 upstream; 1,000 or 5,000 elsewhere), how many
characters a link reserves and how many attachments a status takes. The instance is an address
the user gave, so it is asked through the outbound gate (service/outbound.py): no private
addresses unless allowed, no redirects, a bounded time and size.
"""

from __future__ import annotations

from typing import Any

import httpx

from service import outbound
from service.networks.base import ServerLimits

MAX_INSTANCE_BYTES = 1_000_000
INSTANCE_TIMEOUT_SECONDS = 10.0


class LimitsUnavailable(Exception):
    """The instance's limits could not be read; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _count(section: Any, name: str) -> int | None:
    value = section.get(name) if isinstance(section, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        return None
    return value


def parse_instance(body: Any) -> ServerLimits:
    """The limits in an Instance entity (v2); LimitsUnavailable if it is not one."""
    configuration = body.get("configuration") if isinstance(body, dict) else None
    if not isinstance(configuration, dict):
        raise LimitsUnavailable("its answer is not a Mastodon instance description")
    statuses = configuration.get("statuses")
    media = configuration.get("media_attachments")
    max_characters = _count(statuses, "max_characters")
    if max_characters is not None and max_characters < 1:
        max_characters = None
    return ServerLimits(
        max_characters=max_characters,
        characters_reserved_per_url=_count(statuses, "characters_reserved_per_url"),
        max_media_attachments=_count(statuses, "max_media_attachments"),
        media=_media_section(media),
    )


def _media_section(media: Any) -> dict[str, Any]:
    """The media section's known fields, with the types Mastodon gives them."""
    if not isinstance(media, dict):
        return {}
    kept: dict[str, Any] = {}
    for name in (
        "image_size_limit",
        "image_matrix_limit",
        "video_size_limit",
        "video_frame_rate_limit",
        "video_matrix_limit",
        "description_limit",
    ):
        if (value := _count(media, name)) is not None:
            kept[name] = value
    types = media.get("supported_mime_types")
    if isinstance(types, list):
        kept["supported_mime_types"] = [t for t in types[:200] if isinstance(t, str)][:200]
    return kept


async def fetch_limits(
    client: httpx.AsyncClient, policy: outbound.OutboundPolicy, base_url: str
) -> ServerLimits:
    """Ask the instance at ``base_url``; LimitsUnavailable says why that failed."""
    url = f"{base_url.rstrip('/')}/api/v2/instance"
    try:
        response = await outbound.send(
            client,
            policy,
            "GET",
            url,
            headers={"Accept": "application/json"},
            timeout=INSTANCE_TIMEOUT_SECONDS,
        )
    except outbound.OutboundRefused as refused:
        raise LimitsUnavailable(refused.reason) from None
    except httpx.HTTPError as exc:
        raise LimitsUnavailable(f"it could not be reached ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise LimitsUnavailable(f"it answered HTTP {response.status_code}")
    if len(response.content) > MAX_INSTANCE_BYTES:
        raise LimitsUnavailable("its answer is too large for an instance description")
    try:
        body = response.json()
    except ValueError:
        raise LimitsUnavailable("its answer is not JSON") from None
    return parse_instance(body)
