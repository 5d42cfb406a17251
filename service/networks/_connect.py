"""The one interface every network's connect logic implements (a ``Connector``).

A connector knows its network's authorisation: which hosts and paths, which scopes, whether
it takes PKCE, how a code becomes tokens and an identity, when those tokens expire, whether
they can be renewed and how. Everything else (flow state, cookies, the database, pages) is
the network-independent service's. Network calls go through the shared HTTP layer
(``service.networks._http.Api``), which fills secrets in only on the way out.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from service.networks._common import BEARER_REDACTED
from service.networks._http import (
    Api,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    json_body,
    secret_ref,
    short_text,
)
from service.networks.base import AccountRef, FailureKind, Network, OutgoingRequest

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class ConnectError(Exception):
    """The connection cannot be made; ``message`` says why, in words for the person."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True when trying again later may work (the network was unreachable or failing).
        self.retry = retry


@dataclass(frozen=True)
class Endpoints:
    """A network's hosts: the real ones, or one base for all of them (tests, development).

    ``override`` comes from HANDPOST_NETWORK_ENDPOINTS: the emulator serves each network
    under one prefix with the real paths, so every host maps onto that one base.
    """

    hosts: Mapping[str, str]
    # One base for every host, or a base per host name (the others stay real).
    override: str | Mapping[str, str] | None = None

    def base(self, host: str) -> str | None:
        """The override for ``host``, if there is one."""
        if isinstance(self.override, str):
            return self.override
        return self.override.get(host) if self.override else None

    def url(self, host: str, path: str, **query: str) -> str:
        base = self.base(host) or self.hosts[host]
        address = f"{base.rstrip('/')}{path}"
        return f"{address}?{urlencode(query)}" if query else address

    @property
    def account_base(self) -> str | None:
        """The base URL an account keeps for its API calls: only a single override (else the
        network module's default applies)."""
        return self.override if isinstance(self.override, str) else None


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """What the consent page's URL is built from."""

    endpoints: Endpoints
    app: AppCredentials
    redirect_uri: str
    state: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    config: LiveConfig


@dataclass(frozen=True)
class CodeExchange:
    """What turning the code into tokens takes."""

    api: Api
    endpoints: Endpoints
    app: AppCredentials
    redirect_uri: str
    code: str
    code_verifier: str | None
    config: LiveConfig


@dataclass(frozen=True)
class Identity:
    external_id: str  # stable on the network: user id, Page id, DID, channel id
    handle: str  # what Handpost shows and posts as
    display_name: str | None = None


@dataclass(frozen=True)
class Connected:
    """A connected identity with the credentials to store (shapes of accounts.credentials)."""

    identity: Identity
    credentials: dict[str, str]
    base_url: str | None = None
    # Words for the account's event log, e.g. which scopes were granted.
    note: str = ""


@dataclass(frozen=True)
class PageChoice:
    """Facebook: one Page the person manages, with its Page token."""

    id: str
    name: str
    token: str = field(repr=False)


class Connector(abc.ABC):
    """One network's connect logic. Stateless; one instance per network."""

    network: ClassVar[Network]
    display_name: ClassVar[str]
    # "oauth": consent at the network; "instance": the person names a Mastodon instance
    # first; "app_password": Bluesky's handle and app password, no redirect.
    kind: ClassVar[str] = "oauth"
    hosts: ClassVar[dict[str, str]] = {}
    scopes: ClassVar[tuple[str, ...]] = ()
    pkce: ClassVar[bool] = True
    # Renew this long before the token expires (the lifecycle chore's margin).
    refresh_ahead: ClassVar[timedelta] = timedelta(minutes=10)
    # The live publishing adapter, whose refresh is reused where it exists.
    adapter: ClassVar[LiveAdapter | None] = None
    # What docs/connect.md says about this network, shown next to its Connect button.
    notes: ClassVar[str] = ""

    def authorize_url(self, request: AuthorizationRequest) -> str:
        raise NotImplementedError

    async def exchange(self, exchange: CodeExchange) -> Connected | list[PageChoice]:
        """The tokens and identity for ``exchange.code`` (Facebook: the Pages to choose)."""
        raise NotImplementedError

    def expires_at(self, credentials: Mapping[str, str]) -> datetime | None:
        """When the access token expires (from the stored ``expires_at``), if it does."""
        try:
            return datetime.fromtimestamp(float(credentials["expires_at"]), tz=UTC)
        except (KeyError, ValueError, OverflowError, OSError):
            return None

    def refresh_due(self, credentials: Mapping[str, str]) -> datetime | None:
        """When to renew ahead of expiry (the caller checks that it can be renewed at all)."""
        expiry = self.expires_at(credentials)
        return expiry - self.refresh_ahead if expiry is not None else None

    def refreshable(self, credentials: Mapping[str, str]) -> bool:
        return self.adapter is not None and self.adapter.can_refresh(dict(credentials))

    async def refresh(
        self, api: Api, account: AccountRef, credentials: dict[str, str]
    ) -> dict[str, str]:
        """Renewed credentials; ReconnectNeeded when only the person can fix it."""
        if self.adapter is None:
            raise NotImplementedError(f"{self.display_name} tokens cannot be renewed")
        return await self.adapter.refresh(api, account, credentials)


