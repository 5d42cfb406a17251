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

from service.connect.networks.base import (
    AuthorizationRequest,
    CodeExchange,
    Connected,
    ConnectError,
    Connector,
    Identity,
    call,
    check_scopes,
    expires_from,
    granted_scopes,
    refusal,
    require,
    secret,
)
from service.networks import x
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
        response, body = await call(
            exchange.api,
            "POST",
            endpoints.url("api", "/2/oauth2/token"),
            {"code": exchange.code, "verifier": exchange.code_verifier or ""},
            what="Exchanging the code",
            form={
                "grant_type": "authorization_code",
                "code": secret("code"),
                "redirect_uri": exchange.redirect_uri,
                "code_verifier": secret("verifier"),
                "client_id": app.client_id,
            },
            auth=httpx.BasicAuth(app.client_id, app.client_secret),
        )
        if not response.is_success:
            raise refusal("X", "the authorization code", response)
        require(body, "access_token", display_name="X", what="the code exchange")
        check_scopes("X", granted_scopes(body.get("scope")), ("tweet.write", "users.read"))
        if not body.get("refresh_token"):
            raise ConnectError(
                "X gave no refresh token (offline.access was not granted), so the connection "
                "would end in two hours. Connect again and allow staying connected."
            )
        access = str(body["access_token"])
        response, me = await call(
            exchange.api,
            "GET",
            endpoints.url("api", "/2/users/me"),
            {"": access},
            what="Reading your X profile",
            headers={"Authorization": "Bearer <redacted>"},
        )
        user = me.get("data")
        if not response.is_success or not isinstance(user, dict):
            raise refusal("X", "reading your profile", response)
        require(user, "id", "username", display_name="X", what="the profile")
        credentials = {
            "access_token": access,
            "refresh_token": str(body["refresh_token"]),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "username": str(user["username"]),
            "user_id": str(user["id"]),
        }
        expiry = expires_from(body.get("expires_in"))
        if expiry:
            credentials["expires_at"] = expiry
        return Connected(
            identity=Identity(
                external_id=str(user["id"]),
                handle=str(user["username"]),
                display_name=str(user.get("name") or "") or None,
            ),
            credentials=credentials,
            base_url=endpoints.account_base,
            note=f"scopes: {body.get('scope', '')}",
        )


CONNECTOR = XConnector()
