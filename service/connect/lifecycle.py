"""The token lifecycle: renew tokens ahead of expiry, one process per account, and say so.

Two callers renew tokens: the live publisher, just before a send that would otherwise fail,
and the lifecycle chore, well ahead of expiry. Several replicas may run both. A rotated
refresh token that is used twice is lost for good (X, Bluesky), so a renewal first takes the
account's lease in the database (a conditional update: one process wins); the others wait for
its result or skip. The renewed credentials are saved with a compare-and-swap on the
ciphertext, in the same transaction as the new token facts, the lease's release and the
account's event. A renewal the network refuses marks the account ``needs_reconnect`` at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any

import httpx

from service.accounts import repository as accounts
from service.accounts.credentials import (
    CredentialCipher,
    CredentialsUnreadable,
    cipher_for,
    secret_values,
)
from service.accounts.models import Account, AccountMode, AccountStatus
from service.config import Settings
from service.connect import repository
from service.connect.models import EventKind
from service.connect.tokens import token_state
from service.db import Database, utcnow
from service.networks import CONNECTORS
from service.networks._common import REDACTED
from service.networks._http import Api, NetworkError, ReconnectNeeded
from service.networks.base import AccountRef, Network
from service.webhooks import outbox as webhook_outbox

log = logging.getLogger("handpost.connect")

# Networks whose API host is one the person gave (an instance, a PDS, a blog): calls to it go
# through the SSRF gate (service.outbound).
USER_GIVEN_HOSTS = frozenset({Network.MASTODON, Network.BLUESKY, Network.WORDPRESS, Network.GHOST})
# After a renewal failed for a passing reason, try again this much later (or sooner if the
# token expires sooner).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
EVENTS_KEPT = timedelta(days=365)
FLOWS_KEPT = timedelta(days=1)
# At most this many accounts per round, renewed this many at a time (the round repeats every
# HANDPOST_TOKEN_CHECK_SECONDS; tokens are renewed well ahead of expiry).
RENEWALS_PER_ROUND = 100
RENEWALS_AT_ONCE = 4


def process_owner() -> str:
    """A name for this process's leases: host, pid and a random part (two apps in one test
    process must not share one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def http_client(settings: Settings) -> httpx.AsyncClient:
    connect = settings.http_connect_timeout
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_read_timeout, connect=connect, pool=connect),
        headers={"User-Agent": "Handpost (self-hosted post scheduler)"},
        follow_redirects=False,
    )


def api_for(settings: Settings, client: httpx.AsyncClient, network: Network) -> Api:
    connector = CONNECTORS[network]
    policy = settings.outbound if network in USER_GIVEN_HOSTS else None
    return Api(client, connector.display_name, outbound=policy)


def scrub(text: str, credentials: dict[str, str]) -> str:
    for value in secret_values(credentials):
        text = text.replace(value, REDACTED)
    return text


