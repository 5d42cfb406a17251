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

from service.connect.networks.base import (
    AuthorizationRequest,
    CodeExchange,
    Connected,
    Connector,
    Identity,
    call,
    expires_from,
    refusal,
    require,
    secret,
)
from service.networks import threads
from service.networks._common import REDACTED
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
        response, short = await call(
            api,
            "POST",
            endpoints.url("graph", "/oauth/access_token"),
            {"code": exchange.code, "client_secret": app.client_secret},
            what="Exchanging the code",
            form={
                "client_id": app.client_id,
                "client_secret": secret("client_secret"),
                "grant_type": "authorization_code",
                "redirect_uri": exchange.redirect_uri,
                "code": secret("code"),
            },
        )
        if not response.is_success:
            raise refusal("Threads", "the authorization code", response)
        require(short, "access_token", "user_id", display_name="Threads", what="the exchange")
        # The short-lived token lasts an hour: exchange it for the 60-day one at once.
        response, long = await call(
            api,
            "GET",
            redacted_query(
                endpoints.url("graph", "/access_token"),
                grant_type="th_exchange_token",
                client_secret=secret("client_secret"),
                access_token=REDACTED,
            ),
            {"": str(short["access_token"]), "client_secret": app.client_secret},
            what="Getting the long-lived token",
        )
        if not response.is_success:
            raise refusal("Threads", "the long-lived token", response)
        require(long, "access_token", display_name="Threads", what="the long-lived token")
        access = str(long["access_token"])
        response, me = await call(
            api,
            "GET",
            redacted_query(
                endpoints.url("graph", f"/{threads.API_VERSION}/me"),
                fields="id,username,name",
                access_token=REDACTED,
            ),
            {"": access},
            what="Reading your Threads profile",
        )
        if not response.is_success:
            raise refusal("Threads", "reading your profile", response)
        require(me, "id", "username", display_name="Threads", what="the profile")
        credentials = {"access_token": access, "user_id": str(me["id"])}
        expiry = expires_from(long.get("expires_in"))
        if expiry:
            credentials["expires_at"] = expiry
        return Connected(
            identity=Identity(
                external_id=str(me["id"]),
                handle=str(me["username"]),
                display_name=str(me.get("name") or "") or None,
            ),
            credentials=credentials,
            base_url=endpoints.account_base,
        )


CONNECTOR = ThreadsConnector()
