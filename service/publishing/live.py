"""The live publisher: sends a claimed post to its network for real, through its adapter.

Around every network's adapter it does the same things, written once here:

* loads the account's credentials and decrypts them only for the send; an account that
  needs reconnecting fails at once, without calling the network;
* limits the requests in flight per network (a burst of due posts must not trip rate limits);
* renews tokens before they expire and once after a refusal, under the account's renewal
  lease (service.connect.lifecycle, shared with the lifecycle chore and other replicas), saving
  the new ones with a compare-and-swap on the ciphertext, in their own transaction, before the
  post is sent (a rotated refresh token that is used twice, or not saved, is lost for good);
* marks the account ``needs_reconnect`` when only the user can fix its access, and fails
  the post with a message saying so;
* turns the adapter's classified errors into ``PublishFailure`` for the dispatcher, with the
  redacted request and every call made, and with no secret in any message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from service.accounts.credentials import (
    CredentialCipher,
    CredentialsUnreadable,
    cipher_for,
    secret_values,
)
from service.accounts.models import AccountStatus
from service.config import Settings
from service.connect.lifecycle import USER_GIVEN_HOSTS, Renewals, wait_for_other_renewal
from service.db import Database
from service.media.outgoing import StoredMedia
from service.media.storage import storage_for
from service.networks import ADAPTERS as NETWORK_ADAPTERS
from service.networks._common import REDACTED
from service.networks._http import (
    Api,
    Attempt,
    LiveAdapter,
    LiveConfig,
    NetworkError,
    ReconnectNeeded,
    TokenExpired,
)
from service.networks.base import FailureKind, Network
from service.publishing import repository as publishing
from service.publishing.publishers import (
    AccountAccess,
    PublishFailure,
    PublishJob,
    PublishResult,
)
from service.youtube.ledger import YouTubeLedger

log = logging.getLogger("handpost.live")

# The networks Handpost publishes to by API (service.networks.NetworkAdapter.live).
ADAPTERS: dict[Network, LiveAdapter] = {
    network: adapter.live for network, adapter in NETWORK_ADAPTERS.items() if adapter.live
}
DEFAULT_NETWORK_CONCURRENCY = 4


@dataclass
class StoredCredentials:
    """The account's access as last read: the ciphertext (for compare-and-swap) and values."""

    ciphertext: str
    values: dict[str, str]


