"""Bluesky (AT Protocol): 300 graphemes and 3,000 bytes; links, mentions and tags faceted."""

from service.networks.bluesky.publish import ADAPTER, jwt_expiry
from service.networks.bluesky.rules import MEDIA_LIMITS, RULES, link_facets, record_facets, rkey_for

__all__ = [
    "ADAPTER",
    "MEDIA_LIMITS",
    "RULES",
    "jwt_expiry",
    "link_facets",
    "record_facets",
    "rkey_for",
]
