"""Bluesky: a handle and an app password; the session is opened on the account's own PDS.

bsky-docs advanced-guides/resolving-identities.md: a handle resolves to a DID through
``https://{handle}/.well-known/atproto-did`` (or DNS TXT ``_atproto.{handle}``, which
Handpost leaves to the entryway's ``com.atproto.identity.resolveHandle``); a ``did:plc``
document comes from plc.directory, a ``did:web`` one from ``/.well-known/did.json``; its
``#atproto_pds`` service is the account's PDS, and its ``alsoKnownAs`` must name the handle
back. ``createSession`` then runs on that PDS once; afterwards the session is renewed with
``refreshSession`` (network-apis §6), never a login per post. An app password session carries
the scope ``com.atproto.appPass`` (or ``appPassPrivileged``), an account password session
``com.atproto.access`` (bluesky-social/atproto, packages/pds/src/auth-scope.ts): that is how
an ordinary password is told apart and refused.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import regex

from service.networks import bluesky
from service.networks._common import BEARER_REDACTED, REDACTED
from service.networks._connect import (
    Connected,
    ConnectError,
    Connector,
    Endpoints,
    Identity,
    call,
    refusal,
)
from service.networks._http import Api, NetworkError, json_body
from service.networks.base import Network, OutgoingRequest

# atproto handle syntax (atproto.com/specs/handle): dot-separated labels, a letter first in
# the last one.
HANDLE = regex.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
DID = regex.compile(r"^did:(plc:[a-z2-7]{24}|web:[a-z0-9.:%-]+)$")
# What the PDS generates for an app password: four groups of four, e.g. "abcd-efgh-ijkl-mnop".
APP_PASSWORD = regex.compile(r"^[a-z0-9]{4}(-[a-z0-9]{4}){3}$", regex.IGNORECASE)
APP_PASSWORD_SCOPES = frozenset({"com.atproto.appPass", "com.atproto.appPassPrivileged"})
ACCOUNT_LOGIN_REFUSED = (
    "That looks like your Bluesky account password. Handpost needs an app password instead: "
    "in Bluesky open Settings → Privacy and security → App passwords, add one named "
    "Handpost, and paste it here (it looks like xxxx-xxxx-xxxx-xxxx). An app password can be "
    "revoked on its own and cannot change your account."
)


def normalise_handle(value: str) -> str:
    """A handle as atproto compares it: no "@", lower case; or a DID as given."""
    text = value.strip().removeprefix("@").lower()
    if DID.match(text) or HANDLE.match(text):
        return text
    raise ValueError("give your Bluesky handle, such as alice.bsky.social")


def looks_like_app_password(value: str) -> bool:
    return APP_PASSWORD.match(value.strip()) is not None


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (only to read its scope and times)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass(frozen=True)
class Resolved:
    did: str
    handle: str
    pds: str


class BlueskyConnector(Connector):
    network = Network.BLUESKY
    display_name = "Bluesky"
    kind = "app_password"
    hosts: ClassVar[dict[str, str]] = {
        "entryway": "https://bsky.social",
        "plc": "https://plc.directory",
    }
    # Access tokens live about 2 hours; renewing every half hour notices a revoked app
    # password within 30 minutes instead of when the token runs out.
    refresh_every: ClassVar[timedelta] = timedelta(minutes=30)
    adapter = bluesky.ADAPTER
    notes = "Your handle and an app password; works with any PDS, self-hosted too."

    def expires_at(self, credentials: Mapping[str, str]) -> datetime | None:
        expiry = bluesky.jwt_expiry(credentials.get("access_jwt", ""))
        return datetime.fromtimestamp(expiry, tz=UTC) if expiry is not None else None

    def refresh_due(self, credentials: Mapping[str, str]) -> datetime | None:
        claims = jwt_claims(credentials.get("access_jwt", ""))
        try:
            issued, expires = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            return super().refresh_due(credentials)
        after = min(self.refresh_every.total_seconds(), max(0.0, expires - issued) / 2)
        return datetime.fromtimestamp(issued + after, tz=UTC)

    def refreshable(self, credentials: Mapping[str, str]) -> bool:
        return bool(credentials.get("refresh_jwt") and credentials.get("did"))

    # -- handle -> DID -> PDS -------------------------------------------------------------

    async def resolve(
        self, trusted: Api, gated: Api, endpoints: Endpoints, handle: str
    ) -> Resolved:
        """The account's DID and PDS; ``gated`` calls the hosts the person's handle names."""
        if handle.startswith("did:"):
            did, named = handle, None
        else:
            did = await self._did_of(trusted, gated, endpoints, handle)
            named = handle
        document = await self._document(trusted, gated, endpoints, did)
        aliases = [str(a) for a in document.get("alsoKnownAs") or []]
        also_known = [a.removeprefix("at://") for a in aliases if a.startswith("at://")]
        if named is not None and named not in also_known:
            raise ConnectError(
                f"The handle {named} points at {did}, but that identity does not name "
                "the handle back, so it cannot be trusted. Check the handle's DNS or "
                "well-known record."
            )
        pds = _pds_of(document)
        if pds is None:
            raise ConnectError(f"The identity {did} names no PDS (#atproto_pds) to log in to.")
        return Resolved(did=did, handle=named or (also_known[0] if also_known else did), pds=pds)

    async def _did_of(self, trusted: Api, gated: Api, endpoints: Endpoints, handle: str) -> str:
        # The handle's own web server first (HTTPS method); in tests every host is the one
        # override base, which tells handles apart by the Host header as a PDS does.
        handles = endpoints.base("handles")
        if handles:
            api, url, host = trusted, f"{handles}/.well-known/atproto-did", handle
        else:
            api, url, host = gated, f"https://{handle}/.well-known/atproto-did", None
        try:
            response = await api.send(
                OutgoingRequest("GET", url, headers={"Host": host} if host else {}), {}
            )
            text = response.text.strip() if response.is_success else ""
            if DID.match(text):
                return text
        except NetworkError:
            pass  # no web server at the handle: ask the entryway (it also reads DNS TXT)
        response, body = await call(
            trusted,
            "GET",
            endpoints.url("entryway", "/xrpc/com.atproto.identity.resolveHandle", handle=handle),
            {},
            what=f"Resolving {handle}",
        )
        did = str(body.get("did") or "")
        if not response.is_success or not DID.match(did):
            raise ConnectError(
                f"Bluesky cannot find the handle {handle}. Check its spelling (it looks like "
                "alice.bsky.social, or your own domain)."
            )
        return did

    async def _document(
        self, trusted: Api, gated: Api, endpoints: Endpoints, did: str
    ) -> dict[str, Any]:
        if did.startswith("did:plc:"):
            api, url, headers = trusted, endpoints.url("plc", f"/{did}"), {}
        else:
            host = did.removeprefix("did:web:").replace("%3A", ":")
            handles = endpoints.base("handles")
            if handles:
                api, url = trusted, f"{handles}/.well-known/did.json"
                headers = {"Host": host}
            else:
                api, url, headers = gated, f"https://{host}/.well-known/did.json", {}
        response, body = await call(
            api, "GET", url, {}, what=f"Reading the identity {did}", headers=headers
        )
        if not response.is_success or body.get("id") != did:
            raise ConnectError(f"The identity document of {did} could not be read.")
        return body

    # -- the session ----------------------------------------------------------------------

    async def login(self, gated: Api, resolved: Resolved, app_password: str) -> Connected:
        """``createSession`` on the account's PDS; an account-password session is refused."""
        if not looks_like_app_password(app_password):
            raise ConnectError(ACCOUNT_LOGIN_REFUSED)
        request = OutgoingRequest(
            method="POST",
            url=f"{resolved.pds}/xrpc/com.atproto.server.createSession",
            headers={"Content-Type": "application/json"},
            json={"identifier": resolved.did, "password": REDACTED},
        )
        try:
            response = await gated.send(request, {"": app_password})
        except NetworkError as error:
            raise ConnectError(f"Logging in at {resolved.pds} failed: {error.message}") from None
        body = json_body(response)
        if body.get("error") == "AuthFactorTokenRequired":
            raise ConnectError(ACCOUNT_LOGIN_REFUSED)
        if not response.is_success:
            raise refusal("Bluesky", "the handle and app password", response)
        if not all(body.get(k) for k in ("accessJwt", "refreshJwt", "did")):
            raise ConnectError("Bluesky answered the login without a session.")
        if body["did"] != resolved.did:
            raise ConnectError("The PDS logged in a different account than the handle names.")
        scope = jwt_claims(str(body["accessJwt"])).get("scope")
        if scope not in APP_PASSWORD_SCOPES:
            await self._logout(gated, resolved.pds, str(body["refreshJwt"]))
            raise ConnectError(ACCOUNT_LOGIN_REFUSED)
        return Connected(
            identity=Identity(
                external_id=resolved.did,
                handle=str(body.get("handle") or resolved.handle),
            ),
            credentials={
                "identifier": resolved.did,
                "app_password": app_password.strip(),
                "access_jwt": str(body["accessJwt"]),
                "refresh_jwt": str(body["refreshJwt"]),
                "did": resolved.did,
            },
            base_url=resolved.pds,
            note=f"PDS {resolved.pds}",
        )

    async def _logout(self, gated: Api, pds: str, refresh_jwt: str) -> None:
        """``deleteSession``: a full-access session opened by mistake must not linger."""
        request = OutgoingRequest(
            method="POST",
            url=f"{pds}/xrpc/com.atproto.server.deleteSession",
            headers={"Authorization": BEARER_REDACTED},
        )
        with contextlib.suppress(NetworkError):  # it expires on its own; nothing was stored
            await gated.send(request, {"": refresh_jwt})


def _pds_of(document: Mapping[str, Any]) -> str | None:
    for service in document.get("service") or []:
        if not isinstance(service, dict):
            continue
        if (
            str(service.get("id", "")).endswith("#atproto_pds")
            and service.get("type") == "AtprotoPersonalDataServer"
        ):
            endpoint = str(service.get("serviceEndpoint") or "").rstrip("/")
            return endpoint or None
    return None


CONNECTOR = BlueskyConnector()
