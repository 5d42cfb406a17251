"""Connecting accounts: the API the page calls, and the browser route the networks send back to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from starlette.responses import HTMLResponse

from service.accounts import service as accounts
from service.accounts.models import Account
from service.accounts.schemas import AccountRead
from service.connect import pages, repository
from service.connect.schemas import (
    AccountEventRead,
    BlueskyConnect,
    ConnectionRead,
    ConnectNetworkRead,
    FlowRead,
    FlowStart,
    FlowStarted,
    GhostConnect,
    PageChosen,
    PageOption,
)
from service.connect.service import (
    COOKIE,
    DOCS_URL,
    Browser,
    Connections,
    is_configured,
    redirect_uri,
)
from service.db import SessionDep
from service.deps import SettingsDep
from service.networks import CONNECTORS
from service.networks.base import Network
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, before_id, page_of
from service.problems import problem_responses
from service.users.auth import CurrentUser

router = APIRouter(tags=["connect"])
# Outside /api/: the network sends the browser here, with no token (the flow's cookie and
# state identify it).
browser_router = APIRouter(include_in_schema=False)

ConnectCookie = Annotated[str | None, Cookie(alias=COOKIE, include_in_schema=False)]


def get_connections(request: Request) -> Connections:
    connections: Connections = request.app.state.connections
    return connections


ConnectionsDep = Annotated[Connections, Depends(get_connections)]


def _request_base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _set_cookie(
    response: Response, browser: Browser, connections: Connections, secure: bool
) -> None:
    response.set_cookie(
        COOKIE,
        browser.cookie,
        max_age=int(connections.settings.connect_flow_seconds),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


@router.get("/api/v1/connect/networks", response_model=list[ConnectNetworkRead])
def connect_networks(
    request: Request, settings: SettingsDep, user: CurrentUser
) -> list[ConnectNetworkRead]:
    """How each network connects here, whether it is set up, and the redirect URI to register."""
    return [
        ConnectNetworkRead(
            network=network,
            display_name=connector.display_name,
            kind=connector.kind,
            configured=is_configured(settings, network),
            redirect_uri=None
            if connector.kind in ("app_password", "admin_key")
            else redirect_uri(settings, _request_base(request), network),
            scopes=list(connector.scopes),
            docs_url=f"{DOCS_URL}#{network.value}",
            notes=connector.notes,
        )
        for network, connector in CONNECTORS.items()
    ]


@router.post(
    "/api/v1/connect/flows",
    response_model=FlowStarted,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 429, 502),
)
async def start_flow(
    data: FlowStart,
    request: Request,
    response: Response,
    user: CurrentUser,
    connections: ConnectionsDep,
    cookie: ConnectCookie = None,
) -> FlowStarted:
    """Start connecting (or reconnecting, with ``account_id``): send the browser to
    ``authorize_url``. The answer sets the cookie that binds the flow to this browser."""
    browser = connections.browser(cookie)
    flow, url = await connections.start(user, data, _request_base(request), browser)
    _set_cookie(response, browser, connections, secure=flow.redirect_uri.startswith("https:"))
    return FlowStarted(flow_id=flow.id, authorize_url=url, expires_at=flow.expires_at)


@router.get(
    "/api/v1/connect/flows/{flow_id}",
    response_model=FlowRead,
    responses=problem_responses(403, 404),
)
async def read_flow(
    flow_id: str, user: CurrentUser, connections: ConnectionsDep, cookie: ConnectCookie = None
) -> FlowRead:
    """A connection under way; for Facebook, the Pages to choose from (names only)."""
    flow = await connections.open_flow(user, flow_id, cookie)
    return FlowRead(
        id=flow.id,
        network=Network(flow.network),
        status=flow.status,
        expires_at=flow.expires_at,
        pages=[PageOption(id=p.id, name=p.name) for p in connections.pages_of(flow)],
    )


@router.post(
    "/api/v1/connect/flows/{flow_id}/page",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 409),
)
async def choose_page(
    flow_id: str,
    data: PageChosen,
    user: CurrentUser,
    connections: ConnectionsDep,
    cookie: ConnectCookie = None,
) -> AccountRead:
    """Facebook: connect the chosen Page."""
    account = await connections.choose_page(user, flow_id, data.page_id, cookie)
    return AccountRead.model_validate(account)


@router.post(
    "/api/v1/connect/bluesky",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 502),
)
async def connect_bluesky(
    data: BlueskyConnect, user: CurrentUser, connections: ConnectionsDep
) -> AccountRead:
    """Connect (or reconnect) Bluesky with a handle and an app password."""
    account = await connections.connect_bluesky(user, data)
    return AccountRead.model_validate(account)


@router.post(
    "/api/v1/connect/ghost",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 502),
)
async def connect_ghost(
    data: GhostConnect, user: CurrentUser, connections: ConnectionsDep
) -> AccountRead:
    """Connect (or reconnect) a Ghost site with a custom integration's Admin API key, which
    is tried on the site before it is kept."""
    account = await connections.connect_ghost(user, data)
    return AccountRead.model_validate(account)


@router.get("/api/v1/connect/connections", response_model=list[ConnectionRead])
def list_connections(session: SessionDep, user: CurrentUser) -> list[ConnectionRead]:
    """Per connected account: its token's expiry, and whether Handpost can renew it."""
    return [
        ConnectionRead(
            account_id=c.account_id,
            external_id=c.external_id,
            connected_at=c.connected_at,
            refreshed_at=c.refreshed_at,
            token_expires_at=c.token_expires_at,
            refreshable=c.refreshable,
            access_ends_at=None if c.refreshable else c.token_expires_at,
        )
        for c in repository.connections_of_user(session, user.id)
    ]


@router.get(
    "/api/v1/accounts/{account_id}/events",
    response_model=Page[AccountEventRead],
    responses=problem_responses(404),
    tags=["accounts"],
)
def account_events(
    account_id: str,
    session: SessionDep,
    user: CurrentUser,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AccountEventRead]:
    """The account's connects, renewals, failures and warnings, newest first."""
    account: Account = accounts.get_or_404(session, user, account_id)
    before = before_id(cursor, "account-events")
    rows = list(repository.events_of(session, account.id, limit + 1, before))
    rows, next_cursor = page_of(rows, limit, "account-events", lambda e: [e.id])
    return Page[AccountEventRead](
        items=[AccountEventRead.model_validate(e) for e in rows], next_cursor=next_cursor
    )


@browser_router.get("/connect/{network}/callback", response_model=None)
async def callback(
    network: str, request: Request, connections: ConnectionsDep, cookie: ConnectCookie = None
) -> RedirectResponse | HTMLResponse:
    """Where the network sends the browser back: to the account, or to a page saying why not."""
    query = {key: value for key, value in request.query_params.items()}
    outcome = await connections.callback(network, query, cookie)
    if isinstance(outcome, pages.Refusal):
        return pages.refusal_page(outcome)
    return RedirectResponse(outcome, status_code=status.HTTP_303_SEE_OTHER)
