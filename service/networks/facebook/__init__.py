"""Facebook Pages (Graph API): 63,206 characters; the link travels in its own field."""

from service.networks.facebook.publish import ADAPTER
from service.networks.facebook.rules import GRAPH_VERSION, MEDIA_LIMITS, RULES

__all__ = ["ADAPTER", "GRAPH_VERSION", "MEDIA_LIMITS", "RULES"]
