"""WordPress: the site's own "authorise application" page hands Handpost an application password.

make.wordpress.org/core/2020/11/05/application-passwords-integration-guide: ``GET {site}/wp-json/``
names the page under ``authentication.application-passwords.endpoints.authorization``
(absent: application passwords are off, or WordPress is older than 5.6). The person approves
Handpost there; WordPress redirects the browser to ``success_url`` with ``site_url``,
``user_login`` and ``password`` added (or to ``reject_url`` when they refuse). The names of a
user's application passwords must be unique, so each connection asks for its own name. Over
plain http WordPress accepts this only on a site whose environment type is ``local``. Nothing
expires: the person revokes the password on their profile page, and the next post says so.
Every call goes to the address the person typed, so through the SSRF gate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from service.networks import wordpress
from service.networks._connect import (
    AuthorizationRequest,
    Connected,
    ConnectError,
    Connector,
    Identity,
    call,
    refusal,
)
from service.networks._http import Api, NetworkError, ReconnectNeeded
from service.networks.base import AccountRef, FailureKind, Network
from service.networks.mastodon.connect import normalise_instance

APP_NAME = "Handpost"


def normalise_site(value: str) -> str:
    """``https://host[:port][/path]`` for what a person typed ("blog.example.com", a URL)."""
    try:
        return normalise_instance(value)
    except ValueError:
        raise ValueError("give your site's address, such as blog.example.com") from None


def app_name(state: str) -> str:
    """A name of its own for each connection: WordPress refuses a user's duplicate names.
    (A digest of the state, which the name must not reveal.)"""
    return f"{APP_NAME} ({hashlib.sha256(state.encode()).hexdigest()[:8]})"


class WordPressConnector(Connector):
    network = Network.WORDPRESS
    display_name = "WordPress"
    kind = "site"
    hosts: ClassVar[dict[str, str]] = {}
    pkce = False
    adapter = wordpress.ADAPTER
    notes = (
        "Type your site's address; WordPress asks you to approve Handpost and hands it an "
        "application password, with nothing to copy. The site must be served over https."
    )

    async def authorization_page(self, api: Api, site: str) -> str:
        """Where this site lets a person approve an application."""
        response, body = await call(api, "GET", f"{site}/wp-json/", {}, what=f"Reaching {site}")
        if not response.is_success:
            raise refusal(site, "describing its REST API", response)
        authentication = body.get("authentication")
        passwords = (
            authentication.get("application-passwords")
            if isinstance(authentication, dict)
            else None
        )
        endpoints = passwords.get("endpoints") if isinstance(passwords, dict) else None
        page = endpoints.get("authorization") if isinstance(endpoints, dict) else None
        if not isinstance(page, str) or not page.startswith(("https://", "http://")):
            raise ConnectError(
                f"{site} does not offer application passwords: it is not WordPress 5.6 or "
                "newer, or they are turned off (a security plugin, or a site served over "
                "plain http that is not a local one)."
            )
        return page

    def authorize_url(self, request: AuthorizationRequest) -> str:
        back = f"{request.redirect_uri}?state={request.state}"
        return request.endpoints.url(
            "authorize",
            "",
            app_name=app_name(request.state),
            success_url=back,
            reject_url=f"{back}&error=access_denied",
        )

    async def accept(self, api: Api, site: str, query: Mapping[str, str]) -> Connected:
        """The password WordPress sent back, checked against the site it was asked of."""
        user_login = (query.get("user_login") or "").strip()
        password = (query.get("password") or "").strip()
        if not user_login or not password or len(password) > 256 or len(user_login) > 255:
            raise ConnectError("WordPress sent no application password back.")
        try:
            answered = normalise_site(query.get("site_url") or "")
        except ValueError:
            answered = ""
        if site_key(answered) != site_key(site):
            raise ConnectError(
                f"The answer came for another site ({answered or 'none named'}), not {site}; "
                "nothing was connected."
            )
        credentials = {"username": user_login, "application_password": password}
        account = AccountRef(id="", handle=user_login, base_url=site)
        try:
            me = await wordpress.ADAPTER.whoami(api, account, credentials)
        except ReconnectNeeded as refused:
            raise ConnectError(refused.message) from None
        except NetworkError as error:
            raise ConnectError(error.message, retry=error.kind is FailureKind.RETRYABLE) from None
        host = site_key(site)
        return Connected(
            identity=Identity(
                # User ids are per site: the site makes the id unique.
                external_id=f"{me['id']}@{host}",
                handle=f"{me.get('username') or user_login}@{host}",
                display_name=str(me.get("name") or "") or None,
            ),
            credentials=credentials,
            base_url=site,
        )


def site_key(site: str) -> str:
    """A site as compared: host (lower case), port and path, whatever the scheme."""
    parts = urlsplit(site)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


CONNECTOR = WordPressConnector()
