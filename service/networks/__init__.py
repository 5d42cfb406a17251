"""The networks Handpost publishes to, one rules module each, looked up by ``Network``."""

from __future__ import annotations

from service.networks import bluesky, facebook, linkedin, mastodon, other, threads, x, youtube
from service.networks.base import (
    AccountRef,
    Network,
    NetworkRules,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)

__all__ = [
    "RULES",
    "AccountRef",
    "Network",
    "NetworkRules",
    "OutgoingRequest",
    "PostContent",
    "SandboxResult",
    "Violation",
    "rules_for",
]

RULES: dict[Network, NetworkRules] = {
    module.RULES.network: module.RULES
    for module in (x, linkedin, facebook, youtube, mastodon, bluesky, threads, other)
}


def rules_for(network: Network | str) -> NetworkRules:
    """The rules for ``network``; ValueError names the known networks if it is unknown."""
    try:
        return RULES[Network(network)]
    except ValueError:
        known = ", ".join(RULES)
        raise ValueError(f"Handpost does not publish to {network!r}; it knows {known}.") from None
