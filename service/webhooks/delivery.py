"""The delivery worker: sends due webhook deliveries, signed, and logs every attempt.

A background chore (service.background) beside the dispatcher, safe with several replicas:
deliveries are claimed in the database under a lease (repository.claim_due), sent at most
``webhook_concurrency`` at once, each within ``webhook_timeout_seconds`` all told, only
through the outbound gate (service.outbound: no private addresses unless allowed, the
checked address pinned, no redirects followed), and their results written in one
transaction. A failed delivery comes due again after an exponential backoff with jitter,
until ``webhook_max_attempts``. Delivery is at least once: a receiver deduplicates by the
``webhook-id`` header, which is the same on every attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from service import outbound
from service.accounts.credentials import CredentialCipher, CredentialsUnreadable, cipher_for
from service.config import Settings
from service.db import Database, utcnow
from service.outbound import OutboundPolicy, OutboundRefused
from service.publishing.dispatcher import default_worker_id
from service.retry import jittered_backoff
from service.webhooks import repository, signing
from service.webhooks.models import AttemptOutcome, DeliveryState, WebhookAttempt
from service.webhooks.repository import ClaimedDelivery

log = logging.getLogger("handpost.webhooks")

# What the delivery log keeps of a receiver's answer; the rest is never read.
RESPONSE_BODY_BYTES = 1024
USER_AGENT = "Handpost-Webhooks/1 (+https://www.standardwebhooks.com)"


@dataclass(frozen=True)
class Sent:
    """One attempt's result, waiting to be written."""

    delivery: ClaimedDelivery
    started: datetime
    duration_ms: int
    status: int | None
    body: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


