"""Facebook Pages: Facebook Login, then the person chooses which Page Handpost posts to.

developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow and
.../access-tokens: the login dialog at www.facebook.com/{version}/dialog/oauth returns a code;
``GET graph.facebook.com/{version}/oauth/access_token`` turns it into a short-lived user
token, ``grant_type=fb_exchange_token`` into a long-lived one (about 60 days), and
``GET /me/accounts`` lists the Pages the person manages with a Page token each; a Page token
obtained from a long-lived user token does not expire. A person can untick permissions in
the dialog, so ``/me/permissions`` is checked. Facebook's OIDC flow with PKCE is "still in
testing" (oidc-token guide) and gives no Graph tokens, so this flow uses the client secret.
"""

from __future__ import annotations

from typing import Any, ClassVar

from service.networks import facebook
from service.networks._common import REDACTED
from service.networks._connect import (
    AuthorizationRequest,
    CodeExchange,
    Connected,
    ConnectError,
    Connector,
    Endpoints,
    Identity,
    PageChoice,
    fetch,
    secret,
)
from service.networks._http import redacted_query
from service.networks.base import Network

# What posting to a Page takes (Graph API, pages/publishing).
NEEDED = ("pages_show_list", "pages_manage_posts", "pages_read_engagement")


class FacebookConnector(Connector):
    network = Network.FACEBOOK
    display_name = "Facebook"
    hosts: ClassVar[dict[str, str]] = {
        "www": "https://www.facebook.com",
        "graph": "https://graph.facebook.com",
    }
    scopes = NEEDED
    pkce = False
    adapter = facebook.ADAPTER
    notes = "You choose which of your Pages to connect. Page tokens do not expire."

    def authorize_url(self, request: AuthorizationRequest) -> str:
        version = request.config.facebook_graph_version
        return request.endpoints.url(
            "www",
            f"/{version}/dialog/oauth",
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            state=request.state,
            response_type="code",
            scope=",".join(request.scopes),
        )

    async def exchange(self, exchange: CodeExchange) -> list[PageChoice]:
        app, api = exchange.app, exchange.api
        graph = exchange.endpoints.url("graph", f"/{exchange.config.facebook_graph_version}")
        short = await fetch(
            api,
            "GET",
            redacted_query(
                f"{graph}/oauth/access_token",
                client_id=app.client_id,
                redirect_uri=exchange.redirect_uri,
                client_secret=secret("client_secret"),
                code=secret("code"),
            ),
            {"code": exchange.code, "client_secret": app.client_secret},
            network="Facebook",
            doing="Exchanging the code",
            refused="the authorization code",
            required=("access_token",),
        )
        # Page tokens made from a long-lived user token never expire; from a short one, they do.
        long = await fetch(
            api,
            "GET",
            redacted_query(
                f"{graph}/oauth/access_token",
                grant_type="fb_exchange_token",
                client_id=app.client_id,
                client_secret=secret("client_secret"),
                fb_exchange_token=REDACTED,
            ),
            {"": str(short["access_token"]), "client_secret": app.client_secret},
            network="Facebook",
            doing="Getting the long-lived token",
            refused="the long-lived token",
            required=("access_token",),
        )
        user_token = {"": str(long["access_token"])}
        permissions = await fetch(
            api,
            "GET",
            redacted_query(f"{graph}/me/permissions", access_token=REDACTED),
            user_token,
            network="Facebook",
            doing="Reading the granted permissions",
            refused="reading the permissions",
        )
        _check_permissions(permissions)
        listed = await fetch(
            api,
            "GET",
            redacted_query(
                f"{graph}/me/accounts",
                fields="id,name,access_token,tasks",
                limit="100",
                access_token=REDACTED,
            ),
            user_token,
            network="Facebook",
            doing="Listing your Pages",
            refused="listing your Pages",
        )
        pages = [page for entry in listed.get("data") or [] if (page := _page(entry)) is not None]
        if not pages:
            raise ConnectError(
                "Facebook lists no Page you can post to. Handpost publishes to Pages, not "
                "personal profiles; create a Page or ask its admin for a content role."
            )
        return pages

    def page_connected(self, page: PageChoice, endpoints: Endpoints) -> Connected:
        """The chosen Page as an account: its id is the handle, its token the credential."""
        return Connected(
            identity=Identity(external_id=page.id, handle=page.id, display_name=page.name),
            credentials={"page_access_token": page.token},
            base_url=endpoints.account_base,
        )


def _check_permissions(body: dict[str, Any]) -> None:
    granted = {
        str(entry.get("permission"))
        for entry in body.get("data") or []
        if isinstance(entry, dict) and entry.get("status") == "granted"
    }
    missing = [name for name in NEEDED if name not in granted]
    if missing:
        raise ConnectError(
            f"Facebook did not grant {', '.join(missing)}, which Handpost needs to post to "
            "your Page. Connect again, and under “Edit access” leave every permission on."
        )


def _page(entry: Any) -> PageChoice | None:
    """A Page the person can post to (``tasks`` holds CREATE_CONTENT), else None."""
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("access_token"):
        return None
    tasks = entry.get("tasks")
    if isinstance(tasks, list) and "CREATE_CONTENT" not in tasks:
        return None
    return PageChoice(
        id=str(entry["id"]),
        name=str(entry.get("name") or entry["id"]),
        token=str(entry["access_token"]),
    )


CONNECTOR = FacebookConnector()
