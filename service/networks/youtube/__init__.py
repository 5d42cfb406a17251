"""YouTube: a video with its title, description, tags and category, uploaded resumably."""

from service.networks.youtube.publish import ADAPTER
from service.networks.youtube.rules import MEDIA_LIMITS, RULES

__all__ = ["ADAPTER", "MEDIA_LIMITS", "RULES"]
