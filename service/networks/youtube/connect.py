"""YouTube: Google's OAuth 2.0 for web server apps, with PKCE and offline access.

developers.google.com/identity/protocols/oauth2/web-server: authorize at
accounts.google.com/o/oauth2/v2/auth, exchange at oauth2.googleapis.com/token; a refresh token
comes only with ``access_type=offline``, and again on a later consent only with
``prompt=consent``, so both are asked for; a refresh answers without a new refresh token (the
old one stays); a revoked or expired refresh token is ``invalid_grant``. Consent is granular:
the person may untick a scope, so the granted ``scope`` is checked. An app whose consent screen
is in "Testing" gets refresh tokens that die after 7 days. ``GET /youtube/v3/channels?mine=true``
(YouTube Data API v3) names the channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

from service.networks._connect import (
    BEARER,
    AuthorizationRequest,
    CodeExchange,
    Connected,
    ConnectError,
    Connector,
    Identity,
    check_scopes,
    fetch,
    granted_scopes,
    require,
    secret,
    with_expiry,
)
from service.networks._http import Api, ReconnectNeeded, refresh_grant, refresh_request
from service.networks.base import AccountRef, Network

UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
TOKEN_HOST = "https://oauth2.googleapis.com"  # noqa: S105 (a host, not a secret)


class YouTubeConnector(Connector):
    network = Network.YOUTUBE
    display_name = "YouTube"
    hosts: ClassVar[dict[str, str]] = {
        "accounts": "https://accounts.google.com",
        "oauth2": TOKEN_HOST,
        "api": "https://www.googleapis.com",
    }
    scopes = (UPLOAD, READONLY)
    refresh_ahead = timedelta(minutes=10)
    notes = (
        "While your Google consent screen is in Testing, Google ends the connection after "
        "7 days. Uploads need Google's verification of the upload scope; until then videos "
        "stay private."
    )

    def authorize_url(self, request: AuthorizationRequest) -> str:
        assert request.code_challenge is not None
        return request.endpoints.url(
            "accounts",
            "/o/oauth2/v2/auth",
            response_type="code",
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            state=request.state,
            access_type="offline",
            prompt="consent",
            code_challenge=request.code_challenge,
            code_challenge_method="S256",
        )

    async def exchange(self, exchange: CodeExchange) -> Connected:
        app, endpoints = exchange.app, exchange.endpoints
        body = await fetch(
            exchange.api,
            "POST",
            endpoints.url("oauth2", "/token"),
            {
                "code": exchange.code,
                "verifier": exchange.code_verifier or "",
                "client_secret": app.client_secret,
            },
            network="Google",
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token",),
            form={
                "code": secret("code"),
                "client_id": app.client_id,
                "client_secret": secret("client_secret"),
                "redirect_uri": exchange.redirect_uri,
                "grant_type": "authorization_code",
                "code_verifier": secret("verifier"),
            },
        )
        check_scopes("Google", granted_scopes(body.get("scope")), self.scopes)
        if not body.get("refresh_token"):
            raise ConnectError(
                "Google gave no refresh token, so the connection would end within the hour. "
                "Connect again (Handpost asks for offline access with consent)."
            )
        access = str(body["access_token"])
        channels = await fetch(
            exchange.api,
            "GET",
            endpoints.url("api", "/youtube/v3/channels", part="snippet", mine="true"),
            {"": access},
            network="YouTube",
            doing="Reading your YouTube channel",
            refused="reading your channel",
            headers=BEARER,
        )
        items = channels.get("items")
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise ConnectError(
                "This Google account has no YouTube channel. Create one on YouTube, then "
                "connect again."
            )
        channel = items[0]
        found = channel.get("snippet")
        snippet: dict[str, object] = found if isinstance(found, dict) else {}
        require(channel, "id", display_name="YouTube", what="the channel")
        credentials = {
            "access_token": access,
            "refresh_token": str(body["refresh_token"]),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "channel_id": str(channel["id"]),
        }
        return Connected(
            identity=Identity(
                external_id=str(channel["id"]),
                handle=str(snippet.get("customUrl") or channel["id"]),
                display_name=str(snippet.get("title") or "") or None,
            ),
            credentials=with_expiry(credentials, body.get("expires_in")),
            base_url=endpoints.account_base,
            note=f"scopes: {body.get('scope', '')}",
        )

    def refreshable(self, credentials: Mapping[str, str]) -> bool:
        return all(credentials.get(k) for k in ("refresh_token", "client_id", "client_secret"))

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """``grant_type=refresh_token``; Google keeps the refresh token, so the old one stays."""
        if not self.refreshable(credentials):
            raise ReconnectNeeded("this YouTube connection has no refresh token")
        base = account.base_url.rstrip("/") if account.base_url else TOKEN_HOST
        request, secrets = refresh_request(f"{base}/token", credentials)
        # Google answers without a refresh token: the stored one stays (Postiz PR #1884).
        return await refresh_grant(api, request, secrets, credentials, display_name="Google")


CONNECTOR = YouTubeConnector()
