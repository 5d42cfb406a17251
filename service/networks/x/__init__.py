"""X (Twitter): 280 weighted characters as twitter-text counts them, the link in the text."""

from service.networks.x.counting import parse_tweet, weighted_length
from service.networks.x.publish import ADAPTER
from service.networks.x.rules import MEDIA_LIMITS, RULES

__all__ = ["ADAPTER", "MEDIA_LIMITS", "RULES", "parse_tweet", "weighted_length"]
