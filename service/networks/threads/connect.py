"""Threads: authorization code, a 1-hour token exchanged at once for a 60-day one, renewed.

developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions and
.../long-lived-tokens: authorize at threads.net/oauth/authorize (scopes comma-separated),
``POST graph.threads.net/oauth/access_token`` gives a short-lived token and the user id,
``GET /access_token?grant_type=th_exchange_token`` a 60-day one, and
``GET /refresh_access_token`` renews it for another 60 days while it is valid (and at least
24 hours old). A token not renewed within its 60 days is dead. No PKCE.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from service.networks import threads
from service.networks._common import REDACTED
from service.networks._connect import (
    AuthorizationRequest,
    CodeExchange,
    Connected,
    Connector,
    Identity,
    fetch,
    secret,
    with_expiry,
)
from service.networks._http import redacted_query
from service.networks.base import Network


class ThreadsConnector(Connector):
    network = Network.THREADS
    display_name = "Threads"
    hosts: ClassVar[dict[str, str]] = {
        "www": "https://threads.net",
        "graph": "https://graph.threads.net",
    }
    scopes = ("threads_basic", "threads_content_publish")
    pkce = False
    # The adapter renews in the last week too; a renewal needs the token to be a day old.
    refresh_ahead = timedelta(days=7)
    adapter = threads.ADAPTER
    notes = (
        "Tokens last 60 days and Handpost renews them. Until Meta reviews your app, only "
        "Threads accounts invited as testers can connect."
    )

    def authorize_url(self, request: AuthorizationRequest) -> str:
        return request.endpoints.url(
            "www",
            "/oauth/authorize",
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            scope=",".join(request.scopes),
            response_type="code",
            state=request.state,
        )

    async def exchange(self, exchange: CodeExchange) -> Connected:
        app, endpoints, api = exchange.app, exchange.endpoints, exchange.api
        short = await fetch(
            api,
            "POST",
            endpoints.url("graph", "/oauth/access_token"),
            {"code": exchange.code, "client_secret": app.client_secret},
            network="Threads",
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token", "user_id"),
            form={
                "client_id": app.client_id,
                "client_secret": secret("client_secret"),
                "grant_type": "authorization_code",
                "redirect_uri": exchange.redirect_uri,
                "code": secret("code"),
            },
        )
        # The short-lived token lasts an hour: exchange it for the 60-day one at once.
        long = await fetch(
            api,
            "GET",
            redacted_query(
                endpoints.url("graph", "/access_token"),
                grant_type="th_exchange_token",
                client_secret=secret("client_secret"),
                access_token=REDACTED,
            ),
            {"": str(short["access_token"]), "client_secret": app.client_secret},
            network="Threads",
            doing="Getting the long-lived token",
            refused="the long-lived token",
            required=("access_token",),
        )
        access = str(long["access_token"])
        me = await fetch(
            api,
            "GET",
            redacted_query(
                endpoints.url("graph", f"/{threads.API_VERSION}/me"),
                fields="id,username,name",
                access_token=REDACTED,
            ),
            {"": access},
            network="Threads",
            doing="Reading your Threads profile",
            refused="reading your profile",
            required=("id", "username"),
        )
        credentials = {"access_token": access, "user_id": str(me["id"])}
        return Connected(
            identity=Identity(
                external_id=str(me["id"]),
                handle=str(me["username"]),
                display_name=str(me.get("name") or "") or None,
            ),
            credentials=with_expiry(credentials, long.get("expires_in")),
            base_url=endpoints.account_base,
        )


CONNECTOR = ThreadsConnector()
