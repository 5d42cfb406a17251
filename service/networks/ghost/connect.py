"""Ghost: the site's address and a custom integration's Admin API key, checked on the site.

Ghost has no authorisation page for outside apps (docs.ghost.org/admin-api/#authentication):
the owner adds a custom integration (Settings → Integrations) and copies its Admin API key,
``id:secret``, once. Handpost signs a short token with it and reads the posts list to prove
the key works there, then keeps the key (tokens are made per call and never stored). The
identity is the site itself: a new integration's key reconnects the same account.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from service.networks import ghost
from service.networks._connect import Connected, ConnectError, Connector, Identity
from service.networks._http import Api, NetworkError, ReconnectNeeded
from service.networks.base import AccountRef, FailureKind, Network
from service.networks.wordpress.connect import site_key


class GhostConnector(Connector):
    network = Network.GHOST
    display_name = "Ghost"
    kind = "admin_key"
    hosts: ClassVar[dict[str, str]] = {}
    pkce = False
    adapter = ghost.ADAPTER
    notes = (
        "Type your site's address and paste the Admin API key of a custom integration "
        "(Ghost: Settings → Integrations → Add custom integration)."
    )

    async def check(self, api: Api, site: str, admin_api_key: str) -> Connected:
        credentials = {"admin_api_key": admin_api_key.strip()}
        host = urlsplit(site).netloc
        try:
            title = await ghost.ADAPTER.verify(
                api, AccountRef(id="", handle=host, base_url=site), credentials
            )
        except ReconnectNeeded as refused:
            raise ConnectError(refused.message) from None
        except NetworkError as error:
            raise ConnectError(error.message, retry=error.kind is FailureKind.RETRYABLE) from None
        return Connected(
            identity=Identity(
                external_id=site_key(site), handle=site_key(site), display_name=title
            ),
            credentials=credentials,
            base_url=site,
        )


CONNECTOR = GhostConnector()
