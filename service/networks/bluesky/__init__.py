"""Bluesky (AT Protocol): 300 graphemes and 3,000 bytes; links, mentions and tags faceted."""

from service.networks.bluesky.publish import ADAPTER
from service.networks.bluesky.rules import RULES, link_facets, record_facets, rkey_for

__all__ = ["ADAPTER", "RULES", "link_facets", "record_facets", "rkey_for"]
