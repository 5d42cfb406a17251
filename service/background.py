"""Periodic chores beside the dispatcher: clean-ups and renewals that keep the service tidy.

Every chore must be safe when several replicas run it at the same moment: it either does
something idempotent (deleting rows past their expiry) or claims its work in the database
with a conditional update, as the dispatcher claims posts. APScheduler only says when to look.
A chore that fails is logged and tried again at its next turn; it never stops the others.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from service.accounts import limits as server_limits
from service.config import Settings
from service.db import Database, utcnow
from service.idempotency import repository as idempotency_keys
from service.media.service import purge_unused
from service.notify.delivery import NotificationDeliverer, purge_old_notifications
from service.webhooks.delivery import WebhookDeliverer, purge_old_deliveries

log = logging.getLogger("handpost.background")


@dataclass(frozen=True)
class Chore:
    name: str
    every: timedelta
    # Returns what it did. A plain function runs in a worker thread (the database driver is
    # synchronous); a coroutine function (one that waits on the network) runs in the loop.
    run: Callable[[Database], str | None] | Callable[[Database], Awaitable[str | None]]


def purge_idempotency_keys(database: Database) -> str | None:
    with database.session() as session:
        purged = idempotency_keys.delete_expired(session, utcnow())
        session.commit()
    return f"forgot {purged} expired idempotency keys" if purged else None


DEFAULT_CHORES = (Chore("idempotency-keys", timedelta(minutes=10), purge_idempotency_keys),)


def default_chores(database: Database, settings: Settings) -> tuple[Chore, ...]:
    """Every chore a process that publishes runs, as configured."""
    from service.connect.lifecycle import TokenLifecycle

    deliverer = WebhookDeliverer(database, settings)
    tokens = TokenLifecycle(database, settings)
    every = timedelta(seconds=settings.token_check_seconds)
    return (
        *DEFAULT_CHORES,
        Chore(
            "webhook-deliveries", timedelta(seconds=settings.webhook_poll_seconds), deliverer.run
        ),
        Chore("webhook-log", timedelta(hours=1), partial(purge_old_deliveries, settings=settings)),
        Chore(
            "notifications",
            timedelta(seconds=settings.notify_poll_seconds),
            NotificationDeliverer(database, settings).run,
        ),
        Chore("notification-log", timedelta(hours=1), purge_old_notifications),
        # Looks hourly; each account's limits are asked for once a day (or an hour after a
        # failure), claimed by one replica.
        Chore(
            "server-limits",
            timedelta(hours=1),
            partial(server_limits.refresh_due, settings=settings),
        ),
        Chore("unused-media", timedelta(minutes=10), partial(purge_unused, settings=settings)),
        Chore("token-renewals", every, tokens.renew_due),
        Chore("token-warnings", timedelta(hours=1), tokens.warn),
        Chore("connect-tidy", timedelta(hours=1), tokens.tidy),
    )


class BackgroundChores:
    def __init__(
        self,
        database: Database,
        chores: tuple[Chore, ...] = DEFAULT_CHORES,
    ) -> None:
        self.database = database
        self.chores = chores
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(self) -> None:
        self._scheduler.start()
        for chore in self.chores:
            self._scheduler.add_job(
                self._run,
                "interval",
                args=[chore],
                seconds=chore.every.total_seconds(),
                id=chore.name,
                next_run_time=datetime.now(UTC),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )

    async def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    async def _run(self, chore: Chore) -> None:
        try:
            if inspect.iscoroutinefunction(chore.run):
                done = await chore.run(self.database)
            else:
                done = await asyncio.to_thread(chore.run, self.database)
        except Exception:
            log.exception("background chore %s failed; it runs again later", chore.name)
            return
        if done:
            log.info("%s: %s", chore.name, done)
