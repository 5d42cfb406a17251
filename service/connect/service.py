"""Connecting accounts from the browser: flows, their safety checks, and the account at the end.

A flow starts with an API call from the page (the person is known by their bearer token): a
``state`` and a PKCE verifier are made, the state's hash and the encrypted verifier stored,
and the browser gets a signed, HttpOnly, SameSite=Lax cookie whose secret's hash is stored
too. The network sends the browser back to ``/connect/{network}/callback``, a browser route
with no token: the flow is found by its state, must belong to this browser (the cookie), be
unused and unexpired, and is taken with a compare-and-set so a replay loses. Only then is the
code exchanged (with the verifier, which never left the server) and the account created or
reconnected. Facebook stops halfway: the person picks a Page on Handpost's page first.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.accounts import repository as accounts
from service.accounts.credentials import (
    CredentialCipher,
    CredentialsUnreadable,
    SecretKeyMissing,
    check_credentials,
    cipher_for,
)
from service.accounts.models import Account, AccountMode, AccountStatus
from service.config import Settings
from service.connect import pages, repository
from service.connect.lifecycle import api_for, http_client
from service.connect.models import ConnectFlow, EventKind, FlowStatus, MastodonApp
from service.connect.schemas import BlueskyConnect, FlowStart, GhostConnect, Profile
from service.connect.tokens import token_state
from service.db import Database, utcnow
from service.networks import CONNECTORS, connector_for
from service.networks._connect import (
    AppCredentials,
    AuthorizationRequest,
    CodeExchange,
    Connected,
    ConnectError,
    Connector,
    Endpoints,
    PageChoice,
)
from service.networks._http import Api, LiveConfig
from service.networks.base import Network
from service.networks.bluesky.connect import CONNECTOR as BLUESKY
from service.networks.bluesky.connect import normalise_handle
from service.networks.facebook.connect import CONNECTOR as FACEBOOK
from service.networks.ghost.connect import CONNECTOR as GHOST
from service.networks.mastodon.connect import CONNECTOR as MASTODON
from service.networks.mastodon.connect import InstanceAuth, normalise_instance
from service.networks.wordpress.connect import CONNECTOR as WORDPRESS
from service.networks.wordpress.connect import normalise_site
from service.problems import ProblemError, invalid, not_found
from service.strategy import service as strategies
from service.users.models import User

log = logging.getLogger("handpost.connect")

COOKIE = "handpost_connect"
DOCS_URL = "https://handpost.dev/docs/connect"
# A person may have this many connections under way at once (each is a row until it expires).
MAX_OPEN_FLOWS = 20
# Facebook: how long the person has to pick a Page once back from Facebook.
CHOOSE_SECONDS = 600

T = TypeVar("T")


# --- small pieces ------------------------------------------------------------------------


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): RFC 7636, a 43-character verifier of 256 random bits."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def redirect_uri(settings: Settings, request_base: str, network: Network) -> str:
    base = (settings.public_url or request_base).rstrip("/")
    return f"{base}/connect/{network.value}/callback"


def app_credentials(settings: Settings, network: Network) -> AppCredentials | None:
    client_id = getattr(settings, f"{network.value}_client_id", None)
    secret = getattr(settings, f"{network.value}_client_secret", None)
    if not client_id or secret is None or not secret.get_secret_value():
        return None
    return AppCredentials(str(client_id), secret.get_secret_value())


def endpoints_for(settings: Settings, connector: Connector) -> Endpoints:
    return Endpoints(connector.hosts, settings.network_endpoints.get(connector.network.value))


def live_config(settings: Settings) -> LiveConfig:
    return LiveConfig(
        linkedin_version=settings.linkedin_version,
        facebook_graph_version=settings.facebook_graph_version,
        resend_window_seconds=settings.missed_grace_seconds,
    )


def is_configured(settings: Settings, network: Network) -> bool:
    """Networks connected through a redirect need the server's app credentials; a Mastodon
    instance or a WordPress site is asked at connect time, Bluesky needs none."""
    kind = CONNECTORS[network].kind
    return kind != "oauth" or app_credentials(settings, network) is not None


@dataclass(frozen=True)
class Browser:
    """The secret in the browser's connect cookie, and the cookie that carries it."""

    secret: str
    cookie: str


