"""Mastodon: counted as Mastodon counts, against the instance's own limits."""

from service.networks.mastodon.counting import status_length
from service.networks.mastodon.publish import ADAPTER
from service.networks.mastodon.rules import MEDIA_LIMITS, RULES

__all__ = ["ADAPTER", "MEDIA_LIMITS", "RULES", "status_length"]