class LivePublisher:
    """One per process: owns the HTTP client, the per-network limits and per-account locks."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.config = LiveConfig(
            linkedin_version=settings.linkedin_version,
            facebook_graph_version=settings.facebook_graph_version,
            resend_window_seconds=settings.missed_grace_seconds,
            outbound=settings.outbound,
            media_processing_seconds=settings.media_processing_wait_seconds,
        )
        self._cipher: CredentialCipher | None = None
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._account_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._renewals = Renewals(database, settings)
        # Networks that upload in steps keep their progress in the database.
        self._ledgers: dict[Network, object] = {Network.YOUTUBE: YouTubeLedger(database, settings)}

    # -- the Publisher protocol --------------------------------------------------------------

    def may_resend_after_crash(self, job: PublishJob) -> bool:
        adapter = ADAPTERS.get(job.network)
        return adapter is not None and adapter.may_resend_after_crash(self.config)

    async def publish(self, job: PublishJob) -> PublishResult:
        adapter = ADAPTERS.get(job.network)
        if adapter is None:
            raise PublishFailure(
                FailureKind.PERMANENT,
                f"Handpost cannot publish to {job.network.value} live yet (it needs media "
                "upload); switch the account to sandbox mode.",
            )
        async with self._limit(job.network):
            return await self._publish(adapter, job)

    async def aclose(self) -> None:
        """Close the HTTP client (its connections); the publisher can be used again after."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- one post ------------------------------------------------------------------------------

    async def _publish(self, adapter: LiveAdapter, job: PublishJob) -> PublishResult:
        name = adapter.display_name
        stored = await self._credentials(job, name)
        # An instance or PDS the person gave is called only through the SSRF gate.
        gate = self.settings.outbound if job.network in USER_GIVEN_HOSTS else None
        api = Api(self._http(), name, outbound=gate)
        attempt = Attempt(
            content=job.content,
            account=job.account,
            publish_key=job.publish_key,
            number=max(1, job.attempt),
            credentials=stored.values,
            api=api,
            config=self.config,
            media=self._media(job),
            before_create=job.before_send,
            ledger=self._ledgers.get(job.network),
        )
        try:
            try:
                await self._prepare(adapter, api, job, stored)
                attempt.credentials = stored.values
                published = await adapter.publish(attempt)
            except TokenExpired as refused:
                # Refused before anything was created: renew once and send again.
                if not adapter.can_refresh(stored.values):
                    raise ReconnectNeeded(refused.message, refused.http_status) from None
                await self._renew(adapter, api, job, stored, refused=True)
                attempt.credentials = stored.values
                published = await adapter.publish(attempt)
        except TokenExpired as refused:
            raise await self._reconnect(
                job, name, stored, ReconnectNeeded(refused.message, refused.http_status), attempt
            ) from None
        except ReconnectNeeded as needed:
            raise await self._reconnect(job, name, stored, needed, attempt) from None
        except NetworkError as error:
            raise PublishFailure(
                error.kind,
                self._scrub(error.message, stored),
                http_status=error.http_status,
                retry_after=error.retry_after,
                request=self._record(attempt),
            ) from None
        return PublishResult(
            external_id=published.external_id,
            external_url=published.url,
            http_status=published.http_status,
            message=self._scrub(published.message, stored),
            request=self._record(attempt),
        )

    async def _credentials(self, job: PublishJob, name: str) -> StoredCredentials:
        """The account's decrypted credentials; fails fast if it must be reconnected first."""
        row = job.access or await asyncio.to_thread(self._read, job.account.id)
        if row is None:
            raise PublishFailure(FailureKind.PERMANENT, "The account no longer exists.")
        if row.status == AccountStatus.NEEDS_RECONNECT:
            reason = row.status_message or f"{name} refused its access"
            raise PublishFailure(
                FailureKind.PERMANENT,
                f"Reconnect your {name} account: {reason}. Nothing was sent; give the account "
                "new credentials, then reschedule the post.",
            )
        if row.ciphertext is None:
            raise PublishFailure(
                FailureKind.PERMANENT,
                f"This live {name} account has no credentials; give it its credentials or "
                "switch it to sandbox mode.",
            )
        return StoredCredentials(row.ciphertext, self._decrypt(row.ciphertext))

    async def _prepare(
        self, adapter: LiveAdapter, api: Api, job: PublishJob, stored: StoredCredentials
    ) -> None:
        """Open or renew the session ahead of the send, where the adapter wants that."""
        if not adapter.needs_refresh(stored.values):
            return
        try:
            await self._renew(adapter, api, job, stored, refused=False)
        except NetworkError as error:
            # A refused renewal (ReconnectNeeded) is not caught: the account is marked at once,
            # rather than sending on an old token and trying the renewal again every post.
            if not adapter.has_session(stored.values):
                raise  # nothing to send with
            # The current token may still work; if not, the send says so and renews again.
            log.warning(
                "account %s: renewing its %s token ahead of time failed: %s",
                job.account.id,
                adapter.display_name,
                self._scrub(str(error), stored),
            )

    async def _renew(
        self,
        adapter: LiveAdapter,
        api: Api,
        job: PublishJob,
        stored: StoredCredentials,
        *,
        refused: bool,
    ) -> None:
        """Renew the token (or session) and save it before anything is sent with it.

        One renewal at a time per account in this process (a lock), and across processes (the
        account's renewal lease in the database, shared with the lifecycle chore): a rotated
        refresh token is never used twice. Whoever finds the lease taken waits for the
        holder's result and uses its tokens. The save is a compare-and-swap.
        """
        account_id = job.account.id
        async with self._account_lock(account_id):
            if await self._adopt_newer(job, stored) and (
                refused or not adapter.needs_refresh(stored.values)
            ):
                return  # renewed by another send while this one waited
            renewals = self._renewals
            if not await asyncio.to_thread(renewals.claim, account_id):
                if await wait_for_other_renewal(
                    renewals, account_id, stored.ciphertext, self._ciphertext
                ) and await self._adopt_newer(job, stored):
                    return  # another process renewed it
                raise NetworkError(
                    FailureKind.RETRYABLE,
                    "Another process was renewing the account's token; trying again shortly.",
                )
            try:
                renewed = await adapter.refresh(api, job.account, dict(stored.values))
            except BaseException as failure:
                await asyncio.to_thread(renewals.release, account_id)
                if isinstance(failure, ReconnectNeeded) and await self._adopt_newer(job, stored):
                    return  # our refresh token was spent by a process that saved anew
                raise
            network = Network(job.network)
            ciphertext = await asyncio.to_thread(
                renewals.save, account_id, network, stored.ciphertext, renewed
            )
            if ciphertext is not None:
                stored.ciphertext, stored.values = ciphertext, renewed
                log.info("account %s: renewed its %s token", account_id, adapter.display_name)
            elif not await self._adopt_newer(job, stored):
                raise NetworkError(
                    FailureKind.RETRYABLE, "The account's credentials changed while renewing them."
                )

    async def _adopt_newer(self, job: PublishJob, stored: StoredCredentials) -> bool:
        """If the stored credentials changed since ``stored`` was read, switch to them."""
        row = await asyncio.to_thread(self._read, job.account.id)
        if row is None or row.ciphertext is None or row.ciphertext == stored.ciphertext:
            return False
        stored.ciphertext, stored.values = row.ciphertext, self._decrypt(row.ciphertext)
        return True

    async def _reconnect(
        self,
        job: PublishJob,
        name: str,
        stored: StoredCredentials,
        needed: ReconnectNeeded,
        attempt: Attempt,
    ) -> PublishFailure:
        """Flag the account (unless its credentials were replaced meanwhile) and say why."""
        reason = self._scrub(needed.message, stored)
        flagged = await asyncio.to_thread(self._flag, job.account.id, stored.ciphertext, reason)
        if flagged:
            log.warning("account %s needs reconnecting: %s", job.account.id, reason)
        elif await self._adopt_newer(job, stored):
            # The job's credentials were read with the claim; the user has replaced them since.
            return PublishFailure(
                FailureKind.RETRYABLE,
                f"{name} refused the account's previous credentials ({reason}); they were "
                "replaced meanwhile, so the post goes again with the new ones.",
                http_status=needed.http_status,
                request=self._record(attempt),
            )
        return PublishFailure(
            FailureKind.PERMANENT,
            f"Reconnect your {name} account: {reason}. The account is marked as needing "
            "reconnection; its posts will fail until it gets new credentials.",
            http_status=needed.http_status,
            request=self._record(attempt),
        )

    # -- helpers ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _limit(self, network: Network) -> AsyncIterator[None]:
        semaphore = self._limits.get(network)
        if semaphore is None:
            size = self.settings.network_concurrency.get(network.value, DEFAULT_NETWORK_CONCURRENCY)
            semaphore = self._limits[network] = asyncio.Semaphore(max(1, size))
        async with semaphore:
            yield

    def _media(self, job: PublishJob) -> StoredMedia | None:
        """The post's files and what the network already has of them (None without files)."""
        if not job.content.media:
            return None
        return StoredMedia(
            self.database,
            storage_for(self.settings),
            post_id=job.post_id,
            account_id=job.account.id,
            network=job.network.value,
            settings=self.settings,
        )

    def _account_lock(self, account_id: str) -> asyncio.Lock:
        return self._account_locks.setdefault(account_id, asyncio.Lock())

    def _http(self) -> httpx.AsyncClient:
        """The shared client, made in the running loop (a client is bound to its loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            connect = self.settings.http_connect_timeout
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    self.settings.http_read_timeout, connect=connect, pool=connect
                ),
                headers={"User-Agent": "Handpost (self-hosted post scheduler)"},
                follow_redirects=False,
            )
            self._client_loop = loop
        return self._client

    def _cipher_(self) -> CredentialCipher:
        if self._cipher is None:
            self._cipher = cipher_for(self.settings)
        return self._cipher

    def _decrypt(self, ciphertext: str) -> dict[str, str]:
        try:
            return self._cipher_().decrypt(ciphertext)
        except CredentialsUnreadable as exc:
            raise PublishFailure(FailureKind.PERMANENT, str(exc)) from None

    @staticmethod
    def _scrub(text: str, stored: StoredCredentials) -> str:
        """Belt and braces: no credential value survives into a message, even if echoed."""
        for secret in secret_values(stored.values):
            text = text.replace(secret, REDACTED)
        return text

    @staticmethod
    def _record(attempt: Attempt) -> dict[str, Any] | None:
        """The create request (redacted) and every call of the attempt, for the publish log."""
        if attempt.request is None and not attempt.api.trace:
            return None
        record = attempt.request.as_record() if attempt.request is not None else {}
        record["calls"] = list(attempt.api.trace)
        return record

    # -- database (run in a thread: the driver is synchronous) ----------------------------

    def _read(self, account_id: str) -> AccountAccess | None:
        # Read-only: on SQLite a plain session would queue every send for the write lock.
        with self.database.session(read_only=True) as session:
            account = publishing.accounts_by_id(session, [account_id]).get(account_id)
            if account is None:
                return None
            return AccountAccess.of(account)

    def _ciphertext(self, account_id: str) -> str | None:
        row = self._read(account_id)
        return row.ciphertext if row is not None else None

    def _flag(self, account_id: str, ciphertext: str, message: str) -> bool:
        return self._renewals.flag(account_id, ciphertext, message)