# --- helpers the connectors share --------------------------------------------------------


async def call(
    api: Api,
    method: str,
    url: str,
    secrets: Mapping[str, str],
    *,
    what: str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
) -> tuple[httpx.Response, dict[str, Any]]:
    """One call during connecting; a transport failure becomes a ConnectError."""
    request = OutgoingRequest(
        method=method,
        url=url,
        headers={**(FORM if form is not None else {}), **(headers or {})},
        form=form,
    )
    try:
        response = await api.send(request, secrets, auth=auth)
    except NetworkError as error:
        retry = error.kind is not FailureKind.PERMANENT  # e.g. the SSRF gate said no
        raise ConnectError(f"{what} failed: {error.message}", retry=retry) from None
    return response, json_body(response)


BEARER = {"Authorization": BEARER_REDACTED}


async def fetch(
    api: Api,
    method: str,
    url: str,
    secrets: Mapping[str, str],
    *,
    network: str,
    doing: str,
    refused: str,
    required: tuple[str, ...] = (),
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
) -> dict[str, Any]:
    """One call the connection cannot do without: its body, which must hold ``required``.
    ``doing`` names the step for a transport failure ("Exchanging the code"), ``refused``
    what the network refused ("the authorization code")."""
    response, body = await call(
        api, method, url, secrets, what=doing, form=form, headers=headers, auth=auth
    )
    if not response.is_success:
        raise refusal(network, refused, response)
    require(body, *required, display_name=network, what=refused)
    return body


# The placeholder ``Api.send`` fills with the named secret on the way out.
secret = secret_ref


def with_expiry(credentials: dict[str, str], expires_in: Any) -> dict[str, str]:
    """``credentials`` with ``expires_at`` when the network said how long the token lives."""
    expiry = expires_from(expires_in)
    return {**credentials, "expires_at": expiry} if expiry else credentials


def refusal(display_name: str, what: str, response: httpx.Response) -> ConnectError:
    """The network's own words for a refused call: OAuth, Graph, X and XRPC shapes."""
    body = json_body(response)
    error = body.get("error")
    if isinstance(error, dict):  # Meta Graph, Google APIs
        message = str(error.get("message") or error.get("status") or short_text(response))
    else:
        message = str(
            body.get("error_description")
            or body.get("detail")
            or body.get("message")
            or error
            or short_text(response)
        )
    if isinstance(error, str) and error and error not in message:
        message = f"{message} ({error})"
    return ConnectError(
        f"{display_name} refused {what}: {message}", retry=response.status_code >= 500
    )


def require(body: Mapping[str, Any], *keys: str, display_name: str, what: str) -> None:
    missing = [key for key in keys if not body.get(key)]
    if missing:
        raise ConnectError(f"{display_name} answered {what} without {', '.join(missing)}.")


def expires_from(expires_in: Any, now: datetime | None = None) -> str | None:
    """``expires_at`` (epoch seconds, as credentials store it) from an ``expires_in``."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return None
    moment = (now or datetime.now(UTC)) + timedelta(seconds=seconds)
    return str(int(moment.timestamp()))


def granted_scopes(value: Any) -> set[str]:
    """A token response's ``scope``: space- or comma-separated."""
    return {part for part in str(value or "").replace(",", " ").split() if part}


def check_scopes(display_name: str, granted: set[str], needed: tuple[str, ...]) -> None:
    """People can untick permissions on some consent screens; refuse a token that cannot post."""
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        raise ConnectError(
            f"{display_name} did not grant {', '.join(missing)}, which Handpost needs to "
            "publish for you. Connect again and allow every permission asked for."
        )
