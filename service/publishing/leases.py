"""The leases of the posts a worker holds: renewed while it works on them, handed back when
it stops, so that only a dead worker's claims lapse."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from service.config import Settings
from service.db import Database, utcnow
from service.publishing import repository

log = logging.getLogger("handpost.dispatcher")


class Leases:
    def __init__(self, database: Database, settings: Settings, worker: str) -> None:
        self.database = database
        self.settings = settings
        self.worker = worker
        # Posts this worker has claimed and not yet settled.
        self.holding: set[str] = set()
        # A thread of its own: renewals queued behind the shared pool's claims and recordings
        # (each may wait seconds for SQLite's write lock under load) let a live worker's
        # leases lapse, and another replica then took over posts this one was still sending.
        self._renewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lease-renewal")

    async def keep_renewing(self) -> None:
        """Extend the lease of every post still held, three times a lease.

        A lease only says "the worker is alive": a send that takes longer than the lease (a
        slow network, or posts queued behind the per-network limit) must not be taken over by
        another replica while this one is still sending it.
        """
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            if not self.holding:
                continue
            try:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._renewer, self._extend, set(self.holding))
            except Exception:  # the database may be briefly away; try again next time
                log.exception("renewing the leases of %d posts failed", len(self.holding))

    def _extend(self, post_ids: set[str]) -> None:
        until = utcnow() + timedelta(seconds=self.settings.lease_seconds)
        with self.database.session() as session:
            repository.renew_leases(session, post_ids, worker=self.worker, lease_until=until)
            session.commit()

    def close(self) -> None:
        self._renewer.shutdown(wait=False)

    async def hand_back(self, post_ids: list[str]) -> None:
        """Give posts not yet sent back to the queue at once (rather than at lease expiry)."""
        try:
            await asyncio.to_thread(self._release, post_ids)
        except Exception:  # their leases lapse, and recovery decides
            log.exception("handing back %d unsent posts failed", len(post_ids))
        self.holding.difference_update(post_ids)

    def _release(self, post_ids: list[str]) -> None:
        with self.database.session() as session:
            repository.release_claims(session, post_ids, worker=self.worker, now=utcnow())
            session.commit()
