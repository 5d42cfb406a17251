"""The notification chore: sends due notifications (email, push) and settles each.

Safe with several replicas, as the webhook deliveries are: notifications are claimed in the
database under a lease (repository.claim_due), so each is sent by one process; a failed one
comes due again after a jittered backoff, until ``notify_max_attempts``. One whose post was
already published or skipped by the time it is claimed is dropped, not sent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx

from service.config import Settings
from service.db import Database, utcnow
from service.notify import email, push, repository
from service.notify.models import Channel, NotificationState
from service.notify.repository import ClaimedNotification
from service.outbound import OutboundPolicy
from service.posts.models import PostState
from service.publishing.dispatcher import default_worker_id
from service.retry import jittered_backoff

log = logging.getLogger("handpost.notify")


@dataclass(frozen=True)
class Result:
    notification: ClaimedNotification
    error: str | None  # None: sent
    dropped: bool = False


class NotificationDeliverer:
    """One per process; ``run`` is the chore: send everything due, then return."""

    def __init__(
        self, database: Database, settings: Settings, policy: OutboundPolicy | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.policy = policy or settings.outbound
        self.worker = settings.worker_id or default_worker_id()
        self.batch = 8

    @property
    def lease(self) -> timedelta:
        """Longer than a round can take, so a live worker's notification is never taken over."""
        return timedelta(seconds=2 * self.settings.notify_timeout_seconds + 30)

    async def run(self, _database: Database | None = None) -> str | None:
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return None
        counts = {"sent": 0, "retrying": 0, "failed": 0, "dropped": 0}
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.notify_timeout_seconds),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the gate must see the address
        ) as client:
            while claimed:
                results = await asyncio.gather(*(self._send(client, n) for n in claimed))
                for outcome in await asyncio.to_thread(self._record, list(results)):
                    counts[outcome] += 1
                if len(claimed) < self.batch:
                    break
                claimed = await asyncio.to_thread(self._claim)
        return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or None

    def _claim(self) -> list[ClaimedNotification]:
        now = utcnow()
        with self.database.session() as session:
            claimed = repository.claim_due(
                session, now=now, limit=self.batch, worker=self.worker, lease_until=now + self.lease
            )
            session.commit()
        return claimed

    async def _send(self, client: httpx.AsyncClient, notification: ClaimedNotification) -> Result:
        if notification.post_state != PostState.DUE:
            return Result(notification, None, dropped=True)
        try:
            if notification.channel == Channel.EMAIL:
                await asyncio.wait_for(
                    asyncio.to_thread(
                        email.send,
                        self.settings,
                        notification.target,
                        notification.subject,
                        notification.body,
                    ),
                    timeout=self.settings.notify_timeout_seconds + 1,
                )
            else:
                await push.send(
                    client,
                    self.policy,
                    notification.target,
                    title=notification.subject,
                    body=notification.body,
                    click_url=notification.click_url,
                    seconds=self.settings.notify_timeout_seconds,
                )
        except (email.EmailNotSent, push.PushNotSent) as exc:
            return Result(notification, str(exc))
        except TimeoutError:
            return Result(notification, "No answer from the SMTP server in time.")
        except Exception as exc:  # a bug or an odd setting: record it, retry, never lose the row
            log.exception("notification %s: unexpected error", notification.id)
            return Result(notification, f"Unexpected error: {exc!r}"[:300])
        return Result(notification, None)

    def _record(self, results: list[Result]) -> list[str]:
        now = utcnow()
        outcomes: list[str] = []
        with self.database.session() as session:
            for result in results:
                notification = result.notification
                values: dict[str, object] = {"last_error": result.error, "updated_at": now}
                if result.dropped:
                    outcome = "dropped"
                    values |= {"state": NotificationState.DROPPED, "next_attempt_at": None}
                elif result.error is None:
                    outcome = "sent"
                    values |= {
                        "state": NotificationState.SENT,
                        "next_attempt_at": None,
                        "sent_at": now,
                    }
                elif notification.attempt < self.settings.notify_max_attempts:
                    outcome = "retrying"
                    delay = jittered_backoff(
                        notification.attempt,
                        self.settings.notify_retry_base_seconds,
                        self.settings.notify_retry_max_seconds,
                    )
                    values["next_attempt_at"] = now + timedelta(seconds=delay)
                else:
                    outcome = "failed"
                    values |= {"state": NotificationState.FAILED, "next_attempt_at": None}
                if result.error is not None:
                    log.info(
                        "notification %s (%s) attempt %d: %s",
                        notification.id,
                        notification.channel,
                        notification.attempt,
                        result.error,
                    )
                if repository.settle(
                    session,
                    notification.id,
                    worker=self.worker,
                    attempt=notification.attempt,
                    values=values,
                ):
                    outcomes.append(outcome)
            session.commit()
        return outcomes


# Sent, failed and dropped notifications are kept this long, then forgotten.
KEEP_SETTLED = timedelta(days=30)


def purge_old_notifications(database: Database) -> str | None:
    with database.session() as session:
        removed = repository.purge_settled_before(session, utcnow() - KEEP_SETTLED)
        session.commit()
    return f"forgot {removed} old notifications" if removed else None