class WebhookDeliverer:
    """One per process; ``run`` is the chore: deliver everything due, then return."""

    def __init__(
        self, database: Database, settings: Settings, policy: OutboundPolicy | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.policy = policy or settings.outbound
        self.worker = settings.worker_id or default_worker_id()
        self._cipher: CredentialCipher | None = None

    @property
    def lease(self) -> timedelta:
        """Longer than a round can take (its sends run at once, each within the timeout, then
        one write), so a live worker's delivery is never taken over."""
        return timedelta(seconds=2 * self.settings.webhook_timeout_seconds + 30)

    async def run(self, _database: Database | None = None) -> str | None:
        """Deliver everything due, a round (a concurrency's worth) at a time; say what was done."""
        counts = {"delivered": 0, "retrying": 0, "failed": 0}
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return None  # the usual case: no client is made (an SSL context costs milliseconds)
        async with self._client() as client:
            while claimed:
                results = await asyncio.gather(*(self._send(client, d) for d in claimed))
                for outcome in await asyncio.to_thread(self._record, list(results)):
                    counts[outcome] += 1
                if len(claimed) < self.settings.webhook_concurrency:
                    break
                claimed = await asyncio.to_thread(self._claim)
        return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or None

    # -- claiming and recording (in a thread: the driver is synchronous) ---------------------

    def _claim(self) -> list[ClaimedDelivery]:
        now = utcnow()
        with self.database.session() as session:
            claimed = repository.claim_due(
                session,
                now=now,
                limit=self.settings.webhook_concurrency,
                worker=self.worker,
                lease_until=now + self.lease,
            )
            session.commit()
        return claimed

    def _record(self, results: list[Sent]) -> list[AttemptOutcome]:
        """Settle the deliveries and append to the delivery log, in one transaction."""
        outcomes: list[AttemptOutcome] = []
        with self.database.session() as session:
            for sent in results:
                outcome, values, retry_at = self._settlement(sent)
                delivery = sent.delivery
                settled = repository.settle(
                    session,
                    delivery.id,
                    worker=self.worker,
                    attempt=delivery.attempt,
                    values=values,
                )
                if not settled:
                    continue  # another worker took it over after our lease, or it was deleted
                repository.add_attempt(
                    session,
                    WebhookAttempt(
                        user_id=delivery.user_id,
                        endpoint_id=delivery.endpoint_id,
                        delivery_id=delivery.id,
                        event_id=delivery.event_id,
                        event_type=delivery.event_type,
                        attempt=delivery.attempt,
                        started_at=sent.started,
                        duration_ms=sent.duration_ms,
                        outcome=outcome,
                        response_status=sent.status,
                        response_body=sent.body,
                        error=sent.error,
                        next_attempt_at=retry_at,
                        worker=self.worker,
                    ),
                )
                outcomes.append(outcome)
            session.commit()
        return outcomes

    def _settlement(self, sent: Sent) -> tuple[AttemptOutcome, dict[str, object], datetime | None]:
        """The attempt's outcome, the delivery's new values, and when it is tried again."""
        now = utcnow()
        common: dict[str, object] = {
            "last_status": sent.status,
            "last_error": sent.error,
            "updated_at": now,
        }
        if sent.ok:
            settled = {"state": DeliveryState.DELIVERED, "next_attempt_at": None}
            return AttemptOutcome.DELIVERED, common | settled, None
        if sent.delivery.enabled and sent.delivery.attempt < self.settings.webhook_max_attempts:
            retry_at = now + timedelta(seconds=self.backoff(sent.delivery.attempt))
            return AttemptOutcome.RETRYING, common | {"next_attempt_at": retry_at}, retry_at
        settled = {"state": DeliveryState.FAILED, "next_attempt_at": None}
        return AttemptOutcome.FAILED, common | settled, None

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: doubling from the base, capped, jittered."""
        return jittered_backoff(
            attempt,
            self.settings.webhook_retry_base_seconds,
            self.settings.webhook_retry_max_seconds,
        )

    # -- sending ---------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.webhook_timeout_seconds),
            # Raw bytes are read, and only the first few: nothing compressed to unpack.
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the gate must see the address
            limits=httpx.Limits(max_connections=self.settings.webhook_concurrency),
        )

    async def _send(self, client: httpx.AsyncClient, delivery: ClaimedDelivery) -> Sent:
        started, clock = utcnow(), time.perf_counter()
        status: int | None = None
        body: str | None = None
        error: str | None = None
        timeout = self.settings.webhook_timeout_seconds
        try:
            if not delivery.enabled:
                raise _NotSent("The endpoint is disabled; this delivery was not sent.")
            payload = delivery.payload.encode()
            headers = signing.headers(
                self._signing_secrets(delivery), delivery.event_id, int(time.time()), payload
            )
            headers["Content-Type"] = "application/json"
            async with asyncio.timeout(timeout):
                async with outbound.stream(
                    client, self.policy, "POST", delivery.url, headers=headers, content=payload
                ) as response:
                    status = response.status_code
                    body = await _start_of(response)
            if 300 <= status < 400:
                location = response.headers.get("location", "")[:200]
                error = f"The endpoint answered {status}, a redirect to {location!r}; " + (
                    "redirects are not followed: register the final address."
                )
            elif not 200 <= status < 300:
                error = f"The endpoint answered {status}."
        except _NotSent as refused:
            error = str(refused)
        except OutboundRefused as refused:
            error = f"Not sent: {refused.reason}."
        except TimeoutError:
            error = f"No complete answer within {timeout:g} s."
        except httpx.ConnectError as exc:
            error = f"Could not connect: {_reason(exc)}."
        except httpx.HTTPError as exc:
            error = f"The request failed: {type(exc).__name__}: {_reason(exc)}."
        duration = int((time.perf_counter() - clock) * 1000)
        if error is not None:
            log.info("webhook delivery %s attempt %d: %s", delivery.id, delivery.attempt, error)
        return Sent(delivery, started, duration, status, body, error)

    def _signing_secrets(self, delivery: ClaimedDelivery) -> list[str]:
        """The current secret, and the previous one while a rotation's overlap lasts."""
        if self._cipher is None:
            self._cipher = cipher_for(self.settings)
        ciphertexts = [delivery.secret_ciphertext]
        if (
            delivery.previous_secret_ciphertext is not None
            and delivery.previous_secret_until is not None
            and delivery.previous_secret_until > utcnow()
        ):
            ciphertexts.append(delivery.previous_secret_ciphertext)
        try:
            return [self._cipher.decrypt(c)["secret"] for c in ciphertexts]
        except (CredentialsUnreadable, KeyError):
            raise _NotSent(
                "The endpoint's signing secret cannot be decrypted with the configured "
                "HANDPOST_SECRET_KEY; rotate the secret to make a new one."
            ) from None


class _NotSent(Exception):
    """The delivery could not be attempted at all; the message says why."""


async def _start_of(response: httpx.Response) -> str | None:
    """The first bytes of the body, decoded leniently; the rest is not read at all."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: RESPONSE_BODY_BYTES - len(kept)]
        if len(kept) >= RESPONSE_BODY_BYTES:
            break
    if not kept:
        return None
    return kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _reason(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__)[:300]


def purge_old_deliveries(database: Database, settings: Settings) -> str | None:
    """Forget settled deliveries and their log after ``webhook_log_days``."""
    cutoff = utcnow() - timedelta(days=settings.webhook_log_days)
    with database.session() as session:
        removed = repository.purge_before(session, cutoff)
        session.commit()
    return f"forgot {removed} old webhook rows" if removed else None