class Renewals:
    """The database side of renewing one account's token; methods run in worker threads."""

    def __init__(self, database: Database, settings: Settings, owner: str | None = None) -> None:
        self.database = database
        self.settings = settings
        self.owner = owner or process_owner()
        self._cipher: CredentialCipher | None = None
        # Longer than one renewal call can take: a lease that lapses means its holder died.
        self.lease = timedelta(
            seconds=settings.http_connect_timeout + settings.http_read_timeout + 15
        )

    def cipher(self) -> CredentialCipher:
        if self._cipher is None:
            self._cipher = cipher_for(self.settings)
        return self._cipher

    def claim(self, account_id: str, *, only_if_due: bool = False) -> bool:
        now = utcnow()
        with self.database.session() as session:
            repository.ensure_connection(session, account_id)
            claimed = repository.claim_renewal(
                session, account_id, self.owner, now + self.lease, now, only_if_due=only_if_due
            )
            session.commit()
        return claimed

    def held_elsewhere(self, account_id: str) -> bool:
        with self.database.session(read_only=True) as session:
            owner, until = repository.renewal_lease(session, account_id)
        return owner is not None and owner != self.owner and until is not None and until > utcnow()

    def release(self, account_id: str, **values: Any) -> None:
        with self.database.session() as session:
            repository.release_renewal(session, account_id, self.owner, **values)
            session.commit()

    def save(
        self, account_id: str, network: Network, old_ciphertext: str, renewed: dict[str, str]
    ) -> str | None:
        """Store the renewed credentials if they are still ``old_ciphertext``'s successors.

        Returns the new ciphertext, or None when the credentials changed meanwhile (the
        person reconnected): then nothing is overwritten.
        """
        ciphertext = self.cipher().encrypt(renewed)
        now = utcnow()
        state = token_state(network, renewed)
        with self.database.session() as session:
            saved = accounts.swap_credentials(session, account_id, old_ciphertext, ciphertext)
            if saved:
                repository.release_renewal(
                    session, account_id, self.owner, refreshed_at=now, **state.columns()
                )
                until = f" until {state.expires_at:%Y-%m-%d %H:%M} UTC" if state.expires_at else ""
                repository.add_event(
                    session, account_id, EventKind.REFRESHED, f"Token renewed{until}.", now
                )
            else:
                repository.release_renewal(session, account_id, self.owner)
            session.commit()
        return ciphertext if saved else None

    def flag(self, account_id: str, ciphertext: str | None, message: str) -> bool:
        """Mark the account ``needs_reconnect`` (unless its credentials changed since they
        failed), with the event that says why and its webhook event, in one transaction;
        nothing is renewed for it any more."""
        now = utcnow()
        with self.database.session() as session:
            flagged = accounts.mark_needs_reconnect(session, account_id, ciphertext, message)
            account = session.get(Account, account_id) if flagged else None
            if account is not None:
                repository.add_event(session, account_id, EventKind.NEEDS_RECONNECT, message, now)
                repository.set_token_state(session, account_id, refresh_due_at=None)
                webhook_outbox.account_needs_reconnect(
                    session,
                    user_id=account.user_id,
                    account_id=account.id,
                    network=account.network,
                    handle=account.handle,
                    message=message,
                    public_url=self.settings.public_url,
                )
            repository.release_renewal(session, account_id, self.owner)
            session.commit()
        return flagged

    def failed_for_now(self, account_id: str, message: str, retry_at: datetime) -> None:
        with self.database.session() as session:
            repository.add_event(session, account_id, EventKind.REFRESH_FAILED, message, utcnow())
            repository.release_renewal(session, account_id, self.owner, refresh_due_at=retry_at)
            session.commit()

    def read(self, account_id: str) -> Account | None:
        with self.database.session(read_only=True) as session:
            return session.get(Account, account_id)


async def wait_for_other_renewal(
    renewals: Renewals, account_id: str, ciphertext: str, read_ciphertext: Any
) -> bool:
    """While another process holds the lease: wait for it to finish. True when it saved new
    credentials (the caller adopts them), False when it let go without."""
    deadline = asyncio.get_running_loop().time() + renewals.lease.total_seconds()
    while asyncio.get_running_loop().time() < deadline:
        current = await asyncio.to_thread(read_ciphertext, account_id)
        if current is not None and current != ciphertext:
            return True
        if not await asyncio.to_thread(renewals.held_elsewhere, account_id):
            current = await asyncio.to_thread(read_ciphertext, account_id)
            return current is not None and current != ciphertext
        await asyncio.sleep(0.1)
    return False


