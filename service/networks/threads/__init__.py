"""Threads (Meta): 500 characters where an emoji costs its UTF-8 size; at most 5 links."""

from service.networks.threads.publish import ADAPTER
from service.networks.threads.rules import API_VERSION, MEDIA_LIMITS, RULES, threads_length

__all__ = ["ADAPTER", "API_VERSION", "MEDIA_LIMITS", "RULES", "threads_length"]
