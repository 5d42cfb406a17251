"""Each network's connect logic, one module per network behind ``Connector``."""

from __future__ import annotations

from service.connect.networks import bluesky, facebook, linkedin, mastodon, threads, x, youtube
from service.connect.networks.base import Connector
from service.networks.base import Network

CONNECTORS: dict[Network, Connector] = {
    module.CONNECTOR.network: module.CONNECTOR
    for module in (x, linkedin, facebook, threads, youtube, mastodon, bluesky)
}


def connector_for(network: Network | str) -> Connector:
    return CONNECTORS[Network(network)]
