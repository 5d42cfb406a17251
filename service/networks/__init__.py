"""The networks Handpost publishes to, each behind one interface, looked up by ``Network``.

A network is a package (``service.networks.x``...) holding everything Handpost does with it:
its rules (counting, validating, the sandbox's request), its media rules, its connect logic
(``connect``: signing in, renewing tokens) and its live adapter (publishing, reconciling).
``NetworkAdapter`` gathers them, so the rest of the service asks one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from service.networks import (
    bluesky,
    facebook,
    ghost,
    linkedin,
    mastodon,
    other,
    threads,
    wordpress,
    x,
    youtube,
)
from service.networks._connect import Connector
from service.networks._http import LiveAdapter
from service.networks.base import (
    AccountRef,
    Network,
    NetworkRules,
    OutgoingRequest,
    PostContent,
    SandboxResult,
    Violation,
)
from service.networks.bluesky import connect as bluesky_connect
from service.networks.facebook import connect as facebook_connect
from service.networks.ghost import connect as ghost_connect
from service.networks.linkedin import connect as linkedin_connect
from service.networks.mastodon import connect as mastodon_connect
from service.networks.media_rules import MediaLimits
from service.networks.threads import connect as threads_connect
from service.networks.wordpress import connect as wordpress_connect
from service.networks.x import connect as x_connect
from service.networks.youtube import connect as youtube_connect

__all__ = [
    "ADAPTERS",
    "CONNECTORS",
    "MEDIA_LIMITS",
    "RULES",
    "AccountRef",
    "MediaLimits",
    "Network",
    "NetworkAdapter",
    "NetworkRules",
    "OutgoingRequest",
    "PostContent",
    "SandboxResult",
    "Violation",
    "adapter_for",
    "connector_for",
    "media_limits_for",
    "publishes_media",
    "rules_for",
]


@dataclass(frozen=True)
class NetworkAdapter:
    """Everything Handpost does with one network.

    ``live`` is None where Handpost cannot publish by API yet (such posts stay in the sandbox);
    ``connector`` is None where there is nothing to connect (a network published by hand).
    """

    rules: NetworkRules
    media: MediaLimits
    connector: Connector | None
    live: LiveAdapter | None

    @property
    def network(self) -> Network:
        return self.rules.network


def _adapter(package: ModuleType, connect: ModuleType | None) -> NetworkAdapter:
    return NetworkAdapter(
        rules=package.RULES,
        media=package.MEDIA_LIMITS,
        connector=connect.CONNECTOR if connect is not None else None,
        live=getattr(package, "ADAPTER", None),
    )


ADAPTERS: dict[Network, NetworkAdapter] = {
    adapter.network: adapter
    for adapter in (
        _adapter(x, x_connect),
        _adapter(linkedin, linkedin_connect),
        _adapter(facebook, facebook_connect),
        _adapter(youtube, youtube_connect),
        _adapter(mastodon, mastodon_connect),
        _adapter(bluesky, bluesky_connect),
        _adapter(threads, threads_connect),
        _adapter(wordpress, wordpress_connect),
        _adapter(ghost, ghost_connect),
        _adapter(other, None),
    )
}
RULES: dict[Network, NetworkRules] = {n: a.rules for n, a in ADAPTERS.items()}
MEDIA_LIMITS: dict[Network, MediaLimits] = {n: a.media for n, a in ADAPTERS.items()}
CONNECTORS: dict[Network, Connector] = {
    n: a.connector for n, a in ADAPTERS.items() if a.connector is not None
}


def adapter_for(network: Network | str) -> NetworkAdapter:
    """The adapter for ``network``; ValueError names the known networks if it is unknown."""
    try:
        return ADAPTERS[Network(network)]
    except ValueError:
        known = ", ".join(ADAPTERS)
        raise ValueError(f"Handpost does not publish to {network!r}; it knows {known}.") from None


def rules_for(network: Network | str) -> NetworkRules:
    return adapter_for(network).rules


def media_limits_for(network: Network | str) -> MediaLimits:
    """The media rules ``network`` publishes under (Mastodon: upstream's defaults)."""
    return adapter_for(network).media


def connector_for(network: Network | str) -> Connector:
    connector = adapter_for(network).connector
    if connector is None:
        raise ValueError(f"Nothing connects to {network!r}: its accounts are published by hand.")
    return connector


def publishes_media(network: Network | str, kind: str | None = None) -> bool:
    """Whether Handpost sends media (of ``kind``, "image" or "video", if given) to
    ``network`` live: its live adapter says so (``LiveAdapter.publishes_media`` and
    ``media_kinds``); a network without a live adapter does not."""
    adapter = adapter_for(network)
    live = adapter.live
    if live is None:
        return False
    if adapter.rules.publishes_media:  # the adapter uploads them in its create (blogs)
        return True
    if not live.publishes_media:
        return False
    return kind is None or kind in live.media_kinds
