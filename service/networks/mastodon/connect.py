"""Mastodon: Handpost registers itself on the person's instance once, then the code flow.

docs.joinmastodon.org, methods/apps.md and methods/oauth.md: ``POST /api/v1/apps`` gives a
client id and secret per instance; ``GET /oauth/authorize`` shows the consent form;
``POST /oauth/token`` exchanges the code (the ``scope`` must equal the one asked for).
Since 4.3 an instance describes itself at ``/.well-known/oauth-authorization-server``
(scopes, PKCE methods); older ones answer 404 there and get ``read:accounts`` and no PKCE.
Tokens never expire; ``GET /api/v1/accounts/verify_credentials`` names the account.
Every call goes to a host the person typed, so through the SSRF gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from service.networks import mastodon
from service.networks._connect import (
    BEARER,
    AuthorizationRequest,
    CodeExchange,
    Connected,
    Connector,
    Identity,
    call,
    check_scopes,
    fetch,
    granted_scopes,
    refusal,
    secret,
)
from service.networks._http import Api
from service.networks.base import Network

CLIENT_NAME = "Handpost"
WEBSITE = "https://handpost.dev"
# `profile` (4.3+) reads only the account itself; older instances need read:accounts.
SCOPES_MODERN = ("write:statuses", "write:media", "profile")
SCOPES_OLDER = ("write:statuses", "write:media", "read:accounts")


def normalise_instance(value: str) -> str:
    """``https://host[:port][/path]`` for what a person typed ("fosstodon.org", a URL...)."""
    text = value.strip().removesuffix("/")
    if "://" not in text:
        text = "https://" + text.lstrip("@").split("@")[-1]  # "@ada@fosstodon.org" too
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give the instance's address, such as fosstodon.org")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the instance's address cannot carry a query, fragment or password")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class InstanceAuth:
    """What an instance supports: the scopes to ask for, and whether it takes PKCE."""

    scopes: tuple[str, ...]
    pkce: bool


class MastodonConnector(Connector):
    network = Network.MASTODON
    display_name = "Mastodon"
    kind = "instance"
    hosts: ClassVar[dict[str, str]] = {}
    scopes = SCOPES_MODERN
    adapter = mastodon.ADAPTER
    notes = "Type your instance; Handpost registers itself there. Tokens do not expire."

    async def instance_auth(self, api: Api, instance: str) -> InstanceAuth:
        """The instance's OAuth metadata (4.3+), or what every older Mastodon supports."""
        response, body = await call(
            api,
            "GET",
            f"{instance}/.well-known/oauth-authorization-server",
            {},
            what=f"Reaching {instance}",
        )
        if response.status_code == 404:
            return InstanceAuth(SCOPES_OLDER, pkce=False)
        if not response.is_success:
            raise refusal(instance, "describing its sign-in", response)
        supported = set(body.get("scopes_supported") or [])
        scopes = SCOPES_MODERN if "profile" in supported else SCOPES_OLDER
        pkce = "S256" in (body.get("code_challenge_methods_supported") or [])
        return InstanceAuth(scopes, pkce)

    async def register(
        self, api: Api, instance: str, redirect_uri: str, scopes: tuple[str, ...]
    ) -> tuple[str, str]:
        """``POST /api/v1/apps``: Handpost's client id and secret on this instance."""
        body = await fetch(
            api,
            "POST",
            f"{instance}/api/v1/apps",
            {},
            network=instance,
            doing=f"Registering Handpost on {instance}",
            refused="registering Handpost",
            required=("client_id", "client_secret"),
            form={
                "client_name": CLIENT_NAME,
                "redirect_uris": redirect_uri,
                "scopes": " ".join(scopes),
                "website": WEBSITE,
            },
        )
        return str(body["client_id"]), str(body["client_secret"])

    def authorize_url(self, request: AuthorizationRequest) -> str:
        query = {
            "response_type": "code",
            "client_id": request.app.client_id,
            "redirect_uri": request.redirect_uri,
            "scope": " ".join(request.scopes),
            "state": request.state,
        }
        if request.code_challenge is not None:
            query |= {"code_challenge": request.code_challenge, "code_challenge_method": "S256"}
        return request.endpoints.url("instance", "/oauth/authorize", **query)

    async def exchange_for(self, exchange: CodeExchange, scopes: tuple[str, ...]) -> Connected:
        instance = exchange.endpoints.hosts["instance"]
        form = {
            "grant_type": "authorization_code",
            "code": secret("code"),
            "client_id": exchange.app.client_id,
            "client_secret": secret("client_secret"),
            "redirect_uri": exchange.redirect_uri,
            "scope": " ".join(scopes),
        }
        secrets = {"code": exchange.code, "client_secret": exchange.app.client_secret}
        if exchange.code_verifier is not None:
            form["code_verifier"] = secret("verifier")
            secrets["verifier"] = exchange.code_verifier
        body = await fetch(
            exchange.api,
            "POST",
            f"{instance}/oauth/token",
            secrets,
            network=instance,
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token",),
            form=form,
        )
        check_scopes(instance, granted_scopes(body.get("scope")), ("write:statuses",))
        access = str(body["access_token"])
        account = await fetch(
            exchange.api,
            "GET",
            f"{instance}/api/v1/accounts/verify_credentials",
            {"": access},
            network=instance,
            doing="Reading your Mastodon account",
            refused="reading your account",
            required=("id", "username"),
            headers=BEARER,
        )
        host = urlsplit(instance).netloc
        return Connected(
            identity=Identity(
                # Account ids are per instance: the instance makes the id unique.
                external_id=f"{account['id']}@{host}",
                handle=f"{account['username']}@{host}",
                display_name=str(account.get("display_name") or "") or None,
            ),
            credentials={"access_token": access},
            base_url=instance,
            note=f"scopes: {body.get('scope', '')}",
        )


CONNECTOR = MastodonConnector()