class Connections:
    """Per app: the database, settings and cipher, and the flows' logic on top of them."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._cipher: CredentialCipher | None = None

    # -- plumbing -------------------------------------------------------------------------

    def cipher(self) -> CredentialCipher:
        if self._cipher is None:
            try:
                self._cipher = cipher_for(self.settings)
            except SecretKeyMissing as exc:
                raise ProblemError(
                    503,
                    "secret-key-missing",
                    "Credentials cannot be stored",
                    "This server has no HANDPOST_SECRET_KEY to encrypt network credentials "
                    "with; ask its administrator to set one.",
                ) from exc
        return self._cipher

    async def db(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """``work`` in its own transaction, in a worker thread (the driver is synchronous)."""

        def run() -> T:
            with self.database.session(read_only=not write) as session:
                result = work(session)
                if write:
                    session.commit()
                return result

        return await asyncio.to_thread(run)

    def browser(self, cookie: str | None) -> Browser:
        """The browser's secret from its cookie (if valid and fresh), or a new one."""
        secret = self.browser_secret(cookie) or new_secret()
        return Browser(secret, self.cipher().encrypt({"browser": secret}))

    def browser_secret(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self.cipher().decrypt(cookie, max_age=int(self.settings.connect_flow_seconds))
        except (CredentialsUnreadable, UnicodeEncodeError, ValueError):
            return None
        return data.get("browser") or None

    def same_browser(self, flow: ConnectFlow, cookie: str | None) -> bool:
        secret = self.browser_secret(cookie)
        return secret is not None and hmac.compare_digest(digest(secret), flow.browser_hash)

    # -- starting -------------------------------------------------------------------------

    async def start(
        self, user: User, data: FlowStart, request_base: str, browser: Browser
    ) -> tuple[ConnectFlow, str]:
        network = Network(data.network)
        connector = connector_for(network)
        target = await self.db(lambda s: self._target(s, user, network, data), write=False)
        redirect = redirect_uri(self.settings, request_base, network)
        endpoints = endpoints_for(self.settings, connector)
        scopes = connector.scopes
        pkce = connector.pkce
        instance: str | None = None
        if network is Network.MASTODON:
            instance = self._instance(data, target)
            endpoints = Endpoints({"instance": instance})
            app, auth = await self._mastodon_app(instance, redirect)
            scopes, pkce = auth.scopes, auth.pkce
        elif network is Network.WORDPRESS:
            instance = self._site(data, target)
            endpoints = Endpoints({"authorize": await self._wordpress_page(instance)})
            app, pkce = AppCredentials("", ""), False
        else:
            found = app_credentials(self.settings, network)
            if found is None:
                raise not_set_up(connector)
            app = found
        state = new_secret()
        verifier, challenge = pkce_pair() if pkce else (None, None)
        now = utcnow()
        flow = ConnectFlow(
            user_id=user.id,
            network=network.value,
            state_hash=digest(state),
            browser_hash=digest(browser.secret),
            redirect_uri=redirect,
            verifier_ciphertext=self.cipher().encrypt({"verifier": verifier}) if verifier else None,
            instance_url=instance,
            account_id=target.id if target is not None else None,
            profile=json.dumps(_profile(data)),
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.connect_flow_seconds),
        )

        def store(session: Session) -> None:
            under_way, first_expiry = repository.open_flows(session, user.id, now)
            if under_way >= MAX_OPEN_FLOWS:
                problem = ProblemError(
                    429,
                    "too-many-connections",
                    "Too many connections under way",
                    f"You have {MAX_OPEN_FLOWS} connections under way; finish one, or wait a "
                    "few minutes for them to expire.",
                )
                wait = (first_expiry - now).total_seconds() if first_expiry else 60
                problem.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                raise problem
            session.add(flow)

        await self.db(store)
        url = connector.authorize_url(
            AuthorizationRequest(
                endpoints=endpoints,
                app=app,
                redirect_uri=redirect,
                state=state,
                code_challenge=challenge,
                scopes=scopes,
                config=live_config(self.settings),
            )
        )
        return flow, url

    def _target(
        self, session: Session, user: User, network: Network, data: Profile
    ) -> Account | None:
        """The account being reconnected, or None for a new one (whose profile is checked)."""
        if data.account_id is not None:
            account = accounts.get(session, user.id, data.account_id)
            if account is None:
                raise not_found("account", data.account_id)
            if account.network != network.value:
                raise invalid(
                    f"That account is on {account.network}, not {network.value}.",
                    [
                        {
                            "field": "account_id",
                            "code": "wrong-network",
                            "message": "Not this network's account.",
                        }
                    ],
                )
            return account
        missing = [
            {"field": name, "code": "required", "message": f"Say what the account is for ({name})."}
            for name in ("purpose", "audience")
            if not (getattr(data, name) or "").strip()
        ]
        if missing:
            raise invalid("A new account needs its purpose and audience.", missing)
        strategies.require_active_slot(session, user, self.settings.max_active_accounts)
        return None

    def _instance(self, data: FlowStart, target: Account | None) -> str:
        typed = data.instance or (target.base_url if target is not None else None)
        return typed_address(typed, "instance", normalise_instance,
                             ask="Name your Mastodon instance, such as fosstodon.org.")  # fmt: skip

    def _site(self, data: FlowStart, target: Account | None) -> str:
        typed = data.site or (target.base_url if target is not None else None)
        return typed_address(typed, "site", normalise_site,
                             ask="Give your site's address, such as blog.example.com.")  # fmt: skip

    async def _wordpress_page(self, site: str) -> str:
        """The site's "authorise application" page, asked of the site through the gate."""
        async with http_client(self.settings) as client:
            api = api_for(self.settings, client, Network.WORDPRESS)
            try:
                return await WORDPRESS.authorization_page(api, site)
            except ConnectError as error:
                raise connect_problem(error) from None

    async def _mastodon_app(
        self, instance: str, redirect: str
    ) -> tuple[AppCredentials, InstanceAuth]:
        """Handpost's registration on the instance: reused, or made once (a concurrent start
        that registered first wins; ours is then unused)."""
        async with http_client(self.settings) as client:
            api = api_for(self.settings, client, Network.MASTODON)
            try:
                auth = await MASTODON.instance_auth(api, instance)
                found = await self.db(
                    lambda s: repository.mastodon_app(s, instance, redirect), write=False
                )
                if found is None or set(found.scopes.split()) != set(auth.scopes):
                    client_id, secret = await MASTODON.register(
                        api, instance, redirect, auth.scopes
                    )
                    found = await self._keep_app(instance, redirect, auth, client_id, secret)
            except ConnectError as error:
                raise connect_problem(error) from None
        values = self.cipher().decrypt(found.secret_ciphertext)
        return AppCredentials(found.client_id, values["client_secret"]), auth

    async def _keep_app(
        self, instance: str, redirect: str, auth: InstanceAuth, client_id: str, secret: str
    ) -> MastodonApp:
        app = MastodonApp(
            instance_url=instance,
            redirect_uri=redirect,
            scopes=" ".join(auth.scopes),
            client_id=client_id,
            secret_ciphertext=self.cipher().encrypt({"client_secret": secret}),
        )

        def keep(session: Session) -> MastodonApp:
            old = repository.mastodon_app(session, instance, redirect)
            if old is not None:
                session.delete(old)  # registered for other scopes: replaced
                session.flush()
            session.add(app)
            return app

        try:
            return await self.db(keep)
        except IntegrityError:
            found = await self.db(
                lambda s: repository.mastodon_app(s, instance, redirect), write=False
            )
            assert found is not None
            return found

    # -- the network's answer ---------------------------------------------------------------

    async def callback(
        self, network_name: str, query: Mapping[str, str], cookie: str | None
    ) -> pages.Refusal | str:
        """Where the browser goes next (a URL), or why the callback is refused."""
        state = query.get("state") or ""
        if not state or len(state) > 500:
            return pages.state_missing()
        flow = await self.db(lambda s: repository.flow_by_state(s, digest(state)), write=False)
        if flow is None:
            return pages.state_unknown()
        if flow.network != network_name:
            return pages.wrong_network()
        if not self.same_browser(flow, cookie):
            return pages.other_browser()  # the flow stays usable in its own browser
        now = utcnow()
        taken = await self.db(
            lambda s: repository.take_flow(
                s, flow.id, FlowStatus.STARTED, FlowStatus.EXCHANGING, now
            )
        )
        if not taken:  # used by a replay (maybe at this very moment), or too old
            again = await self.db(lambda s: repository.flow_by_state(s, digest(state)), write=False)
            used = again is None or again.status != FlowStatus.STARTED
            return pages.state_used() if used else pages.state_expired()
        connector = connector_for(flow.network)
        try:
            outcome = await self._exchange(flow, connector, query)
        except ConnectError as error:
            await self._finish(flow)
            log.info("connecting %s failed: %s", flow.network, error.message)
            return pages.connect_failed(connector.display_name, error.message, retry=error.retry)
        except pages.RefusedCallback as refused:
            await self._finish(flow)
            return refused.refusal
        if isinstance(outcome, list):
            await self._offer_pages(flow, outcome)
            return f"/#/connect/{flow.id}"
        try:
            account = await self.db(lambda s: self.adopt(s, flow.user_id, flow, outcome))
        except ProblemError as problem:
            await self._finish(flow)
            return pages.connect_failed(
                connector.display_name, problem.detail, retry=False, kind=problem.slug
            )
        await self._finish(flow)
        return f"/#/accounts?connected={account.id}"

    async def _exchange(
        self, flow: ConnectFlow, connector: Connector, query: Mapping[str, str]
    ) -> Connected | list[PageChoice]:
        error = query.get("error") or query.get("error_reason")
        if error:
            description = query.get("error_description") or query.get("error_message") or ""
            raise pages.RefusedCallback(
                pages.network_said_no(connector.display_name, error, description)
            )
        network = Network(flow.network)
        if network is Network.WORDPRESS:
            assert flow.instance_url is not None
            async with http_client(self.settings) as client:
                api = api_for(self.settings, client, network)
                return await WORDPRESS.accept(api, flow.instance_url, query)
        code = query.get("code") or ""
        if not code or len(code) > 4096:
            raise ConnectError(f"{connector.display_name} sent no authorization code back.")
        verifier = None
        if flow.verifier_ciphertext is not None:
            verifier = self.cipher().decrypt(flow.verifier_ciphertext)["verifier"]
        if network is Network.MASTODON:
            assert flow.instance_url is not None
            app, auth = await self._mastodon_app(flow.instance_url, flow.redirect_uri)
            endpoints = Endpoints({"instance": flow.instance_url})
        else:
            found = app_credentials(self.settings, network)
            if found is None:
                raise ConnectError(f"{connector.display_name} is no longer set up on this server.")
            app, endpoints = found, endpoints_for(self.settings, connector)
        async with http_client(self.settings) as client:
            exchange = CodeExchange(
                api=api_for(self.settings, client, network),
                endpoints=endpoints,
                app=app,
                redirect_uri=flow.redirect_uri,
                code=code,
                code_verifier=verifier,
                config=live_config(self.settings),
            )
            if network is Network.MASTODON:
                return await MASTODON.exchange_for(exchange, auth.scopes)
            return await connector.exchange(exchange)

    async def _finish(self, flow: ConnectFlow) -> None:
        def finish(session: Session) -> None:
            repository.move_flow(session, flow.id, FlowStatus.EXCHANGING, FlowStatus.DONE, utcnow())
            repository.forget_pages(session, flow.id)

        await self.db(finish)

    async def _offer_pages(self, flow: ConnectFlow, choices: list[PageChoice]) -> None:
        listed = json.dumps([{"id": p.id, "name": p.name, "token": p.token} for p in choices])
        ciphertext = self.cipher().encrypt({"pages": listed})
        expires = utcnow() + timedelta(seconds=CHOOSE_SECONDS)

        def offer(session: Session) -> None:
            repository.offer_pages(session, flow.id, ciphertext, expires)
            repository.move_flow(
                session, flow.id, FlowStatus.EXCHANGING, FlowStatus.CHOOSING, utcnow()
            )

        await self.db(offer)

    # -- Facebook: the Page ----------------------------------------------------------------

    def pages_of(self, flow: ConnectFlow) -> list[PageChoice]:
        if flow.pages_ciphertext is None:
            return []
        listed = json.loads(self.cipher().decrypt(flow.pages_ciphertext)["pages"])
        return [PageChoice(str(p["id"]), str(p["name"]), str(p["token"])) for p in listed]

    async def open_flow(self, user: User, flow_id: str, cookie: str | None) -> ConnectFlow:
        flow = await self.db(lambda s: repository.flow_of_user(s, user.id, flow_id), write=False)
        if flow is None:
            raise not_found("connection", flow_id)
        if not self.same_browser(flow, cookie):
            raise ProblemError(
                403,
                "other-browser",
                "Another browser",
                "This connection was started in another browser; finish it there.",
            )
        return flow

    async def choose_page(
        self, user: User, flow_id: str, page_id: str, cookie: str | None
    ) -> Account:
        flow = await self.open_flow(user, flow_id, cookie)
        if flow.status != FlowStatus.CHOOSING or flow.expires_at <= utcnow():
            raise ProblemError(
                409,
                "connection-finished",
                "Connection finished",
                "This connection is already finished or has expired; start again from the "
                "accounts page.",
            )
        chosen = next((p for p in self.pages_of(flow) if p.id == page_id), None)
        if chosen is None:
            raise invalid(
                "That is not one of the Pages Facebook listed.",
                [{"field": "page_id", "code": "unknown-page", "message": "Choose a listed Page."}],
            )
        now = utcnow()
        taken = await self.db(
            lambda s: repository.take_flow(s, flow.id, FlowStatus.CHOOSING, FlowStatus.DONE, now)
        )
        if not taken:
            raise ProblemError(
                409, "connection-finished", "Connection finished", "This Page was already chosen."
            )
        connected = FACEBOOK.page_connected(chosen, endpoints_for(self.settings, FACEBOOK))
        try:
            return await self.db(lambda s: self.adopt(s, user.id, flow, connected))
        finally:
            await self.db(lambda s: repository.forget_pages(s, flow.id))

    # -- Bluesky ----------------------------------------------------------------------------

    async def connect_bluesky(self, user: User, data: BlueskyConnect) -> Account:
        target = await self.db(lambda s: self._target(s, user, Network.BLUESKY, data), write=False)
        try:
            handle = normalise_handle(data.handle)
        except ValueError as exc:
            raise invalid(
                f"{exc}.", [{"field": "handle", "code": "invalid", "message": str(exc)}]
            ) from None
        endpoints = endpoints_for(self.settings, BLUESKY)
        async with http_client(self.settings) as client:
            trusted = Api(client, "Bluesky")
            gated = api_for(self.settings, client, Network.BLUESKY)
            try:
                resolved = await BLUESKY.resolve(trusted, gated, endpoints, handle)
                connected = await BLUESKY.login(gated, resolved, data.app_password)
            except ConnectError as error:
                raise connect_problem(error) from None
        profile = _profile(data)
        return await self.db(
            lambda s: self.adopt(s, user.id, None, connected, Network.BLUESKY, target, profile)
        )

    # -- Ghost ------------------------------------------------------------------------------

    async def connect_ghost(self, user: User, data: GhostConnect) -> Account:
        target = await self.db(lambda s: self._target(s, user, Network.GHOST, data), write=False)
        site = typed_address(data.site, "site", normalise_site, ask="Give your site's address.")
        async with http_client(self.settings) as client:
            api = api_for(self.settings, client, Network.GHOST)
            try:
                connected = await GHOST.check(api, site, data.admin_api_key)
            except ConnectError as error:
                raise connect_problem(error) from None
        profile = _profile(data)
        return await self.db(
            lambda s: self.adopt(s, user.id, None, connected, Network.GHOST, target, profile)
        )

    # -- the account at the end --------------------------------------------------------------

    def adopt(
        self,
        session: Session,
        user_id: str,
        flow: ConnectFlow | None,
        connected: Connected,
        network: Network | None = None,
        target: Account | None = None,
        profile: dict[str, Any] | None = None,
    ) -> Account:
        """Create the account, or reconnect the one being reconnected (or already connected
        as this identity), with the new credentials; in the caller's transaction."""
        network = network or Network(flow.network if flow else "")
        if flow is not None:
            profile = json.loads(flow.profile)
            if flow.account_id is not None:
                target = accounts.get(session, user_id, flow.account_id)
                if target is None:
                    raise not_found("account", flow.account_id)
        identity = connected.identity
        if target is not None:
            self._same_identity(session, target, connected)
        else:
            target = repository.account_of_identity(
                session, user_id, network.value, identity.external_id, identity.handle
            )
        check_credentials(network, connected.credentials)
        now = utcnow()
        ciphertext = self.cipher().encrypt(connected.credentials)
        if target is None:
            user = session.get(User, user_id)
            assert user is not None
            strategies.require_active_slot(session, user, self.settings.max_active_accounts)
            profile = profile or {}
            account = Account(
                user_id=user_id,
                network=network.value,
                handle=identity.handle,
                handle_key=identity.handle.casefold(),
                display_name=identity.display_name,
                purpose=profile.get("purpose") or "",
                audience=profile.get("audience") or "",
                sphere=profile.get("sphere"),
                mode=AccountMode.LIVE,
                base_url=connected.base_url,
                credentials_ciphertext=ciphertext,
            )
            session.add(account)
            kind, verb = EventKind.CONNECTED, "Connected"
        else:
            account = target
            account.handle = identity.handle
            account.handle_key = identity.handle.casefold()
            account.display_name = identity.display_name or account.display_name
            account.mode = AccountMode.LIVE
            account.base_url = connected.base_url
            account.credentials_ciphertext = ciphertext
            account.status = AccountStatus.ACTIVE
            account.status_message = None
            account.updated_at = now
            account.version += 1
            session.add(account)
            kind, verb = EventKind.RECONNECTED, "Reconnected"
        try:
            session.flush()
        except IntegrityError as exc:
            raise ProblemError(
                409,
                "account-exists",
                "Account already connected",
                f"A {network.value} account with handle {identity.handle!r} is already connected.",
            ) from exc
        state = token_state(network, connected.credentials)
        repository.set_token_state(
            session,
            account.id,
            external_id=identity.external_id,
            connected_at=now,
            refreshed_at=now,
            expiry_warned_at=None,
            **state.columns(),
        )
        shown = identity.handle if network is Network.FACEBOOK else f"@{identity.handle}"
        if identity.display_name:
            shown = f"{identity.display_name} ({shown})"
        note = f"; {connected.note}" if connected.note else ""
        repository.add_event(session, account.id, kind, f"{verb} as {shown}{note}.", now)
        return account

    def _same_identity(self, session: Session, account: Account, connected: Connected) -> None:
        known = repository.connection(session, account.id)
        identity = connected.identity
        if known is not None and known.external_id:
            same = known.external_id == identity.external_id
        else:  # pasted credentials: only the handle is known
            same = account.handle_key in (
                identity.handle.casefold(),
                identity.external_id.casefold(),
            )
        if not same:
            raise ProblemError(
                409,
                "different-identity",
                "A different account",
                f"You signed in as {identity.handle}, but this Handpost account is "
                f"{account.handle}. Sign out of the network and reconnect as {account.handle}, "
                f"or add {identity.handle} as a new account.",
            )


