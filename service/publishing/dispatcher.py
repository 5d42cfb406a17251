"""The dispatcher: claims due posts from the database and publishes them.

APScheduler only decides when to look: a poll every few seconds (for posts written by other
replicas) and one wake-up at the next known due time. It never holds a job per post, so memory
and start-up do not grow with the number of scheduled posts. Everything else is in the
database: a post is claimed by one conditional UPDATE, under a lease, before anything is sent.

The duties are apart: ``Claims`` claims due posts (after ``Recovery`` took over dead workers'
ones) and runs the guard's last check, ``Leases`` keeps the held posts' leases alive,
``Recorder`` writes outcomes in batches, ``Outcomes`` says what an outcome writes. This class
keeps the sends in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from service.config import Settings
from service.db import Database, utcnow
from service.networks.base import FailureKind
from service.publishing.claims import Claimed, Claims
from service.publishing.leases import Leases
from service.publishing.outcomes import Finished, Outcomes
from service.publishing.publishers import PublishFailure, PublishResult
from service.publishing.recorder import Recorder
from service.publishing.recovery import Recovery
from service.publishing.registry import PublisherRegistry

log = logging.getLogger("handpost.dispatcher")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    def __init__(
        self, database: Database, settings: Settings, publishers: PublisherRegistry
    ) -> None:
        self.database = database
        self.settings = settings
        self.publishers = publishers
        self.worker = settings.worker_id or default_worker_id()
        self.outcomes = Outcomes(settings, self.worker)
        self.leases = Leases(database, settings, self.worker)
        self.claims = Claims(
            database,
            settings,
            self.worker,
            publishers,
            self.outcomes,
            Recovery(settings, publishers, self.outcomes),
        )
        self.recorder = Recorder(database, self.outcomes, self.leases, lambda: len(self._in_flight))
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = asyncio.Lock()
        self._look_again = False
        self._next_wake: datetime | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._renewer: asyncio.Task[None] | None = None
        # Posts claimed ahead of a free slot, each with its batch's guard check; the claim
        # under way, if any. On stop, posts not yet sent are handed back.
        self._ready: deque[tuple[Claimed, asyncio.Future[dict[str, PublishFailure]]]] = deque()
        self._claiming: asyncio.Task[bool] | None = None
        self._stopping = False
        self._looking: asyncio.Task[Any] | None = None  # the look (and its drain) under way

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scheduler.start()
        self._scheduler.add_job(
            self.look,
            "interval",
            seconds=self.settings.poll_seconds,
            id="poll",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            # look() lets only one drain run and asks it to go round again; no overlap warnings.
            max_instances=100,
            misfire_grace_time=None,
        )
        self._renewer = asyncio.create_task(self.leases.keep_renewing())
        log.info("dispatcher %s started", self.worker)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop looking; let sends already under way finish (their claims would expire anyway).

        Posts claimed ahead but not yet sent go back to the queue at once, rather than wait
        for their leases to lapse and another worker's recovery.
        """
        self._stopping = True
        self._scheduler.pause()  # no new looks; the one under way ends with its sends
        if self._claiming is not None:
            await asyncio.wait({self._claiming}, timeout=grace_seconds)
        unsent = [claimed.post.id for claimed, _ in self._ready]
        self._ready.clear()
        if unsent:
            await self.leases.hand_back(unsent)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace_seconds)
        if self.recorder.task is not None and self.recorder.busy:
            await asyncio.wait({self.recorder.task}, timeout=grace_seconds)
        if self._looking is not None and not self._looking.done():
            await asyncio.wait({self._looking}, timeout=grace_seconds)
        self._scheduler.shutdown(wait=False)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        self.leases.close()
        await self.publishers.aclose()

    def wake_at(self, when: datetime) -> None:
        """Look at ``when`` (or now, if it has passed). Safe to call from any thread."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._schedule_wake, when)

    def _schedule_wake(self, when: datetime) -> None:
        if self._stopping:
            return
        now = datetime.now(UTC)
        if self._next_wake is not None and self._next_wake <= when and self._next_wake > now:
            return  # an earlier wake-up is already set
        self._next_wake = when
        if not self._scheduler.running:
            return
        self._scheduler.add_job(
            self.look,
            "date",
            run_date=max(when, now),
            id="wake",
            replace_existing=True,
            max_instances=100,
            misfire_grace_time=None,
        )

    # -- the work --------------------------------------------------------------------------

    async def look(self) -> None:
        """Publish everything due now; then set the wake-up for the next due post."""
        if self._draining.locked():
            self._look_again = True
            return
        async with self._draining:
            self._looking = asyncio.current_task()
            self._next_wake = None
            while True:
                self._look_again = False
                await self._drain()
                if not self._look_again:
                    break
            next_due = await asyncio.to_thread(self.claims.next_due)
        if next_due is not None:
            self._schedule_wake(next_due)

    async def _drain(self) -> None:
        """Keep ``publish_concurrency`` sends in flight for as long as posts are due.

        Posts are claimed ahead of the free slots, so a slot whose send ends is filled at once
        instead of after a round trip to the database. The next claim starts while a
        concurrency's worth of posts is still waiting, and tops them up to two: its
        transaction and its guard check (which the posts must pass before they go) finish
        while those waiting go out. Claims of a concurrency's worth cost little per post,
        which is what a burst needs. Posts claimed ahead wait about two sends; their leases
        are renewed like those of posts in flight, and a stopping worker hands them back.
        (If it is killed, recovery sends them again: they carry no note of a send begun.)
        """
        concurrency = self.settings.publish_concurrency
        more_due = True  # the last claim got as many posts as it asked for
        while True:
            # A slot is free once its send is done; the outcome is written behind it. Sends
            # done but not yet written count against the limit beyond a margin, so that a slow
            # database holds claiming back instead of piling outcomes up in memory.
            unwritten = max(0, len(self.recorder.unwritten) - concurrency)
            free = concurrency - len(self._in_flight) - unwritten
            while self._ready and free > 0 and not self._stopping:
                self._launch(*self._ready.popleft())
                free -= 1
            waiting_posts = len(self._ready)
            if waiting_posts <= concurrency and more_due and not (self._claiming or self._stopping):
                wanted = max(0, free) + 2 * concurrency - waiting_posts
                self._claiming = asyncio.create_task(self._claim_ahead(wanted))
            claiming = self._claiming
            waiting: set[asyncio.Task[Any]] = set(self._in_flight)
            if claiming is not None:
                waiting.add(claiming)
            if free <= 0 and self.recorder.task is not None and self.recorder.busy:
                waiting.add(self.recorder.task)
            if not waiting:
                return
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if claiming is not None and claiming.done():
                self._claiming = None
                more_due = claiming.result()  # a failed claim ends this drain; the poll retries
            if done - {claiming}:
                more_due = True  # a send ended: look for more posts (or retries now due)

    async def _claim_ahead(self, limit: int) -> bool:
        """Claim up to ``limit`` due posts into the ready queue; the guard checks them meanwhile.

        True if it got all ``limit`` (so more may be due). The guard runs in a thread of its
        own while the posts wait and the next claim goes ahead: it is on no later post's path.
        """
        claimed = await asyncio.to_thread(self.claims.claim, limit)
        if claimed:
            refusals = asyncio.ensure_future(asyncio.to_thread(self.claims.guard, claimed))
            for one in claimed:
                self.leases.holding.add(one.post.id)
                self._ready.append((one, refusals))
        return len(claimed) == limit

    def _launch(
        self, claimed: Claimed, refusals: asyncio.Future[dict[str, PublishFailure]]
    ) -> None:
        task = asyncio.create_task(self._publish(claimed, refusals))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        task.add_done_callback(self._release(claimed.post.id))

    def _release(self, post_id: str) -> Callable[[asyncio.Task[None]], None]:
        """A done-callback: the post is settled (or left to the lease), so stop renewing it.

        A post whose outcome still awaits the writer stays held; the writer releases it.
        """

        def release(_task: asyncio.Task[None]) -> None:
            if post_id not in self.recorder.unwritten:
                self.leases.holding.discard(post_id)

        return release

    async def _publish(
        self, claimed: Claimed, refusals: asyncio.Future[dict[str, PublishFailure]]
    ) -> None:
        post, job = claimed.post, claimed.job
        started = utcnow()
        try:
            refusal = (await refusals).get(post.id)
            if refusal is not None:
                raise refusal
            if not claimed.publisher.may_resend_after_crash(job):
                job = replace(job, before_send=partial(self._note_send_started, post.id))
            result: PublishResult | PublishFailure = await claimed.publisher.publish(job)
        except PublishFailure as failure:
            result = failure
        except Exception as exc:  # a bug, not the network: the send may have happened
            log.exception("post %s: publisher raised", post.id)
            result = PublishFailure(
                FailureKind.UNKNOWN, f"Unexpected error while publishing: {exc!r}"
            )
        self.recorder.record_soon(Finished(post, started, utcnow(), result))

    async def _note_send_started(self, post_id: str) -> None:
        """Commit that the send begins, so that if this worker dies from here on, recovery
        knows the post may have gone out (and, before, that it did not)."""
        try:
            noted = await asyncio.to_thread(self.claims.mark_send_started, post_id)
        except Exception as exc:
            raise PublishFailure(
                FailureKind.RETRYABLE,
                f"Could not note the start of the send, so nothing was sent: {exc!r}",
            ) from None
        if not noted:
            raise PublishFailure(
                FailureKind.RETRYABLE,
                "This worker's claim had lapsed before the send, so nothing was sent.",
            )
