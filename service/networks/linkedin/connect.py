"""LinkedIn: authorization code (confidential, no PKCE), OpenID Connect userinfo for the member.

learn.microsoft.com, linkedin/shared/authentication/authorization-code-flow and
sign-in-with-linkedin-v2: authorize at www.linkedin.com/oauth/v2/authorization, exchange at
/oauth/v2/accessToken with the client secret; tokens live 60 days; refresh tokens are issued
only to approved partners (programmatic refresh), so most connections must be renewed by the
person before day 60, and Handpost warns ahead of it. ``GET api.linkedin.com/v2/userinfo``
gives ``sub``, the member id in ``urn:li:person:{sub}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from service.networks import linkedin
from service.networks._connect import (
    BEARER,
    AuthorizationRequest,
    CodeExchange,
    Connected,
    Connector,
    Identity,
    check_scopes,
    fetch,
    granted_scopes,
    secret,
    with_expiry,
)
from service.networks.base import Network


class LinkedInConnector(Connector):
    network = Network.LINKEDIN
    display_name = "LinkedIn"
    hosts: ClassVar[dict[str, str]] = {
        "www": "https://www.linkedin.com",
        "api": "https://api.linkedin.com",
    }
    scopes = ("openid", "profile", "w_member_social")
    pkce = False  # PKCE is for LinkedIn's native apps; a web app authenticates with its secret
    refresh_ahead = timedelta(days=7)
    adapter = linkedin.ADAPTER
    notes = (
        "Access lasts 60 days. Unless LinkedIn approved your app for refresh tokens, "
        "reconnect before then: Handpost warns two weeks ahead."
    )

    def authorize_url(self, request: AuthorizationRequest) -> str:
        return request.endpoints.url(
            "www",
            "/oauth/v2/authorization",
            response_type="code",
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            state=request.state,
            scope=" ".join(request.scopes),
        )

    async def exchange(self, exchange: CodeExchange) -> Connected:
        app, endpoints = exchange.app, exchange.endpoints
        body = await fetch(
            exchange.api,
            "POST",
            endpoints.url("www", "/oauth/v2/accessToken"),
            {"code": exchange.code, "client_secret": app.client_secret},
            network="LinkedIn",
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token",),
            form={
                "grant_type": "authorization_code",
                "code": secret("code"),
                "redirect_uri": exchange.redirect_uri,
                "client_id": app.client_id,
                "client_secret": secret("client_secret"),
            },
        )
        check_scopes("LinkedIn", granted_scopes(body.get("scope")), ("w_member_social",))
        access = str(body["access_token"])
        member = await fetch(
            exchange.api,
            "GET",
            endpoints.url("api", "/v2/userinfo"),
            {"": access},
            network="LinkedIn",
            doing="Reading your LinkedIn profile",
            refused="reading your profile",
            required=("sub",),
            headers=BEARER,
        )
        credentials = {"access_token": access, "member_id": str(member["sub"])}
        if body.get("refresh_token"):  # an approved partner app
            credentials |= {
                "refresh_token": str(body["refresh_token"]),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            }
        name = str(member.get("name") or "").strip()
        return Connected(
            identity=Identity(
                external_id=str(member["sub"]),
                handle=str(member["sub"]),
                display_name=name or None,
            ),
            credentials=with_expiry(credentials, body.get("expires_in")),
            base_url=endpoints.account_base,
            note=f"scopes: {body.get('scope', '')}",
        )


CONNECTOR = LinkedInConnector()
