"""Calling a blog with its credentials before they are saved.

A blog lives at an address the person gives, so a typo in the address, a user name or a key
would otherwise show only when the first post fails, perhaps weeks later. The call goes
through the outbound gate like every call to that site.
"""

from __future__ import annotations

import anyio.from_thread
import httpx

from service.accounts.credentials import check_credentials
from service.config import Settings
from service.networks import adapter_for, rules_for
from service.networks._blog import BlogAdapter
from service.networks._http import Api, NetworkError, ReconnectNeeded
from service.networks.base import AccountRef, Network
from service.problems import invalid


def require_site_url(network: Network | str, base_url: str | None) -> None:
    """A blog account cannot exist without its site's address."""
    rules = rules_for(network)
    if rules.needs_site_url and not base_url:
        message = f"A {rules.display_name} account needs its site's address in base_url."
        raise invalid(message, [{"field": "base_url", "code": "required", "message": message}])


def verify_in_thread(
    settings: Settings,
    network: Network | str,
    base_url: str | None,
    handle: str,
    credentials: dict[str, str] | None,
) -> None:
    """``verify`` for a synchronous endpoint (run in a worker thread of the event loop)."""
    if credentials is None or not isinstance(adapter_for(network).live, BlogAdapter):
        return
    anyio.from_thread.run(verify, settings, network, base_url, handle, credentials)


async def verify(
    settings: Settings,
    network: Network | str,
    base_url: str | None,
    handle: str,
    credentials: dict[str, str],
) -> None:
    """Call the blog with ``credentials``; a 422 problem saying what went wrong if it fails."""
    adapter = adapter_for(network).live
    if not isinstance(adapter, BlogAdapter):
        return
    require_site_url(network, base_url)
    check_credentials(Network(network), credentials)
    cleaned = {key: value.strip() for key, value in credentials.items()}
    account = AccountRef(id="", handle=handle, base_url=base_url)
    timeout = httpx.Timeout(settings.http_read_timeout, connect=settings.http_connect_timeout)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        api = Api(client, adapter.display_name, outbound=settings.outbound)
        try:
            await adapter.verify(api, account, cleaned)
        except ReconnectNeeded as refused:
            raise _problem("credentials", "refused", refused.message) from None
        except NetworkError as failed:
            raise _problem("base_url", "unreachable", failed.message) from None


def _problem(field: str, code: str, message: str) -> Exception:
    return invalid(
        f"The site did not accept the account: {message} Nothing was saved.",
        [{"field": field, "code": code, "message": message}],
    )