def _profile(data: Profile) -> dict[str, Any]:
    return {
        "purpose": (data.purpose or "").strip(),
        "audience": (data.audience or "").strip(),
        "sphere": data.sphere.value if data.sphere else None,
    }


def typed_address(
    typed: str | None, field: str, normalise: Callable[[str], str], *, ask: str
) -> str:
    """The server address a person typed (an instance, a site), normalised; 422 if unusable."""
    if not typed:
        raise invalid(ask, [{"field": field, "code": "required", "message": ask}])
    try:
        return normalise(typed)
    except ValueError as exc:
        raise invalid(
            f"That is not a usable address: {exc}.",
            [{"field": field, "code": "invalid", "message": str(exc)}],
        ) from None


def not_set_up(connector: Connector) -> ProblemError:
    name = connector.network.value.upper()
    return ProblemError(
        409,
        "network-not-set-up",
        "Network not set up",
        f"{connector.display_name} is not set up on this server: its administrator must "
        f"register an app with {connector.display_name} and set HANDPOST_{name}_CLIENT_ID and "
        f"HANDPOST_{name}_CLIENT_SECRET (see {DOCS_URL}#{connector.network.value}).",
    )


def connect_problem(error: ConnectError) -> ProblemError:
    if error.retry:
        return ProblemError(502, "network-unavailable", "The network did not answer", error.message)
    return ProblemError(422, "connect-refused", "The connection was refused", error.message)
