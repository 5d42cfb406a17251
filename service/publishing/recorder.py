"""Writes the outcomes of finished sends, in batches: one transaction per batch.

A group commit: in a burst, a transaction per few posts would cost more than the sends
themselves, and on SQLite the sends would queue one by one for the write lock. A send's slot
is free for the next post as soon as the network has answered; its post stays held (its lease
renewed) until its outcome is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from service.db import Database
from service.publishing import repository
from service.publishing.leases import Leases
from service.publishing.outcomes import Finished, Outcomes

log = logging.getLogger("handpost.dispatcher")

# Outcomes that finish while a write is under way are written together in the next one.
RECORD_BATCH = 64
# While other sends are in flight, the writer waits this long for their outcomes to join the
# batch.
RECORD_GATHER_SECONDS = 0.02


class Recorder:
    def __init__(
        self,
        database: Database,
        outcomes: Outcomes,
        leases: Leases,
        sends_in_flight: Callable[[], int],
    ) -> None:
        self.database = database
        self.outcomes = outcomes
        self.leases = leases
        self.sends_in_flight = sends_in_flight
        self._finished: list[Finished] = []
        # Posts whose outcome awaits the writer.
        self.unwritten: set[str] = set()
        self.task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def record_soon(self, finished: Finished) -> None:
        """Hand the outcome to the writer; the post stays claimed until it is written."""
        self.unwritten.add(finished.post.id)
        self._finished.append(finished)
        if not self.busy:
            self.task = asyncio.create_task(self._write())

    async def _write(self) -> None:
        if self.sends_in_flight():
            await asyncio.sleep(RECORD_GATHER_SECONDS)
        while self._finished:
            batch = self._finished[:RECORD_BATCH]
            del self._finished[:RECORD_BATCH]
            try:
                await asyncio.to_thread(self.record_many, batch)
            except Exception:
                log.exception("recording %d outcomes failed; recording them one by one", len(batch))
                for one in batch:  # so that one bad record cannot hold back the others
                    try:
                        await asyncio.to_thread(self.record_many, [one])
                    except Exception:  # left publishing: its lease lapses, recovery decides
                        log.exception("post %s: recording its outcome failed", one.post.id)
            for one in batch:
                self.unwritten.discard(one.post.id)
                self.leases.holding.discard(one.post.id)

    def record_many(self, batch: list[Finished]) -> None:
        """Settle the posts and log their attempts, all in one transaction."""
        prepared = [self.outcomes.of(one) for one in batch]
        worker = self.outcomes.worker
        with self.database.session() as session:
            settled = [(p.post.id, p.values) for p in prepared]
            if not repository.settle_many(session, worker, settled):
                session.rollback()  # some claim had lapsed: find out which, one by one
                for p in prepared:
                    if not repository.settle(session, p.post.id, worker, p.values):
                        p.attempt.message = (
                            f"{p.attempt.message} (This worker's claim had expired by then; "
                            "the post's state was settled by the recovery shown in the log.)"
                        )
            self.outcomes.log(session, [(p.post, p.attempt) for p in prepared])
            session.commit()
        for p in prepared:
            log.info("post %s: %s", p.post.id, p.attempt.outcome)