class TokenLifecycle:
    """The chore: renew what is due, warn about tokens that will end, tidy old rows."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.renewals = Renewals(database, settings)

    async def run(self, _database: Database) -> str | None:
        """Every chore in one go (tests, and a single process wanting all of it now)."""
        done = [await self.renew_due(_database), self.warn(_database), self.tidy(_database)]
        return "; ".join(d for d in done if d) or None

    async def renew_due(self, _database: Database) -> str | None:
        """Renew what is due; reads only, unless something is due."""
        due = await asyncio.to_thread(self._due)
        if not due:
            return None
        slots = asyncio.Semaphore(RENEWALS_AT_ONCE)

        async def renew(client: httpx.AsyncClient, account_id: str) -> str:
            async with slots:
                return await self.renew(client, account_id)

        async with http_client(self.settings) as client:
            results = await asyncio.gather(*(renew(client, a) for a in due))
        renewed = sum(1 for r in results if r == "renewed")
        failed = len([r for r in results if r not in ("renewed", "skipped")])
        if not (renewed or failed):
            return None
        return f"renewed {renewed} tokens, {failed} could not be"

    def warn(self, _database: Database) -> str | None:
        warned = self._warn_before_expiry()
        return f"warned about {warned} tokens that end soon" if warned else None

    def tidy(self, _database: Database) -> str | None:
        removed = self._tidy()
        return f"removed {removed} expired connect flows and old events" if removed else None

    def _due(self) -> list[str]:
        with self.database.session(read_only=True) as session:
            return repository.accounts_due_for_renewal(session, utcnow(), RENEWALS_PER_ROUND)

    async def renew(self, client: httpx.AsyncClient, account_id: str) -> str:
        """Renew one account's token if it is due and nobody else is at it."""
        renewals = self.renewals
        if not await asyncio.to_thread(renewals.claim, account_id, only_if_due=True):
            return "skipped"
        account = await asyncio.to_thread(renewals.read, account_id)
        if (
            account is None
            or account.credentials_ciphertext is None
            or account.mode != AccountMode.LIVE
            or account.status != AccountStatus.ACTIVE
        ):
            await asyncio.to_thread(renewals.release, account_id)
            return "skipped"
        network = Network(account.network)
        connector = CONNECTORS[network]
        ciphertext = account.credentials_ciphertext
        try:
            credentials = renewals.cipher().decrypt(ciphertext)
        except CredentialsUnreadable as exc:
            retry = utcnow() + timedelta(hours=1)
            await asyncio.to_thread(renewals.failed_for_now, account_id, str(exc), retry)
            return "unreadable"
        ref = AccountRef(id=account.id, handle=account.handle, base_url=account.base_url)
        api = api_for(self.settings, client, network)
        try:
            renewed = await connector.refresh(api, ref, dict(credentials))
        except ReconnectNeeded as refused:
            message = scrub(refused.message, credentials)
            flagged = await asyncio.to_thread(renewals.flag, account_id, ciphertext, message)
            if flagged:
                log.warning("account %s needs reconnecting: %s", account_id, message)
            return "refused"
        except NetworkError as error:
            message = scrub(
                f"Renewing the token failed; trying again: {error.message}", credentials
            )
            retry_at = self._retry_at(connector.expires_at(credentials))
            await asyncio.to_thread(renewals.failed_for_now, account_id, message, retry_at)
            log.warning("account %s: %s", account_id, message)
            return "failed"
        except Exception:  # a bug must not hold the lease until it lapses
            log.exception("account %s: renewing its token failed unexpectedly", account_id)
            retry_at = self._retry_at(connector.expires_at(credentials))
            message = "Renewing the token failed unexpectedly; trying again later."
            await asyncio.to_thread(renewals.failed_for_now, account_id, message, retry_at)
            return "failed"
        saved = await asyncio.to_thread(renewals.save, account_id, network, ciphertext, renewed)
        return "renewed" if saved else "skipped"

    @staticmethod
    def _retry_at(expires: datetime | None) -> datetime:
        now = utcnow()
        wait = RETRY_AFTER_FAILURE
        if expires is not None and expires > now:
            wait = min(wait, max(timedelta(seconds=30), (expires - now) / 2))
        return now + wait

    def _warn_before_expiry(self) -> int:
        """An event for each token that cannot be renewed and ends within the warning window
        (LinkedIn's 60 days): once a week per account, claimed so replicas warn once."""
        now = utcnow()
        window = timedelta(days=self.settings.token_warning_days)
        with self.database.session(read_only=True) as session:
            ending = repository.unrenewable_expiring(session, now + window, now - timedelta(days=7))
        if not ending:
            return 0  # no write transaction (SQLite's one writer) when there is nothing to say
        warned = 0
        with self.database.session() as session:
            for connection, account in ending:
                ends = connection.token_expires_at
                if ends is None:
                    continue
                claimed = repository.claim_warning(
                    session, account.id, now, now - timedelta(days=7)
                )
                if not claimed:
                    continue
                name = CONNECTORS[Network(account.network)].display_name
                if ends <= now:
                    message = (
                        f"The {name} access ended on {ends:%Y-%m-%d} and cannot be "
                        "renewed: reconnect the account."
                    )
                else:
                    message = (
                        f"The {name} access ends on {ends:%Y-%m-%d %H:%M} UTC and "
                        "the network gives no way to renew it: reconnect the account before "
                        "then, or its posts will fail."
                    )
                repository.add_event(session, account.id, EventKind.WARNING, message, now)
                warned += 1
            session.commit()
        return warned

    def _tidy(self) -> int:
        now = utcnow()
        with self.database.session() as session:
            removed = repository.delete_flows_expired_before(session, now - FLOWS_KEPT)
            removed += repository.delete_events_before(session, now - EVENTS_KEPT)
            session.commit()
        return removed
