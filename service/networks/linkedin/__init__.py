"""LinkedIn (Posts API): 3,000 characters of "little" text; a link becomes an article card."""

from service.networks.linkedin.publish import ADAPTER, author_urn, post_url
from service.networks.linkedin.rules import (
    LINKEDIN_VERSION,
    MEDIA_LIMITS,
    RULES,
    escape_little_text,
)

__all__ = [
    "ADAPTER",
    "LINKEDIN_VERSION",
    "MEDIA_LIMITS",
    "RULES",
    "author_urn",
    "escape_little_text",
    "post_url",
]
