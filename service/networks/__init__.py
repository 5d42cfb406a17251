"""The networks Handpost publishes to, one rules module each, looked up by ``Network``."""

from __future__ import annotations

from service.networks import bluesky, facebook, linkedin, mastodon, threads, x, youtube
from service.networks.base import (
    AccountRef,
    Network,
    NetworkRules,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.media_rules import MediaLimits

__all__ = [
    "MEDIA_LIMITS",
    "RULES",
    "AccountRef",
    "MediaLimits",
    "Network",
    "NetworkRules",
    "OutgoingRequest",
    "PostContent",
    "SandboxResult",
    "Violation",
    "media_limits_for",
    "publishes_media",
    "rules_for",
]

_MODULES = (x, linkedin, facebook, youtube, mastodon, bluesky, threads)

RULES: dict[Network, NetworkRules] = {module.RULES.network: module.RULES for module in _MODULES}


def rules_for(network: Network | str) -> NetworkRules:
    """The rules for ``network``; ValueError names the known networks if it is unknown."""
    try:
        return RULES[Network(network)]
    except ValueError:
        known = ", ".join(RULES)
        raise ValueError(f"Handpost does not publish to {network!r}; it knows {known}.") from None


# Each network's media rules, declared in its module beside its text limits.
MEDIA_LIMITS: dict[Network, MediaLimits] = {
    module.RULES.network: module.MEDIA_LIMITS for module in _MODULES
}


def media_limits_for(network: Network | str) -> MediaLimits:
    """The media rules ``network`` publishes under (Mastodon: upstream's defaults)."""
    return MEDIA_LIMITS[Network(network)]


def publishes_media(network: Network | str) -> bool:
    """Whether Handpost sends media to ``network`` live: its adapter says so
    (``LiveAdapter.publishes_media``); a network without a live adapter does not."""
    module = {m.RULES.network: m for m in _MODULES}[Network(network)]
    adapter = getattr(module, "ADAPTER", None)
    return bool(adapter is not None and adapter.publishes_media)
