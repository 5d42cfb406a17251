"""X: OAuth 2.0 authorization code with PKCE; 2-hour tokens renewed with a rotating refresh token.

docs.x.com, fundamentals/authentication/oauth-2-0/authorization-code and user-access-token:
authorize at x.com/i/oauth2/authorize, exchange at api.x.com/2/oauth2/token (confidential
clients authenticate with HTTP Basic), the code is valid for 30 seconds, ``offline.access``
is what brings a refresh token, and ``media.write`` is needed to upload media.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import httpx

from service.networks import x
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
from service.networks.base import Network


class XConnector(Connector):
    network = Network.X
    display_name = "X"
    hosts: ClassVar[dict[str, str]] = {"www": "https://x.com", "api": "https://api.x.com"}
    scopes = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
    refresh_ahead = timedelta(minutes=10)
    adapter = x.ADAPTER
    notes = "Access tokens last 2 hours; Handpost renews them with the refresh token."

    def authorize_url(self, request: AuthorizationRequest) -> str:
        assert request.code_challenge is not None
        return request.endpoints.url(
            "www",
            "/i/oauth2/authorize",
            response_type="code",
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            state=request.state,
            code_challenge=request.code_challenge,
            code_challenge_method="S256",
        )

    async def exchange(self, exchange: CodeExchange) -> Connected:
        app, endpoints = exchange.app, exchange.endpoints
        body = await fetch(
            exchange.api,
            "POST",
            endpoints.url("api", "/2/oauth2/token"),
            {"code": exchange.code, "verifier": exchange.code_verifier or ""},
            network="X",
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token",),
            form={
                "grant_type": "authorization_code",
                "code": secret("code"),
                "redirect_uri": exchange.redirect_uri,
                "code_verifier": secret("verifier"),
                "client_id": app.client_id,
            },
            auth=httpx.BasicAuth(app.client_id, app.client_secret),
        )
        check_scopes("X", granted_scopes(body.get("scope")), ("tweet.write", "users.read"))
        if not body.get("refresh_token"):
            raise ConnectError(
                "X gave no refresh token (offline.access was not granted), so the connection "
                "would end in two hours. Connect again and allow staying connected."
            )
        access = str(body["access_token"])
        me = await fetch(
            exchange.api,
            "GET",
            endpoints.url("api", "/2/users/me"),
            {"": access},
            network="X",
            doing="Reading your X profile",
            refused="reading your profile",
            required=("data",),
            headers=BEARER,
        )
        user = me["data"] if isinstance(me["data"], dict) else {}
        require(user, "id", "username", display_name="X", what="the profile")
        credentials = {
            "access_token": access,
            "refresh_token": str(body["refresh_token"]),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "username": str(user["username"]),
            "user_id": str(user["id"]),
        }
        return Connected(
            identity=Identity(
                external_id=str(user["id"]),
                handle=str(user["username"]),
                display_name=str(user.get("name") or "") or None,
            ),
            credentials=with_expiry(credentials, body.get("expires_in")),
            base_url=endpoints.account_base,
            note=f"scopes: {body.get('scope', '')}",
        )


CONNECTOR = XConnector()
